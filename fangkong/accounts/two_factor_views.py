"""Two-factor screens (accounts.two_factor): one's own two-factor page (enrol, see, remove, new backup
codes), the enrolment with its QR code, and the code page of the log-in's second step. Backup codes are
shown once, in the response to the POST that made them, never stored in clear or put in a session."""

from __future__ import annotations

from axes.helpers import get_lockout_response
from django import forms
from django.contrib import auth, messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from fangkong.accounts import two_factor


class CodeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Verification code"), max_length=32, strip=True,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "none",
                                                         "spellcheck": "false", "autofocus": True}))


class EnrolForm(CodeForm):
    code = forms.CharField(label=gettext_lazy("The six-digit code the app shows"), max_length=32, strip=True,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                                         "spellcheck": "false"}))


class PasswordForm(forms.Form):
    password = forms.CharField(label=gettext_lazy("Your password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("This is not your password."))
        return password


def _next(request: HttpRequest) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                                require_https=request.is_secure()):
        return url
    return reverse("areas:home")


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"  # a secret or backup codes on the page must not linger in a cache
    return response


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """One's own two-factor: on or off, the app's device, backup codes left; enrol, remove, new codes."""
    return render(request, "accounts/two_factor/account.html", {
        "summary": two_factor.summary(request.user),  # type: ignore[arg-type]
        "remove_form": PasswordForm(user=request.user, auto_id="remove_%s"),
        "codes_form": PasswordForm(user=request.user, auto_id="codes_%s"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    user = request.user
    if two_factor.authenticator(user) is not None:  # type: ignore[arg-type]
        messages.info(request, _("Two-factor log-in is already on. To move it to a new phone, remove it first."))
        return redirect("accounts:two_factor")
    device = two_factor.enrolling_device(user)  # type: ignore[arg-type]
    form = EnrolForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            enrolment = two_factor.confirm(request, user, form.cleaned_data["code"])  # type: ignore[arg-type]
            if enrolment.codes is not None:
                messages.success(request, _("Two-factor log-in is on."))
                return _no_store(render(request, "accounts/two_factor/backup_codes.html",
                                        {"codes": enrolment.codes, "next": _next(request)}))
            if enrolment.wait_seconds:
                form.add_error("code", _wait_message(enrolment.wait_seconds))
            else:
                form.add_error("code", _("This code is wrong or has expired: enter the code the app shows now."))
        status = 400
    return _no_store(render(request, "accounts/two_factor/enrol.html", {
        "form": form, "secret": two_factor.secret(device), "next": _next(request),
        "required": two_factor.state(request) == two_factor.ENROL,
    }, status=status))


@login_required
def enrol_qr(request: HttpRequest) -> HttpResponse:
    """The QR code of the device being enrolled, as an SVG image of its own (the page's <img> loads it)."""
    if two_factor.authenticator(request.user) is not None:  # type: ignore[arg-type]
        return HttpResponse(status=404)
    device = two_factor.enrolling_device(request.user)  # type: ignore[arg-type]
    return _no_store(HttpResponse(two_factor.qr_svg(device), content_type="image/svg+xml"))


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The log-in's second step: a code from the app or a backup code. Wrong codes count as failed log-ins
    (django-axes): at the limit the session is logged out and the lock-out page shown."""
    user = request.user
    next_url = _next(request)
    if two_factor.is_verified(user) or not two_factor.has_device(user):  # type: ignore[arg-type]
        request.session[two_factor.PENDING] = False  # nothing to verify (the devices were reset meanwhile)
        return redirect(next_url)
    if two_factor.locked_out(request, user):  # type: ignore[arg-type]
        return _lock_out(request)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            check = two_factor.check_code(user, form.cleaned_data["code"])  # type: ignore[arg-type]
            if check.device is not None:
                two_factor.passed(request, check.device)
                return redirect(next_url)
            if check.wait_seconds:
                form.add_error("code", _wait_message(check.wait_seconds))
            elif two_factor.code_failed(request, user):  # type: ignore[arg-type]
                return _lock_out(request)
            else:
                form.add_error("code", _("This code is wrong. Enter the code the app shows now, or a backup code."))
        status = 400
    return _no_store(render(request, "accounts/two_factor/verify.html", {"form": form, "next": next_url},
                            status=status))


def _wait_message(seconds: int) -> str:
    return ngettext("Too many wrong codes: wait %(n)d second, then try again.",
                    "Too many wrong codes: wait %(n)d seconds, then try again.", seconds) % {"n": seconds}


def _lock_out(request: HttpRequest) -> HttpResponse:
    credentials = {"username": request.user.get_username()}
    auth.logout(request)
    return get_lockout_response(request, None, credentials)


@login_required
@require_POST
def remove(request: HttpRequest) -> HttpResponse:
    form = PasswordForm(request.POST, user=request.user, auto_id="remove_%s")
    if not form.is_valid():
        return render(request, "accounts/two_factor/account.html", {
            "summary": two_factor.summary(request.user),  # type: ignore[arg-type]
            "remove_form": form, "codes_form": PasswordForm(user=request.user, auto_id="codes_%s"),
        }, status=400)
    two_factor.remove(request.user)  # type: ignore[arg-type]
    messages.success(request, _("Two-factor log-in is off: your devices and backup codes were removed."))
    return redirect("accounts:two_factor")


@login_required
@require_POST
def new_backup_codes(request: HttpRequest) -> HttpResponse:
    form = PasswordForm(request.POST, user=request.user, auto_id="codes_%s")
    summary = two_factor.summary(request.user)  # type: ignore[arg-type]
    if not summary.enabled:
        return redirect("accounts:two_factor")
    if not form.is_valid():
        return render(request, "accounts/two_factor/account.html", {
            "summary": summary, "codes_form": form,
            "remove_form": PasswordForm(user=request.user, auto_id="remove_%s"),
        }, status=400)
    codes = two_factor.regenerate_backup_codes(request.user)  # type: ignore[arg-type]
    return _no_store(render(request, "accounts/two_factor/backup_codes.html",
                            {"codes": codes, "next": reverse("accounts:two_factor")}))

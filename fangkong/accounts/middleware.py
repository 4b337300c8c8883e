"""Three gates every logged-in browser request passes.

SessionLimitMiddleware: a session ends after the role's idle timeout or lifetime, or when its account's
sessions were ended everywhere (accounts.sessions); the user lands on the log-in page with a message saying
why, in their language. An API call with a session that ended answers 401 like any anonymous one; API tokens
have no session and are not affected.

TwoFactorMiddleware: a session that owes its second factor (accounts.two_factor) — the code after the
password, or, for an account that must have two-factor and has none, the enrolment — reaches only that page,
log-out, the log-in page, the language switch and static files; every other page leads there (the page asked
for is kept as `next`). The API answers such a session as anonymous (401); bearer tokens are unaffected.

PasswordChangeRequiredMiddleware: a password handed out by a manager (generated or reset) is replaced at the
first log-in: until then every page of a logged-in session leads to the change-password form. API tokens
authenticate per request, not through the session, and are unaffected; so are log-out, the language switch
and static files."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fangkong.accounts import sessions, two_factor
from fangkong.core import permissions


def _minutes(limits: permissions.SessionLimits, why: str) -> int:
    return int((limits.idle if why == sessions.IDLE else limits.absolute).total_seconds() // 60)


class SessionLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        limits = permissions.session_limits(user)
        why = sessions.expiry(request, user, limits)
        if not why:
            return self.get_response(request)
        auth.logout(request)
        if request.path_info.startswith("/api/"):
            return self.get_response(request)  # anonymous now: the API answers 401
        if why == sessions.IDLE:
            n = _minutes(limits, why)
            text = ngettext("You were logged out after %(n)d minute without activity.",
                            "You were logged out after %(n)d minutes without activity.", n) % {"n": n}
        elif why == sessions.LIFETIME:
            hours = _minutes(limits, why) // 60
            text = ngettext("You were logged out: your session reached its maximum length of %(n)d hour.",
                            "You were logged out: your session reached its maximum length of %(n)d hours.",
                            hours) % {"n": hours}
        else:
            text = _("You were logged out: the sessions of your account were ended. Please log in again.")
        messages.warning(request, text)
        if request.method == "GET":
            return redirect_to_login(request.get_full_path())
        return redirect(settings.LOGIN_URL)


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        owed = two_factor.state(request)
        if not owed:
            return self.get_response(request)
        request.two_factor_pending = True  # type: ignore[attr-defined]  # the header shows no menu
        path = request.path_info
        if path.startswith("/api/"):
            request.user = AnonymousUser()
            return self.get_response(request)
        target = reverse("accounts:two_factor_verify" if owed == two_factor.VERIFY else "accounts:two_factor_enrol")
        exempt = (target, reverse("accounts:logout"), reverse("accounts:login"), "/i18n/",
                  settings.STATIC_URL or "/static/")
        if path.startswith(exempt):
            return self.get_response(request)
        if request.method == "GET":
            return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return redirect(target)


class PasswordChangeRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        # A session that still owes its second factor gives it first (TwoFactorMiddleware let it through to
        # the code or enrolment page only); the new password comes next.
        if getattr(request, "two_factor_pending", False):
            return self.get_response(request)
        if user is not None and user.is_authenticated and getattr(user, "must_change_password", False):
            change = reverse("accounts:password_change")
            exempt = (change, reverse("accounts:logout"), "/i18n/", "/api/", settings.STATIC_URL or "/static/")
            if not request.path_info.startswith(exempt):
                return redirect(change)
        return self.get_response(request)

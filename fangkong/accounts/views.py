"""Log-in, log-out (here or on every other device) and changing one's own password. Lock-out after repeated failures is django-axes' (settings.AXES_*).
The log-in's second step, the two-factor code, is in two_factor_views."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.accounts import services, sessions, two_factor
from fangkong.accounts.forms import LoginForm
from fangkong.audit.models import Action
from fangkong.audit.services import record


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_success_url(self) -> str:
        """After the password: the code page, or the enrolment, when the session owes its second factor
        (the page asked for follows as `next`)."""
        url = super().get_success_url()
        owed = two_factor.state(self.request)
        if owed:
            step = "accounts:two_factor_verify" if owed == two_factor.VERIFY else "accounts:two_factor_enrol"
            return f"{reverse(step)}?{urlencode({'next': url})}"
        return url


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5): a link or a prefetch cannot log a user out."""


class PasswordChangeView(auth_views.PasswordChangeView):
    """Everyone changes their own password (a manager hands out a generated one); the change is
    audit-logged without the password, and the session stays logged in (Django updates its hash)."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("areas:home")

    def form_valid(self, form):
        form.user.must_change_password = False  # saved with the new password
        response = super().form_valid(form)
        user = self.request.user
        record(user, Action.UPDATE, user, area_code=user.area.code if user.area_id else "", changes={"password": "changed"})
        messages.success(self.request, _("Your password has been changed."))
        return response


@login_required
@require_POST
def logout_others(request: HttpRequest) -> HttpResponse:
    """End every other session of one's own account (a phone left behind, a shared computer); this one
    stays logged in. Audit-logged."""
    valid_after = services.end_sessions(request.user, request.user)
    sessions.reissue(request, valid_after)
    messages.success(request, _("You were logged out on every other device."))
    return redirect("accounts:password_change")

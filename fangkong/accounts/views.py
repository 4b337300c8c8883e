"""Log-in, log-out and changing one's own password. Lock-out after repeated failures is django-axes' (settings.AXES_*)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy
from django.utils.translation import gettext as _

from fangkong.accounts.forms import LoginForm
from fangkong.audit.models import Action
from fangkong.audit.services import record


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


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

"""A password handed out by a manager (generated or reset) is replaced at the first log-in: until then
every page of a logged-in session leads to the change-password form. API tokens authenticate per
request, not through the session, and are unaffected; so are log-out, the language switch and static files."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse


class PasswordChangeRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "must_change_password", False):
            change = reverse("accounts:password_change")
            exempt = (change, reverse("accounts:logout"), "/i18n/", "/api/", settings.STATIC_URL or "/static/")
            if not request.path_info.startswith(exempt):
                return redirect(change)
        return self.get_response(request)

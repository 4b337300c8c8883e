"""API authentication: a bearer token (devices, scripts) or the browser session.

Token requests carry no cookies, so they need no CSRF check; session requests are CSRF-checked
(only once the session is known to be logged in, so an anonymous call answers 401, not 403).
"""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf

from fangkong.accounts.models import ApiToken

TOKEN_PREFIX = "fk_"
MAX_TOKEN_LENGTH = 100


class BearerToken(HttpBearer):
    """`Authorization: Bearer fk_...` (an ApiToken key; only its hash is stored)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        token = token.strip()
        if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
            return None
        user = ApiToken.authenticate(token)
        if user is not None:
            request.user = user  # views and services read the acting user from the request
        return user


class SessionAuth(APIKeyCookie):
    """The logged-in browser session (Django's session cookie), CSRF-protected for unsafe methods."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request) is not None:
            raise HttpError(403, gettext("CSRF check failed: reload the page and try again."))
        return user


API_AUTH = [BearerToken(), SessionAuth()]

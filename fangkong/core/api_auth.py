"""API authentication (a bearer token or the browser session) and the plumbing shared by the routers.

Token requests carry no cookies, so they need no CSRF check; session requests are CSRF-checked
(only once the session is known to be logged in, so an anonymous call answers 401, not 403).
"""


from typing import Any

import pydantic
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Field, Schema
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import LimitOffsetPagination
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

# --- Shared by the app routers (kept here so that they need not import fangkong.api) ---

MAX_ID = 2**53  # object ids in paths: positive and within what every client can represent
MAX_OFFSET = 10**9
# Free text from clients: no control characters (a NUL byte, for one, cannot be stored in PostgreSQL).
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
AREA_CODE_PATTERN = r"^[0-9]{4,15}$"


class Pagination(LimitOffsetPagination):
    """limit/offset with bounds, so that no request can ask the database for an absurd page."""

    class Input(Schema):
        limit: int = Field(50, ge=1, le=500)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)


def invalid_body(exc: pydantic.ValidationError) -> NinjaValidationError:
    """A service's pydantic error about the request body, as ninja's own 422 (one entry per location).

    Only input errors are converted: a pydantic error anywhere else (a response that does not fit its
    schema) stays a server error rather than blaming the client.
    """
    return NinjaValidationError([
        {"loc": ["body", *error["loc"]], "msg": error["msg"], "type": error["type"]}
        for error in exc.errors(include_url=False, include_context=False, include_input=False)
    ])


def acting_user(request: HttpRequest):
    """The authenticated user (set by either authenticator)."""
    return request.auth

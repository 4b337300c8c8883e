"""The plumbing shared by the API routers: id and text patterns, bounded pagination, the acting user.
(The authenticators themselves, a bearer token or the browser session, are accounts.api_auth.)
"""



import pydantic
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import LimitOffsetPagination

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

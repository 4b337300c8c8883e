"""The REST API (django-ninja): OpenAPI at /api/docs. Each app contributes a router from its api.py.

Authentication: `Authorization: Bearer fk_...` (an API token) or the logged-in browser session
(CSRF-checked). Every endpoint scopes with `Model.objects.restrict(user)`; out of scope is 404.
Errors keep one shape, ninja's own: {"detail": [{"loc": ["body", field], "msg": ...}]} for bad
input (422), {"detail": "..."} for 401/403/404.
"""


from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import ValidationError as NinjaValidationError

from fangkong.accounts.api import router as accounts_router
from fangkong.accounts.api_auth import API_AUTH
from fangkong.areas.api import router as areas_router
from fangkong.audit.api import router as audit_router
from fangkong.batch import router as batch_router
from fangkong.cases.api import router as cases_router
from fangkong.core.errors import FieldErrors
from fangkong.crosscheck.api import router as crosscheck_router
from fangkong.facilities.api import router as facilities_router
from fangkong.observation.api import router as observation_router
from fangkong.people.api import router as people_router
from fangkong.people.importer import ImportFileError
from fangkong.policy.api import router as policy_router
from fangkong.screening.api import router as screening_router
from fangkong.tracing.api import router as tracing_router

BODY_PARAM = "payload"  # every JSON body parameter has this name; it is left out of error locations

api = NinjaAPI(
    title="Fangkong API",
    version="1",
    description=__doc__,
    urls_namespace="api",
    docs_url="/docs",
    auth=API_AUTH,
)
for router in (accounts_router, areas_router, people_router, screening_router, crosscheck_router, cases_router,
               observation_router, facilities_router, tracing_router, policy_router, audit_router, batch_router):
    api.add_router("", router)


def _invalid(request: HttpRequest, errors: list[dict[str, Any]]) -> HttpResponse:
    return api.create_response(request, {"detail": errors}, status=422)


@api.exception_handler(NinjaValidationError)
def _schema_errors(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = []
    for error in exc.errors:
        loc = list(error.get("loc", []))
        if loc[:2] == ["body", BODY_PARAM]:
            loc = ["body", *loc[2:]]
        errors.append({**error, "loc": loc})
    return _invalid(request, errors)


@api.exception_handler(FieldErrors)
def _field_errors(request: HttpRequest, exc: FieldErrors) -> HttpResponse:
    return _invalid(request, [{"loc": ["body", field], "msg": str(msg), "type": "value_error"} for field, msg in exc.errors.items()])


@api.exception_handler(ImportFileError)
def _import_file_error(request: HttpRequest, exc: ImportFileError) -> HttpResponse:
    return _invalid(request, [{"loc": ["body", "file"], "msg": str(exc), "type": "value_error"}])


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": _("You may not do this.")}, status=403)

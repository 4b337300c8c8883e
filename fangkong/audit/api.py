"""API: the audit log, for commanders, within their own subtree. Personal data in changes is masked."""


import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from fangkong.audit.models import Action, AuditLog
from fangkong.core import permissions
from fangkong.core.api_auth import MAX_ID, TEXT_PATTERN, Pagination, acting_user
from fangkong.core.masking import mask_document, mask_phone

router = Router(tags=["audit"])

ANY_ACTION = Query(None, description="Only entries of this action")
MASKERS = {"doc_number": mask_document, "phone": mask_phone}


def _mask_changes(changes: Any) -> Any:
    """Before/after values of ID numbers and phones are shown masked, as in every list."""
    if not isinstance(changes, dict):
        return changes
    masked = {}
    for field, value in changes.items():
        mask = MASKERS.get(field)
        if mask and isinstance(value, list):
            value = [mask(v) if isinstance(v, str) else v for v in value]
        masked[field] = value
    return masked


class AuditOut(Schema):
    id: int
    time: dt.datetime
    username: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    area_code: str
    changes: dict[str, Any]

    @staticmethod
    def resolve_changes(obj: AuditLog) -> dict[str, Any]:
        return _mask_changes(obj.changes) or {}


@router.get("/audit", response=list[AuditOut], summary="Audit entries in scope, newest first (commanders)")
@paginate(Pagination)
def audit_list(
    request: HttpRequest,
    action: Action | None = ANY_ACTION,
    object_type: str | None = Query(None, max_length=50, pattern=TEXT_PATTERN),
    object_id: str | None = Query(None, max_length=40, pattern=TEXT_PATTERN),
    user_id: int | None = Query(None, ge=1, le=MAX_ID),
):
    user = acting_user(request)
    if not permissions.can_browse_audit(user):
        raise PermissionDenied
    entries = AuditLog.objects.restrict(user)
    if action:
        entries = entries.filter(action=action)
    if object_type:
        entries = entries.filter(object_type=object_type)
    if object_id:
        entries = entries.filter(object_id=object_id)
    if user_id:
        entries = entries.filter(user_id=user_id)
    return entries.order_by("-time", "-id")

"""Writing audit entries. Call these from services, inside the same transaction as the change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import models

from fangkong.audit.context import current
from fangkong.audit.models import Action, AuditLog
from fangkong.core.errors import actor

# Who acted: an account (accounts.models.User, which lies above audit), an anonymous user, or None for a
# job or a public link. The log reads its `pk` and `username` where it has them (core.errors.actor keeps
# only saved accounts), so any object will do.
Actor = object


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    return {name: _jsonable(getattr(obj, name)) for name in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for the fields that changed."""
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


def build_entry(user: Actor | None, action: str, obj: models.Model | None = None, *, changes: dict | None = None,
                area_code: str = "", object_type: str = "", object_id: str = "", object_repr: str = "") -> AuditLog:
    ctx = current.get()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
        area_code = area_code or getattr(obj, "area_code", "") or getattr(obj, "code", "")
    return AuditLog(
        user=actor(user),
        username=getattr(user, "username", "") or "",
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        area_code=area_code,
        changes=changes or {},
        request_id=ctx.request_id,
        ip_address=ctx.ip_address,
    )


def record(user: Actor | None, action: str, obj: models.Model | None = None, **kwargs) -> AuditLog:
    entry = build_entry(user, action, obj, **kwargs)
    entry.save()
    return entry


def record_reveal(user: Actor | None, obj: models.Model, fields: list[str]) -> AuditLog:
    return record(user, Action.REVEAL, obj, changes={"revealed": fields})

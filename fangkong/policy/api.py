"""API: the policy in force (everyone) and changing it (city commanders; each change a new version)."""


import copy
import datetime as dt
from typing import Any

import pydantic
from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import BaseModel, ConfigDict, Field, create_model

from fangkong.core.api_auth import TEXT_PATTERN, acting_user, invalid_body
from fangkong.policy.schema import Policy
from fangkong.policy.services import change_policy, current_policy, current_version

router = Router(tags=["policy"])


def _all_optional(model: type[BaseModel], name: str, **extra: Any) -> type[BaseModel]:
    """The model's fields, each optional and with its constraints kept: the body of a change."""
    fields: dict[str, Any] = {}
    for field_name, info in model.model_fields.items():
        optional = copy.copy(info)
        optional.default, optional.default_factory = None, None
        fields[field_name] = (info.annotation | None, optional)
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields, **extra)


PolicyChange = _all_optional(
    Policy, "PolicyChange",
    note=(str, Field("", max_length=200, pattern=TEXT_PATTERN, description="Why the policy changes")),
)
PolicyChange.__doc__ = "Only the given fields change; the result must be a consistent policy."


class PolicyOut(Schema):
    version: int  # 0: the built-in 2020 defaults, never changed
    note: str
    created_at: dt.datetime | None
    created_by: str | None
    policy: Policy


def _policy_out() -> dict[str, Any]:
    version = current_version()
    return {
        "version": version.version if version else 0,
        "note": version.note if version else "",
        "created_at": version.created_at if version else None,
        "created_by": version.created_by.username if version and version.created_by else None,
        "policy": current_policy(),
    }


@router.get("/policy", response=PolicyOut, summary="The policy in force")
def policy_detail(request: HttpRequest):
    return _policy_out()


@router.put("/policy", response=PolicyOut, summary="Change the policy (city commanders): a new version")
def policy_change(request: HttpRequest, payload: PolicyChange):  # type: ignore[valid-type]
    values = payload.model_dump(exclude_unset=True, mode="json")
    note = values.pop("note", "") or ""
    try:
        change_policy(acting_user(request), values, note=note)  # PermissionDenied → 403
    except pydantic.ValidationError as exc:  # the merged policy is inconsistent → 422 per field
        raise invalid_body(exc) from exc
    return _policy_out()

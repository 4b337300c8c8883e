"""Reading and changing the policy. Each change is a new version and an audit entry."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from fangkong.accounts.models import User
from fangkong.areas.models import Area, Level
from fangkong.audit.models import Action
from fangkong.audit.services import diff, record
from fangkong.core import permissions
from fangkong.policy.models import PolicyVersion
from fangkong.policy.schema import Policy


def current_version() -> PolicyVersion | None:
    return PolicyVersion.objects.order_by("-version").first()


def current_policy() -> Policy:
    """The policy in force; the 2020 defaults until a commander changes anything."""
    latest = current_version()
    return Policy.model_validate(latest.data) if latest else Policy()


def _first_city_code() -> str:
    return Area.objects.filter(level=Level.CITY).order_by("code").values_list("code", flat=True).first() or ""


def change_policy(user: User, new_values: dict[str, Any], note: str = "") -> PolicyVersion | None:
    """Validate and store a new version. Raises pydantic.ValidationError on bad values. Values equal to
    the policy in force store nothing (no version, no audit entry) and return None."""
    if not permissions.can_change_policy(user):
        raise PermissionDenied
    merged = {**current_policy().model_dump(), **new_values}
    policy = Policy.model_validate(merged)
    for _attempt in range(3):
        try:
            with transaction.atomic():
                latest = current_version()
                before = Policy.model_validate(latest.data).model_dump() if latest else Policy().model_dump()
                if before == policy.model_dump():
                    return None
                number = (latest.version if latest else 0) + 1
                version = PolicyVersion.objects.create(version=number, data=policy.model_dump(), note=note, created_by=user)
                changes: dict[str, Any] = diff(before, policy.model_dump())
                if note:
                    changes["_note"] = note
                # Filed under the city, so every commander of the city can browse policy changes.
                city_code = user.area.code[:4] if user.area is not None else _first_city_code()
                record(user, Action.POLICY, version, object_type="policy.policy", object_id=str(number),
                       object_repr=f"v{number}", area_code=city_code, changes=changes)
                return version
        except IntegrityError:
            continue  # another commander saved the same version number at the same moment
    raise RuntimeError("could not store the policy version")

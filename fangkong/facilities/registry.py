"""The registry of facilities: creating and changing a facility with its bed capacities, and closing
beds for cleaning (or reopening them). A capacity never drops below the beds in use.

A facility to change comes from facilities.access (access_facility, access_facility_work): the
services trust it; creating one is for those who register facilities.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.core import permissions
from fangkong.core.errors import FieldErrors
from fangkong.facilities.models import BedPool, Facility


def save_facility(user: User, values: dict[str, Any], facility: Facility | None = None,
                  beds: dict[str, int] | None = None) -> Facility:
    """Create or change a facility and its bed capacities. A capacity can't drop below the beds in use."""
    if not permissions.can_register_facilities(user):
        raise PermissionDenied
    area = values.get("area")
    if area is None or len(area.code) < 6 or not user.scope.covers_area_code(area.code):
        raise FieldErrors({"area": _("Choose a district in your area of responsibility.")})
    with transaction.atomic():
        target = Facility.objects.select_for_update().get(pk=facility.pk) if facility else Facility()
        before = {f: str(getattr(target, f, "")) for f in values} if facility else {}
        for name, value in values.items():
            setattr(target, name, value)
        if Facility.objects.filter(name=target.name).exclude(pk=target.pk).exists():
            raise FieldErrors({"name": _("Another facility has this name.")})
        target.save()
        changes: dict[str, list[Any]] = {f: [before.get(f), str(v)] for f, v in values.items() if before.get(f) != str(v)}
        for kind, capacity in (beds or {}).items():
            pool = BedPool.objects.select_for_update().filter(facility=target, kind=kind).first()
            if pool is None:
                if capacity:
                    BedPool.objects.create(facility=target, kind=kind, capacity=capacity)
                    changes[f"beds_{kind}"] = [0, capacity]
                continue
            in_use = pool.occupied + pool.booked + pool.closed
            if capacity < in_use:
                raise FieldErrors({f"beds_{kind}": _("%(n)d beds of this kind are in use or closed: the capacity cannot be lower.") % {"n": in_use}})
            if capacity != pool.capacity:
                changes[f"beds_{kind}"] = [pool.capacity, capacity]
                pool.capacity = capacity
                pool.save(update_fields=["capacity"])
        record(user, Action.UPDATE if facility else Action.CREATE, target, object_type="facilities.facility",
               object_repr=target.name, changes=changes)
    return target


def change_closed_beds(user: User, facility: Facility, kind: str, delta: int, *, now: dt.datetime | None = None) -> BedPool:
    """Close `delta` free beds for cleaning (delta > 0) or reopen them (delta < 0)."""
    if delta == 0:
        raise FieldErrors({"count": _("Give a number of beds.")})
    pools = BedPool.objects.filter(facility=facility, kind=kind)
    with transaction.atomic():
        if delta > 0:
            done = pools.filter(capacity__gte=F("occupied") + F("booked") + F("closed") + delta).update(closed=F("closed") + delta)
            message = _("Only free beds can be closed: fewer than %(n)d are free.") % {"n": delta}
        else:
            done = pools.filter(closed__gte=-delta).update(closed=F("closed") + delta)
            message = _("Fewer than %(n)d beds are closed.") % {"n": -delta}
        if not done:
            raise FieldErrors({"count": message})
        record(user, Action.UPDATE, facility, object_type="facilities.facility", object_repr=facility.name,
               changes={f"closed_{kind}": delta})
    return BedPool.objects.get(facility=facility, kind=kind)

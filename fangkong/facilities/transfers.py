"""Transfers (转运): moving a transfer order along, requested → dispatched → picked up → arrived, each
step timestamped, or cancelling it (the booked bed is given back).

A transfer comes from facilities.access.access_transfer: the services trust it.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.core import permissions
from fangkong.core.errors import FieldErrors, clean_text
from fangkong.facilities.beds import cancel_booking
from fangkong.facilities.models import TRANSFER_STEPS, Transfer, TransferStatus


def advance_transfer(user: User, transfer: Transfer, to_status: str, *, vehicle_label: str = "",
                     now: dt.datetime | None = None) -> Transfer:
    """requested → dispatched → picked up → arrived, each step timestamped; nothing else."""
    now = now or timezone.now()
    label = clean_text(vehicle_label, "vehicle_label", limit=50)
    with transaction.atomic():
        locked = Transfer.objects.select_for_update().get(pk=transfer.pk)
        step = TRANSFER_STEPS.get(locked.status)
        if step is None or step[0] != to_status:
            allowed = TransferStatus(step[0]).label if step else _("none")
            raise FieldErrors({"status": _("A transfer that is %(current)s cannot become %(target)s. Next: %(next)s.") % {
                "current": TransferStatus(locked.status).label, "target": transfer_label(to_status), "next": allowed}})
        before = locked.status
        locked.status = to_status
        setattr(locked, step[1], now)
        if label:
            locked.vehicle_label = label
        locked.save()
        record(user, Action.UPDATE, locked, object_type="facilities.transfer", object_repr=str(locked.case_id),
               area_code=locked.area_code, changes={"status": [before, to_status]})
    return locked


def cancel_transfer(user: User, transfer: Transfer, reason: str, *, now: dt.datetime | None = None) -> Transfer:
    """Call a transfer off (those who place people); its booked bed is given back."""
    if not permissions.can_place(user):
        raise PermissionDenied
    text = clean_text(reason, "reason", limit=200, required=True)
    if transfer.status in (TransferStatus.ARRIVED, TransferStatus.CANCELLED):
        raise FieldErrors({"status": _("This transfer is over.")})
    cancel_booking(user, transfer.stay, text, now=now)
    transfer.refresh_from_db()
    return transfer


def transfer_label(status: str) -> str:
    return str(TransferStatus(status).label) if status in TransferStatus.values else status

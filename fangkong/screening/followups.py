"""The follow-up queue: an item opened by a flagged visit is taken up into the four categories or
dismissed with a reason, once.

The item comes from `screening.access.access_follow_up` (who may handle it and whether it is in
scope, checked once there); these functions trust it and only lock it against a second handling.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.cases.services import open_case_from_flag
from fangkong.core.errors import FieldErrors
from fangkong.screening.models import FollowUp, FollowUpStatus, Reason
from fangkong.screening.validation import NOTE_LENGTH


class FollowUpClosed(ValueError):
    """The item was taken up or dismissed already."""


def _handle(user: User, item: FollowUp, status: str, note: str) -> FollowUp:
    with transaction.atomic():
        locked = FollowUp.objects.select_for_update().get(pk=item.pk)
        if locked.status != FollowUpStatus.OPEN:
            raise FollowUpClosed(_("This item was handled already."))
        before = locked.status
        locked.status, locked.handled_by, locked.handled_at = status, user, timezone.now()
        locked.note = (note or "").strip()[:NOTE_LENGTH]
        locked.save(update_fields=["status", "handled_by", "handled_at", "note"])
        if status == FollowUpStatus.DISMISSED:
            record(user, Action.UPDATE, locked, object_repr=f"{'、'.join(locked.reason_labels)}: {locked.resident.name}",
                   changes={"status": [before, status], "_note": locked.note})
    return locked


# The categories (四类人员) an item may be taken up into, by its reason; the first is the default.
TAKE_UP_CATEGORIES = {
    Reason.FEVER.value: ("fever", "suspected"),
    Reason.SYMPTOMS.value: ("fever", "suspected"),
    Reason.CONTACT.value: ("close_contact", "suspected"),
}


def take_up_categories(item: FollowUp) -> list[str]:
    """The categories of all the item's reasons, those of its most pressing reason first."""
    categories: list[str] = []
    for reason in item.reason_codes:
        categories += [c for c in TAKE_UP_CATEGORIES[reason] if c not in categories]
    return categories


def take_follow_up(user: User, item: FollowUp, note: str = "", category: str = "") -> FollowUp:
    """Take an item up into a category of the four-categories pipeline: the person's case is opened
    (or moved along its state machine) in the same transaction as the item is closed, so neither
    happens without the other. An illegal move (a confirmed patient back to fever) is refused."""
    allowed = take_up_categories(item)
    category = category or allowed[0]
    if category not in allowed:
        raise FieldErrors({"category": _("This item cannot be taken up into that category.")})
    with transaction.atomic():
        taken = _handle(user, item, FollowUpStatus.TAKEN, note)
        check = item.person_check
        evidence = f"{check.temperature} °C" if check.temperature is not None else ""
        reason = f"{'、'.join(item.reason_labels)}（{item.visit.date:%Y-%m-%d}）" + (f" {taken.note}" if taken.note else "")
        open_case_from_flag(user, item.resident, reason[:200], status=category, flagged_at=item.created_at,
                            source_ref=f"screening-follow-up:{item.pk}", evidence=evidence)
    return taken


def dismiss_follow_up(user: User, item: FollowUp, note: str) -> FollowUp:
    """Dismiss an item with a reason (e.g. a misreading, measured again at 36.6 °C); audit-logged."""
    if not (note or "").strip():
        raise FieldErrors({"note": _("Give the reason for dismissing this item.")})
    return _handle(user, item, FollowUpStatus.DISMISSED, note)

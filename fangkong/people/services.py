"""Domain operations on residents, used by the UI, the API, imports and the apps above alike.

Each takes the acting user and objects reached through `people.access` (or an app's own access
function): it trusts them and does not check the user again. It runs in a transaction and writes the
audit log (before/after values for changes; the revealed fields for reveals).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.areas.models import Household
from fangkong.areas.services import set_vacancy
from fangkong.audit.models import Action
from fangkong.audit.services import diff, record, record_reveal, snapshot
from fangkong.core.errors import FieldErrors
from fangkong.people.models import Resident
from fangkong.people.moves import residents_moved
from fangkong.people.validation import clean_resident


def reveal(user: User, resident: Resident) -> dict[str, str]:
    """Full document number and phone of a resident (reached with `permissions.can_reveal`); audit-logged."""
    record_reveal(user, resident, ["doc_number", "phone"])
    return {"doc_number": resident.doc_number, "phone": resident.phone}


def follow_moved_buildings(building_ids: Sequence[int]) -> None:
    """Buildings moved to another grid (areas.grids): their residents take their household's new area
    code, and the rows other apps keep under it follow (set-based, inside the move's transaction)."""
    residents = Resident.objects.filter(household__building_id__in=list(building_ids))
    moved = list(residents.values_list("id", flat=True))
    residents.update(
        area_code=Subquery(Household.objects.filter(pk=OuterRef("household_id")).values("area_code")[:1]))
    residents_moved(moved)


def _check_unique_document(values: dict[str, Any], exclude_pk: int | None = None) -> None:
    clash = Resident.objects.filter(doc_type=values["doc_type"], doc_number=values["doc_number"])
    if exclude_pk:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise FieldErrors({"doc_number": _("Another resident already has this document number.")})


def create_resident(user: User | None, household: Household, raw: dict[str, Any], *,
                    is_new_occupant: bool = False) -> Resident:
    """Add a resident to a household the user may add residents to (`permissions.can_edit_residents`);
    the audit log names the user (None: nobody logged in, as for a job)."""
    values = clean_resident(raw)
    try:
        with transaction.atomic():
            _check_unique_document(values)
            resident = Resident(household=household, is_new_occupant=is_new_occupant, **values)
            resident.save()
            record(user, Action.CREATE, resident, changes=diff({}, snapshot(resident, Resident.AUDITED_FIELDS)))
            set_vacancy(user, household, None)  # someone lives there now
    except IntegrityError as exc:  # a concurrent creation of the same document
        raise FieldErrors({"doc_number": _("Another resident already has this document number.")}) from exc
    return resident


def update_resident(user: User, resident: Resident, raw: dict[str, Any], household: Household | None = None) -> Resident:
    """Apply changed fields to a resident the user may edit (`permissions.can_edit_residents`); `raw` holds
    the full set of editable fields (as from a form). A new `household` must lie in the user's scope too."""
    if household is not None and not Household.objects.restrict(user).filter(pk=household.pk).exists():
        raise PermissionDenied
    values = clean_resident(raw)
    try:
        with transaction.atomic():
            locked = Resident.objects.select_for_update().get(pk=resident.pk)
            _check_unique_document(values, exclude_pk=locked.pk)
            before = snapshot(locked, Resident.AUDITED_FIELDS)
            for name, value in values.items():
                setattr(locked, name, value)
            if household is not None:
                locked.household = household
            after = snapshot(locked, Resident.AUDITED_FIELDS)
            changes = diff(before, after)
            if changes:
                old_area = locked.area_code
                locked.save()  # takes the household's area code
                record(user, Action.UPDATE, locked, changes=changes)
                if locked.area_code != old_area:
                    residents_moved([locked.pk])
    except IntegrityError as exc:
        raise FieldErrors({"doc_number": _("Another resident already has this document number.")}) from exc
    return locked

"""The responsible worker (包保责任人) of an observation file: who may be one, assigning them per file or
for a whole area at once (audit-logged), and who sees a person's full name and phone on the board.

The rule of the full name and phone is the people app's reveal rule (a role that may reveal, with the
person in scope) plus the file's own responsible worker, who calls the person every day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import Role, User
from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.core import permissions
from fangkong.core.errors import FieldErrors
from fangkong.core.masking import mask_name, mask_phone
from fangkong.observation.files import check_responsible
from fangkong.observation.models import FileStatus, ObservationFile

# The roles that follow people up day by day (commanders oversee; they are not anybody's 包保责任人).
RESPONSIBLE_ROLES = (Role.GRID_WORKER, Role.COMMUNITY_WORKER)


def can_see_contact(user: User, file: ObservationFile) -> bool:
    """Full name and phone: the file's responsible worker, and a role that may reveal with the person in scope."""
    if not getattr(user, "is_authenticated", False):
        return False
    if file.responsible_id is not None and file.responsible_id == user.pk:
        return True
    return permissions.can_reveal_in(user, file.area_code)


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str
    full: bool


def contact_of(user: User, file: ObservationFile) -> Contact:
    resident = file.resident
    if can_see_contact(user, file):
        return Contact(resident.name, resident.phone, True)
    return Contact(mask_name(resident.name), mask_phone(resident.phone), False)


def record_contacts_shown(user: User, files: Sequence[ObservationFile], *, area_code: str, where: str) -> None:
    """A page that showed full phones is a reveal: one audit entry naming the files."""
    ids = sorted({f.pk for f in files})
    if ids:
        record(user, Action.REVEAL, object_type="observation.file", object_repr=where[:200], area_code=area_code,
               changes={"revealed": ["name", "phone"], "files": ids[:1000]})


def _covering_codes(area_code: str) -> list[str]:
    return [area_code[:n] for n in range(4, len(area_code) + 1)]


def candidates(user: User, area_code: str) -> QuerySet[User]:
    """Active grid and community workers who may follow people up under `area_code`: those whose area
    lies in it or covers it, and whom the acting user sees (in their scope)."""
    workers = User.objects.filter(is_active=True, role__in=RESPONSIBLE_ROLES).select_related("area")
    workers = workers.filter(Q(area__code__startswith=area_code) | Q(area__code__in=_covering_codes(area_code)))
    if not user.scope.everything:
        workers = workers.filter(area__code__startswith=user.scope.area_code or "-")
    return workers.order_by("area__code", "last_name", "first_name", "username")


def worker_label(worker: User) -> str:
    name = worker.get_full_name() or worker.username
    return f"{name} · {worker.area.name}" if worker.area is not None else name


def _candidate(user: User, area_code: str, worker_id: int | str | None) -> User | None:
    if worker_id in (None, ""):
        return None
    worker = candidates(user, area_code).filter(pk=worker_id).first()
    if worker is None:
        raise FieldErrors({"responsible": _("Choose a grid or community worker of this area.")})
    return worker


def _name(worker: User | None) -> str:
    return (worker.get_full_name() or worker.username) if worker else ""


def assign(user: User, file: ObservationFile, worker_id: int | str | None) -> ObservationFile:
    """Make a worker (or nobody, for an empty choice) the file's responsible worker. The file comes from
    `access_file(user, pk, rule=permissions.can_assign_responsible)`."""
    worker = _candidate(user, file.area_code, worker_id)
    with transaction.atomic():
        locked = ObservationFile.objects.select_for_update(of=("self",)).select_related("resident", "responsible").get(pk=file.pk)
        if locked.status != FileStatus.OPEN:
            raise FieldErrors({"responsible": _("This observation file is closed.")})
        check_responsible(worker, locked.resident)
        if locked.responsible_id == (worker.pk if worker else None):
            return locked
        before = _name(locked.responsible)
        locked.responsible = worker
        locked.save(update_fields=["responsible", "updated_at"])
        record(user, Action.UPDATE, locked, object_type="observation.file", object_repr=locked.resident.name,
               changes={"responsible": [before, _name(worker)]})
    return locked


@dataclass(frozen=True)
class BulkResult:
    assigned: int
    skipped: int  # outside the worker's area


def assign_in_area(user: User, area_code: str, worker_id: int | str | None, *, file_ids: Iterable[int] = (), unassigned: bool = False) -> BulkResult:
    """Assign one worker to many open files of an area at once: the ticked ones (`file_ids`) or, with
    `unassigned`, every open file without a responsible worker. Files outside the worker's own area are
    skipped (a grid worker follows up their grid). One UPDATE, one audit entry naming the files."""
    if not permissions.can_assign_responsible(user) or not user.scope.covers_area_code(area_code):
        raise PermissionDenied
    worker = _candidate(user, area_code, worker_id)
    if worker is None or worker.area is None:  # a candidate has an area always (candidates() selects by it)
        raise FieldErrors({"responsible": _("Choose a grid or community worker of this area.")})
    files = ObservationFile.objects.within(user, area_code).filter(status=FileStatus.OPEN)
    if unassigned:
        files = files.filter(responsible__isnull=True)
    else:
        ids = [int(pk) for pk in file_ids]
        if not ids:
            raise FieldErrors({"files": _("Tick the people to assign, or choose everybody without a responsible worker.")})
        files = files.filter(pk__in=ids)
    with transaction.atomic():
        rows = list(files.select_for_update(of=("self",)).values_list("pk", "area_code"))
        fits = [pk for pk, code in rows if code.startswith(worker.area.code)]
        ObservationFile.objects.filter(pk__in=fits).update(responsible=worker, updated_at=timezone.now())
        if fits:
            record(user, Action.UPDATE, object_type="observation.file", object_repr=_("Responsible worker for many files"),
                   area_code=area_code, changes={"responsible": _name(worker), "files": fits[:1000], "count": len(fits)})
    return BulkResult(len(fits), len(rows) - len(fits))

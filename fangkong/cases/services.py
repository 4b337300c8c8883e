"""Status changes of the four categories: taking a person up, moving them along the state machine, their
severity, and the cure check a discharge needs. Used by the UI, the API, the lab import and the apps
above (screening, observation, tracing). The caller hands in a case or a resident it reached through an
access function (cases.access): the services trust it and do not check the user again. Each runs in a
transaction and writes the status history and the audit log, refreshes the placement state
(cases.placement) and fires the status hooks (cases.hooks) for the apps above.

For the screening app: `open_case_from_flag(user, resident, reason, source=..., flagged_at=...)` takes
a follow-up item (fever, symptoms, possible contact) into a category; `dismiss_flag(...)` records a
dismissal with its reason. Neither needs anything from the screening app.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.cases.hooks import DECEASED, STATUS_CHANGED
from fangkong.cases.models import Case, NucleicAcidTest, Result, Severity, Source, Status, StatusChange
from fangkong.cases.placement import refresh_placement
from fangkong.cases.transitions import CLOSED, allowed, is_allowed, routing_category
from fangkong.core.errors import FieldError, FieldErrors, actor, clean_text
from fangkong.people.models import Resident
from fangkong.people.moves import id_chunks
from fangkong.policy.schema import Policy
from fangkong.policy.services import current_policy

FUTURE_TOLERANCE = dt.timedelta(minutes=5)
TEXT_LIMIT = 200  # reason, evidence, cure override: the history's columns


class TransitionRefused(FieldError):
    """An illegal status change; str() is the user-facing message, `errors` names the field."""

    field = "to_status"


def status_label(status: str | None) -> str:
    return str(Status(status).label) if status else _("no case")


def refusal(current: str | None, target: str) -> TransitionRefused:
    """Why `current` cannot become `target`, naming the allowed next statuses (the case page shows it
    for a status its form does not offer)."""
    nexts = [status_label(s) for s in Status.values if s in allowed(current)]
    if not nexts:
        return TransitionRefused(_("%(current)s is final: the status cannot change any more.") % {"current": status_label(current)})
    return TransitionRefused(
        _("A person cannot go from %(current)s to %(target)s. Allowed next: %(allowed)s.")
        % {"current": status_label(current), "target": status_label(target), "allowed": "、".join(nexts)})


def _check_target(current: str | None, target: str, severity: str) -> str:
    if target not in Status.values:
        raise TransitionRefused(_("Unknown status."))
    if not is_allowed(current, target):
        raise refusal(current, target)
    if target == Status.CONFIRMED:
        if severity not in Severity.values:
            raise FieldErrors({"severity": _("A confirmed case needs its severity: mild, moderate, severe or critical.")})
        return severity
    return ""


def _history(user: User | None, case: Case, before: tuple[str, str], reason: str, evidence: str, test: NucleicAcidTest | None,
             now: dt.datetime) -> StatusChange:
    change = StatusChange.objects.create(
        case=case, from_status=before[0], to_status=case.status, from_severity=before[1], to_severity=case.severity,
        reason=reason, evidence=evidence, test=test, changed_by=actor(user),
        changed_at=now, area_code=case.area_code)
    changes: dict[str, Any] = {"status": [before[0] or None, case.status], "reason": reason}
    if before[1] != case.severity:
        changes["severity"] = [before[1] or None, case.severity or None]
    if evidence:
        changes["evidence"] = evidence
    record(user, Action.UPDATE if before[0] else Action.CREATE, case, object_type="cases.case",
           object_repr=case.resident.name, changes=changes)
    return change

# --- Opening a case ------------------------------------------------------------------------------

def open_case(user: User, resident: Resident, status: str, reason: str, *, severity: str = "", evidence: str = "",
              source: str = Source.MANUAL, source_ref: str = "", flagged_at: dt.datetime | None = None,
              now: dt.datetime | None = None) -> Case:
    """Take a person into a category. A person with a case already moves along the transition table
    (taking up the same status again changes nothing). `resident` comes from cases.access.access_resident
    (or an app above that reached the person in its own scope)."""
    reason = clean_text(reason, "reason", limit=TEXT_LIMIT, required=True)
    evidence = clean_text(evidence, "evidence", limit=TEXT_LIMIT)
    if source not in Source.values:
        raise FieldErrors({"source": _("Unknown source.")})
    now = now or timezone.now()
    if flagged_at and flagged_at > now + FUTURE_TOLERANCE:
        raise FieldErrors({"flagged_at": _("This time lies in the future.")})
    for _attempt in range(2):
        existing = Case.objects.filter(resident=resident).first()
        if existing is not None:
            if existing.status == status and (status != Status.CONFIRMED or existing.severity == severity):
                return existing
            return transition(user, existing, status, reason, severity=severity, evidence=evidence, now=now,
                              flagged_at=flagged_at, source=source, source_ref=source_ref)
        severity = _check_target(None, status, severity)
        try:
            with transaction.atomic():
                case = Case.objects.create(
                    resident=resident, status=status, severity=severity, category=routing_category(status, severity),
                    status_since=now, opened_at=now, opened_by=actor(user),
                    flagged_at=flagged_at, source=source, source_ref=source_ref[:64], area_code=resident.area_code)
                _history(user, case, ("", ""), reason, evidence, None, now)
                refresh_placement(case, now=now)
                STATUS_CHANGED.fire(user, case, "", now)
                return case
        except IntegrityError:
            continue  # someone opened the same person's case at the same moment: move it along instead
    raise TransitionRefused(_("The case was changed at the same moment; please try again."))


def open_case_from_flag(user: User, resident: Resident, reason: str, *, source: str = Source.SCREENING,
                        status: str = Status.FEVER, severity: str = "", flagged_at: dt.datetime | None = None,
                        source_ref: str = "", evidence: str = "") -> Case:
    """Accept an item of the screening follow-up queue (fever, symptoms, possible contact) into a
    category: `status` is fever (default), suspected, close contact or confirmed. `flagged_at` is when
    screening raised the flag: the screening link of the pipeline is measured from it."""
    return open_case(user, resident, status, reason, severity=severity, evidence=evidence, source=source,
                     source_ref=source_ref, flagged_at=flagged_at)


def dismiss_flag(user: User, resident: Resident, reason: str, *, source_ref: str = "") -> None:
    """Record that a follow-up item was dismissed, and why (the audit log keeps it on the person)."""
    reason = clean_text(reason, "reason", limit=TEXT_LIMIT, required=True)
    record(user, Action.UPDATE, resident, object_type="people.resident", object_repr=resident.name,
           changes={"flag_dismissed": reason, "source_ref": source_ref[:64]})


def follow_moved_residents(resident_ids: Sequence[int]) -> None:
    """Residents moved house: their case and its tests take the new area code, so the new grid sees
    them and the old one no longer does (set-based; called inside the move's transaction)."""
    with connection.cursor() as cursor:
        for part, marks in id_chunks(resident_ids):
            cursor.execute(
                "UPDATE cases_case AS t SET area_code = r.area_code FROM people_resident AS r "
                f"WHERE r.id = t.resident_id AND t.area_code <> r.area_code AND r.id IN ({marks})", part)
            cursor.execute(
                "UPDATE cases_nucleicacidtest AS t SET area_code = c.area_code FROM cases_case AS c "
                f"WHERE c.id = t.case_id AND t.area_code <> c.area_code AND c.resident_id IN ({marks})", part)


# --- Moving along the state machine --------------------------------------------------------------

def transition(user: User | None, case: Case, to_status: str, reason: str, *, severity: str = "", evidence: str = "",
               test: NucleicAcidTest | None = None, now: dt.datetime | None = None,
               flagged_at: dt.datetime | None = None, source: str | None = None, source_ref: str = "",
               cure_override: str = "", policy: Policy | None = None) -> Case:
    """Change a person's status along the transition table; refuses anything else with a clear message.
    `case` comes from cases.access.access_case (or a service acting on it: a test result, a discharge).
    A discharge as cured needs the negative tests the policy asks for, or `cure_override`: the reason
    for discharging without them (audit-logged); it starts the post-discharge period."""
    reason = clean_text(reason, "reason", limit=TEXT_LIMIT, required=True)
    evidence = clean_text(evidence, "evidence", limit=TEXT_LIMIT)
    override = clean_text(cure_override, "cure_override", limit=TEXT_LIMIT)
    now = now or timezone.now()
    policy = policy or current_policy()
    with transaction.atomic():
        locked = Case.objects.select_for_update().select_related("resident").get(pk=case.pk)
        before = (locked.status, locked.severity)
        locked.severity = _check_target(locked.status, to_status, severity)
        cure: CureCheck | None = None
        if to_status == Status.DISCHARGED:
            cure = cure_check(locked, policy)
            if not cure.met and not override:
                raise TransitionRefused(cure_refusal(cure), field="cure_override")
            locked.post_discharge_until = post_discharge_end(now, policy)
        if locked.status in CLOSED:  # a new episode: its links and tests count afresh
            locked.opened_at, locked.flagged_at = now, flagged_at
            locked.tested, locked.first_sampled_at = False, None
            if source:
                locked.source, locked.source_ref = source, source_ref[:64]
        if to_status not in (Status.DISCHARGED, Status.RECOVERY, Status.RELEASED, Status.DECEASED):
            locked.post_discharge_until = None  # re-positive, or a new episode: no period after a cure
        locked.status = to_status
        locked.status_since = now
        locked.category = routing_category(locked.status, locked.severity)
        locked.save()
        _history(user, locked, before, reason, evidence, test, now)
        if cure is not None and not cure.met:
            record(user, Action.UPDATE, locked, object_type="cases.case", object_repr=locked.resident.name,
                   changes={"cure_override": override, "negative_tests": [cure.found, cure.needed]})
        if to_status == Status.DECEASED:
            DECEASED.fire(user, locked, now)  # every bed the person held or had booked is freed
        refresh_placement(locked, now=now)
        STATUS_CHANGED.fire(user, locked, before[0], now)
    return locked


def post_discharge_end(discharged_at: dt.datetime, policy: Policy) -> dt.date:
    """The last day of the post-discharge period (recovery station or home monitoring, DESIGN §2)."""
    return timezone.localdate(discharged_at) + dt.timedelta(days=policy.post_discharge_days)


AFTER_CURE = (Status.DISCHARGED, Status.RECOVERY)  # in the post-discharge period until released


def post_discharge(user: User, area_code: str, *, today: dt.date | None = None, due_only: bool = False) -> QuerySet[Case]:
    """People in their post-discharge period in the area, the period's end first; `due_only`: those whose
    period ends today or has ended (overdue: still not released)."""
    today = today or timezone.localdate()
    cases = Case.objects.within(user, area_code).filter(status__in=AFTER_CURE, post_discharge_until__isnull=False)
    if due_only:
        cases = cases.filter(post_discharge_until__lte=today)
    return cases.order_by("post_discharge_until", "id")


def change_severity(user: User, case: Case, severity: str, reason: str, *, evidence: str = "",
                    now: dt.datetime | None = None) -> Case:
    """A confirmed case's severity changes (recorded in the history like a status change)."""
    reason = clean_text(reason, "reason", limit=TEXT_LIMIT, required=True)
    evidence = clean_text(evidence, "evidence", limit=TEXT_LIMIT)
    if severity not in Severity.values:
        raise FieldErrors({"severity": _("Choose mild, moderate, severe or critical.")})
    now = now or timezone.now()
    with transaction.atomic():
        locked = Case.objects.select_for_update().select_related("resident").get(pk=case.pk)
        if locked.status != Status.CONFIRMED:
            raise TransitionRefused(_("Only a confirmed case has a severity."), field="severity")
        if locked.severity == severity:
            return locked
        before = (locked.status, locked.severity)
        locked.severity = severity
        locked.category = routing_category(locked.status, severity)
        locked.save()
        _history(user, locked, before, reason, evidence, None, now)
        refresh_placement(locked, now=now)
    return locked

def negative_run(case: Case, needed: int, interval_hours: int) -> int:
    """How many of the episode's latest results are negatives in a row, each sampled at least
    `interval_hours` after the one before (counting stops at the first that is not), at most `needed`."""
    if needed <= 0:
        return 0
    recent: list[tuple[str, dt.datetime]] = list(NucleicAcidTest.objects.filter(case=case, ordered_at__gte=case.opened_at).exclude(result="")
                  .order_by("-sampled_at", "-id").values_list("result", "sampled_at")[:needed])  # type: ignore[arg-type]
    gap = dt.timedelta(hours=interval_hours)
    run = 0
    for index, (result, sampled_at) in enumerate(recent):
        if result != Result.NEGATIVE or (index and recent[index - 1][1] - sampled_at < gap):
            break
        run += 1
    return run


@dataclass(frozen=True)
class CureCheck:
    """What the policy asks of a discharge as cured, and what the person's tests show."""

    needed: int
    interval_hours: int
    found: int

    @property
    def met(self) -> bool:
        return self.found >= self.needed


def cure_check(case: Case, policy: Policy | None = None) -> CureCheck:
    policy = policy or current_policy()
    needed, hours = policy.discharge_negative_tests, policy.discharge_test_interval_hours
    return CureCheck(needed, hours, negative_run(case, needed, hours))


def cure_refusal(check: CureCheck) -> str:
    return _("Discharge as cured needs %(n)d negative tests in a row, sampled at least %(hours)d hours apart; "
             "%(found)d found. Enter the results, or give the reason for discharging without them.") % {
        "n": check.needed, "hours": check.interval_hours, "found": check.found}

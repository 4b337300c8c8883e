"""Domain operations of the four categories, used by the UI, the API, the lab import and (later) the
screening app. Each takes the acting user, checks permission and scope, runs in a transaction, and
writes the status history and the audit log.

For the screening app: `open_case_from_flag(user, resident, reason, source=..., flagged_at=...)` takes
a follow-up item (fever, symptoms, possible contact) into a category; `dismiss_flag(...)` records a
dismissal with its reason. Neither needs anything from the screening app.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.cases.models import (
    Case,
    NucleicAcidTest,
    Placement,
    Result,
    Severity,
    Source,
    Status,
    StatusChange,
)
from fangkong.cases.transitions import CLOSED, allowed, is_allowed, routing_category
from fangkong.core import permissions
from fangkong.core.errors import FieldError, FieldErrors
from fangkong.people.models import Resident
from fangkong.people.moves import id_chunks
from fangkong.policy.schema import Policy
from fangkong.policy.services import current_policy

FUTURE_TOLERANCE = dt.timedelta(minutes=5)


# --- Status-change hooks ------------------------------------------------------------------------
# Other apps react to a person's status change without the cases app knowing them (contact tracing
# opens an investigation when a case is confirmed). A hook is called as hook(user, case, before_status,
# now) inside the transaction of open_case()/transition(), after the history line is written; an
# exception in a hook rolls the status change back, so hooks must be small and idempotent.
# `before_status` is "" for a newly opened case. Apps register in AppConfig.ready().
StatusHook = Callable[[Any, Case, str, dt.datetime], None]
_STATUS_HOOKS: list[StatusHook] = []


def on_status_changed(hook: StatusHook) -> None:
    """Register `hook(user, case, before_status, now)`, called after every status change."""
    if hook not in _STATUS_HOOKS:
        _STATUS_HOOKS.append(hook)


def _status_changed(user, case: Case, before_status: str, now: dt.datetime) -> None:
    for hook in _STATUS_HOOKS:
        hook(user, case, before_status, now)


class TransitionRefused(FieldError):
    """An illegal status change; str() is the user-facing message, `errors` names the field."""

    field = "to_status"


def _require_case(user, case: Case) -> None:
    if not permissions.can_manage_cases(user) or not Case.objects.restrict(user).filter(pk=case.pk).exists():
        raise PermissionDenied


def _reason(reason: str | None, field: str = "reason") -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise FieldErrors({field: _("Give a reason.")})
    if len(text) > 200:
        raise FieldErrors({field: _("Longer than %(n)d characters.") % {"n": 200}})
    return text


def _evidence(evidence: str | None) -> str:
    text = " ".join((evidence or "").split())
    if len(text) > 200:
        raise FieldErrors({"evidence": _("Longer than %(n)d characters.") % {"n": 200}})
    return text


def status_label(status: str | None) -> str:
    return str(Status(status).label) if status else _("no case")


def _refusal(current: str | None, target: str) -> TransitionRefused:
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
        raise _refusal(current, target)
    if target == Status.CONFIRMED:
        if severity not in Severity.values:
            raise FieldErrors({"severity": _("A confirmed case needs its severity: mild, moderate, severe or critical.")})
        return severity
    return ""


def _history(user, case: Case, before: tuple[str, str], reason: str, evidence: str, test: NucleicAcidTest | None,
             now: dt.datetime) -> StatusChange:
    change = StatusChange.objects.create(
        case=case, from_status=before[0], to_status=case.status, from_severity=before[1], to_severity=case.severity,
        reason=reason, evidence=evidence, test=test, changed_by=user if getattr(user, "pk", None) else None,
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

def open_case(user, resident: Resident, status: str, reason: str, *, severity: str = "", evidence: str = "",
              source: str = Source.MANUAL, source_ref: str = "", flagged_at: dt.datetime | None = None,
              now: dt.datetime | None = None) -> Case:
    """Take a person into a category. A person with a case already moves along the transition table
    (taking up the same status again changes nothing)."""
    if not permissions.can_open_cases(user) or not Resident.objects.restrict(user).filter(pk=resident.pk).exists():
        raise PermissionDenied
    reason = _reason(reason)
    evidence = _evidence(evidence)
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
                    status_since=now, opened_at=now, opened_by=user if getattr(user, "pk", None) else None,
                    flagged_at=flagged_at, source=source, source_ref=source_ref[:64], area_code=resident.area_code)
                _history(user, case, ("", ""), reason, evidence, None, now)
                refresh_placement(case, now=now)
                _status_changed(user, case, "", now)
                return case
        except IntegrityError:
            continue  # someone opened the same person's case at the same moment: move it along instead
    raise TransitionRefused(_("The case was changed at the same moment; please try again."))


def open_case_from_flag(user, resident: Resident, reason: str, *, source: str = Source.SCREENING,
                        status: str = Status.FEVER, severity: str = "", flagged_at: dt.datetime | None = None,
                        source_ref: str = "", evidence: str = "") -> Case:
    """Accept an item of the screening follow-up queue (fever, symptoms, possible contact) into a
    category: `status` is fever (default), suspected, close contact or confirmed. `flagged_at` is when
    screening raised the flag: the screening link of the pipeline is measured from it."""
    return open_case(user, resident, status, reason, severity=severity, evidence=evidence, source=source,
                     source_ref=source_ref, flagged_at=flagged_at)


def dismiss_flag(user, resident: Resident, reason: str, *, source_ref: str = "") -> None:
    """Record that a follow-up item was dismissed, and why (the audit log keeps it on the person)."""
    if not permissions.can_open_cases(user) or not Resident.objects.restrict(user).filter(pk=resident.pk).exists():
        raise PermissionDenied
    reason = _reason(reason)
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

def transition(user, case: Case, to_status: str, reason: str, *, severity: str = "", evidence: str = "",
               test: NucleicAcidTest | None = None, now: dt.datetime | None = None, checked: bool = False,
               flagged_at: dt.datetime | None = None, source: str | None = None, source_ref: str = "",
               cure_override: str = "", policy: Policy | None = None) -> Case:
    """Change a person's status along the transition table; refuses anything else with a clear message.
    `checked=True` is for callers that have checked the user's rights already (a test result).
    A discharge as cured needs the negative tests the policy asks for, or `cure_override`: the reason
    for discharging without them (audit-logged); it starts the post-discharge period."""
    if not checked:
        _require_case(user, case)
    reason = _reason(reason)
    evidence = _evidence(evidence)
    override = " ".join((cure_override or "").split())
    if len(override) > 200:
        raise FieldErrors({"cure_override": _("Longer than %(n)d characters.") % {"n": 200}})
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
            from fangkong.facilities.services import end_active_stays

            end_active_stays(user, locked, now=now)
        refresh_placement(locked, now=now)
        _status_changed(user, locked, before[0], now)
    return locked


def post_discharge_end(discharged_at: dt.datetime, policy: Policy) -> dt.date:
    """The last day of the post-discharge period (recovery station or home monitoring, DESIGN §2)."""
    return timezone.localdate(discharged_at) + dt.timedelta(days=policy.post_discharge_days)


AFTER_CURE = (Status.DISCHARGED, Status.RECOVERY)  # in the post-discharge period until released


def post_discharge(user, area_code: str, *, today: dt.date | None = None, due_only: bool = False):
    """People in their post-discharge period in the area, the period's end first; `due_only`: those whose
    period ends today or has ended (overdue: still not released)."""
    today = today or timezone.localdate()
    cases = Case.objects.within(user, area_code).filter(status__in=AFTER_CURE, post_discharge_until__isnull=False)
    if due_only:
        cases = cases.filter(post_discharge_until__lte=today)
    return cases.order_by("post_discharge_until", "id")


def change_severity(user, case: Case, severity: str, reason: str, *, evidence: str = "",
                    now: dt.datetime | None = None) -> Case:
    """A confirmed case's severity changes (recorded in the history like a status change)."""
    _require_case(user, case)
    reason = _reason(reason)
    evidence = _evidence(evidence)
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


def refresh_placement(case: Case, *, policy: Policy | None = None, now: dt.datetime | None = None) -> Case:
    """Recompute where the person stands: waiting for a bed, booked, in a fitting bed, to be discharged
    or needing none. A pending booking that no longer fits the category is cancelled (the bed freed)."""
    from fangkong.facilities.models import ACTIVE_STAYS, Stay, StayStatus
    from fangkong.facilities.routing import fits
    from fangkong.facilities.services import cancel_booking

    policy = policy or current_policy()
    now = now or timezone.now()
    stays = list(Stay.objects.filter(case=case, status__in=ACTIVE_STAYS).select_related("facility"))
    admitted = next((s for s in stays if s.status == StayStatus.ADMITTED), None)
    booked = next((s for s in stays if s.status == StayStatus.BOOKED), None)
    category = case.category
    waiting_since = case.waiting_since
    if booked is not None and not (category and fits(policy, category, booked.facility.kind, booked.bed_kind)):
        cancel_booking(None, booked, _("The person's category changed."), now=now, refresh=False)
        waiting_since = booked.waiting_since
        booked = None
    if not category:
        state = Placement.TO_LEAVE if admitted else Placement.NONE
    elif admitted is not None and fits(policy, category, admitted.facility.kind, admitted.bed_kind):
        state = Placement.PLACED
    elif booked is not None:
        state = Placement.BOOKED
    elif category == "close_contact" and not policy.observation_centralised:
        state = Placement.NONE  # observed at home, as the policy says: no isolation-site bed to wait for
    else:
        state = Placement.WAITING
    if state == Placement.WAITING:
        waiting_since = waiting_since if case.placement in (Placement.WAITING, Placement.BOOKED) and waiting_since else now
    elif state != Placement.BOOKED:
        waiting_since = None
    if (case.placement, case.waiting_since) != (state, waiting_since):
        case.placement, case.waiting_since = state, waiting_since
        Case.objects.filter(pk=case.pk).update(placement=state, waiting_since=waiting_since)
    return case


# --- Nucleic acid tests ---------------------------------------------------------------------------

def _sample_number(now: dt.datetime) -> str:
    return f"S{timezone.localtime(now):%Y%m%d}-{secrets.token_hex(4).upper()}"


def order_test(user, case: Case, *, sample_number: str = "", now: dt.datetime | None = None) -> NucleicAcidTest:
    _require_case(user, case)
    now = now or timezone.now()
    number = "".join((sample_number or "").split()).upper()
    if len(number) > 40:
        raise FieldErrors({"sample_number": _("Longer than %(n)d characters.") % {"n": 40}})
    if case.status == Status.DECEASED:
        raise TransitionRefused(_("%(current)s is final: the status cannot change any more.") % {"current": status_label(case.status)},
                                field="case")
    for _attempt in range(3):
        try:
            with transaction.atomic():
                test = NucleicAcidTest.objects.create(
                    case=case, sample_number=number or _sample_number(now), ordered_at=now,
                    ordered_by=user if getattr(user, "pk", None) else None, area_code=case.area_code)
                record(user, Action.CREATE, test, object_type="cases.test", object_repr=test.sample_number,
                       changes={"case": case.pk, "sample_number": test.sample_number})
                return test
        except IntegrityError as exc:
            if number:
                raise FieldErrors({"sample_number": _("Another sample already has this number.")}) from exc
    raise FieldErrors({"sample_number": _("Another sample already has this number.")})


def _require_test(user, test: NucleicAcidTest) -> None:
    if not permissions.can_manage_cases(user) or not NucleicAcidTest.objects.restrict(user).filter(pk=test.pk).exists():
        raise PermissionDenied


def record_sample(user, test: NucleicAcidTest, *, sampled_at: dt.datetime | None = None, place: str = "",
                  facility=None, taker: str = "", now: dt.datetime | None = None) -> NucleicAcidTest:
    """The sample was taken (where, by whom). A fever patient becomes `tested`."""
    _require_test(user, test)
    now = now or timezone.now()
    sampled_at = sampled_at or now
    place = " ".join((place or "").split())
    taker = " ".join((taker or "").split())
    errors = {}
    if sampled_at > now + FUTURE_TOLERANCE:
        errors["sampled_at"] = _("This time lies in the future.")
    if len(place) > 100:
        errors["place"] = _("Longer than %(n)d characters.") % {"n": 100}
    if len(taker) > 50:
        errors["taker"] = _("Longer than %(n)d characters.") % {"n": 50}
    if not place and facility is None:
        errors["place"] = _("Say where the sample was taken.")
    if errors:
        raise FieldErrors(errors)
    with transaction.atomic():
        locked = NucleicAcidTest.objects.select_for_update().select_related("case").get(pk=test.pk)
        if locked.sampled_at is not None:
            raise FieldErrors({"sampled_at": _("The sample of this test has been recorded already.")})
        locked.sampled_at, locked.sample_place, locked.sample_facility = sampled_at, place or str(facility), facility
        locked.sampled_by = user if getattr(user, "pk", None) else None
        locked.sample_taker = taker or (user.get_full_name() or user.username if getattr(user, "pk", None) else "")
        locked.save()
        case = Case.objects.select_for_update().get(pk=locked.case_id)
        if not case.tested:
            case.tested = True
            case.first_sampled_at = case.first_sampled_at or sampled_at
            case.save(update_fields=["tested", "first_sampled_at", "updated_at"])
        record(user, Action.UPDATE, locked, object_type="cases.test", object_repr=locked.sample_number,
               changes={"sampled_at": sampled_at.isoformat(), "place": locked.sample_place})
        if case.status == Status.FEVER:
            transition(user, case, Status.TESTED, _("Sample taken"), evidence=locked.sample_number, test=locked,
                       now=now, checked=True)
    return locked


def record_result(user, test: NucleicAcidTest, result: str, *, result_at: dt.datetime | None = None, lab: str = "",
                  now: dt.datetime | None = None, policy: Policy | None = None) -> bool:
    """Enter a result; returns False when the same result was there already. A positive result makes a
    tested fever patient or a close contact suspected; negative results in a row exclude a suspected
    case as the policy says. A different result is never overwritten."""
    _require_test(user, test)
    now = now or timezone.now()
    result_at = result_at or now
    lab = " ".join((lab or "").split())
    errors = {}
    if result not in (Result.POSITIVE, Result.NEGATIVE, Result.INCONCLUSIVE):
        errors["result"] = _("The result is positive, negative or inconclusive.")
    if result_at > now + FUTURE_TOLERANCE:
        errors["result_at"] = _("This time lies in the future.")
    if len(lab) > 100:
        errors["lab"] = _("Longer than %(n)d characters.") % {"n": 100}
    if errors:
        raise FieldErrors(errors)
    with transaction.atomic():
        locked = NucleicAcidTest.objects.select_for_update().select_related("case").get(pk=test.pk)
        if locked.sampled_at is None:
            raise FieldErrors({"result": _("The sample has not been recorded as taken yet.")})
        if locked.result:
            if locked.result == result:
                return False
            raise FieldErrors({"result": _("This sample already has a result (%(result)s); results are not overwritten.")
                               % {"result": Result(locked.result).label}})
        if result_at < locked.sampled_at:
            raise FieldErrors({"result_at": _("The result cannot come before the sample was taken.")})
        locked.result, locked.result_at, locked.lab = result, result_at, lab
        locked.result_entered_at, locked.result_entered_by = now, user if getattr(user, "pk", None) else None
        locked.save()
        record(user, Action.UPDATE, locked, object_type="cases.test", object_repr=locked.sample_number,
               changes={"result": result, "result_at": result_at.isoformat()})
        case = Case.objects.select_for_update().get(pk=locked.case_id)
        if result == Result.POSITIVE and case.status != Status.SUSPECTED and is_allowed(case.status, Status.SUSPECTED) \
                and case.status not in CLOSED:
            transition(user, case, Status.SUSPECTED, _("Positive nucleic acid test"), evidence=locked.sample_number,
                       test=locked, now=now, checked=True)
        elif result == Result.NEGATIVE and case.status == Status.SUSPECTED:
            _maybe_exclude(user, case, locked, policy or current_policy(), now)
    return True


def negative_run(case: Case, needed: int, interval_hours: int) -> int:
    """How many of the episode's latest results are negatives in a row, each sampled at least
    `interval_hours` after the one before (counting stops at the first that is not), at most `needed`."""
    if needed <= 0:
        return 0
    recent = list(NucleicAcidTest.objects.filter(case=case, ordered_at__gte=case.opened_at).exclude(result="")
                  .order_by("-sampled_at", "-id").values_list("result", "sampled_at")[:needed])
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


def _maybe_exclude(user, case: Case, test: NucleicAcidTest, policy: Policy, now: dt.datetime) -> None:
    needed = policy.exclusion_negative_tests
    if negative_run(case, needed, policy.exclusion_interval_hours) < needed:
        return
    transition(user, case, Status.EXCLUDED,
               _("%(n)d negative tests in a row, at least %(hours)d hours apart") % {"n": needed, "hours": policy.exclusion_interval_hours},
               evidence=test.sample_number, test=test, now=now, checked=True)

"""Nucleic acid tests (核酸检测): ordering a test, recording the sample (where, by whom) and entering the
result, with the status changes they bring: a fever patient sampled becomes tested, a positive result
makes a person suspected, negative results in a row exclude a suspected case as the policy says.

The caller hands in a case or a test it reached through cases.access: the services trust it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.cases.models import Case, NucleicAcidTest, Result, Status
from fangkong.cases.services import (
    FUTURE_TOLERANCE,
    TransitionRefused,
    negative_run,
    status_label,
    transition,
)
from fangkong.cases.transitions import CLOSED, is_allowed
from fangkong.core.errors import FieldErrors, actor, clean_text
from fangkong.policy.schema import Policy
from fangkong.policy.services import current_policy


def _sample_number(now: dt.datetime) -> str:
    return f"S{timezone.localtime(now):%Y%m%d}-{secrets.token_hex(4).upper()}"


def order_test(user: User, case: Case, *, sample_number: str = "", now: dt.datetime | None = None) -> NucleicAcidTest:
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
                    ordered_by=actor(user), area_code=case.area_code)
                record(user, Action.CREATE, test, object_type="cases.test", object_repr=test.sample_number,
                       changes={"case": case.pk, "sample_number": test.sample_number})
                return test
        except IntegrityError as exc:
            if number:
                raise FieldErrors({"sample_number": _("Another sample already has this number.")}) from exc
    raise FieldErrors({"sample_number": _("Another sample already has this number.")})


def record_sample(user: User, test: NucleicAcidTest, *, sampled_at: dt.datetime | None = None, place: str = "",
                  facility: Any = None, taker: str = "", now: dt.datetime | None = None) -> NucleicAcidTest:
    """The sample was taken (where, by whom; `facility`: the facilities.Facility it was taken at, from the
    app above, or None). A fever patient becomes `tested`."""
    now = now or timezone.now()
    sampled_at = sampled_at or now
    errors: dict[str, str] = {}
    if sampled_at > now + FUTURE_TOLERANCE:
        errors["sampled_at"] = _("This time lies in the future.")
    place = clean_text(place, "place", limit=100, errors=errors)
    taker = clean_text(taker, "taker", limit=50, errors=errors)
    if not place and facility is None:
        errors["place"] = _("Say where the sample was taken.")
    if errors:
        raise FieldErrors(errors)
    with transaction.atomic():
        locked = NucleicAcidTest.objects.select_for_update().select_related("case").get(pk=test.pk)
        if locked.sampled_at is not None:
            raise FieldErrors({"sampled_at": _("The sample of this test has been recorded already.")})
        locked.sampled_at, locked.sample_place, locked.sample_facility = sampled_at, place or str(facility), facility
        locked.sampled_by = actor(user)
        locked.sample_taker = taker or (user.get_full_name() or user.username if actor(user) else "")
        locked.save()
        case = Case.objects.select_for_update().get(pk=locked.case_id)
        if not case.tested:
            case.tested = True
            case.first_sampled_at = case.first_sampled_at or sampled_at
            case.save(update_fields=["tested", "first_sampled_at", "updated_at"])
        record(user, Action.UPDATE, locked, object_type="cases.test", object_repr=locked.sample_number,
               changes={"sampled_at": sampled_at.isoformat(), "place": locked.sample_place})
        if case.status == Status.FEVER:
            transition(user, case, Status.TESTED, _("Sample taken"), evidence=locked.sample_number, test=locked, now=now)
    return locked


def record_result(user: User, test: NucleicAcidTest, result: str, *, result_at: dt.datetime | None = None, lab: str = "",
                  now: dt.datetime | None = None, policy: Policy | None = None) -> bool:
    """Enter a result; returns False when the same result was there already. A positive result makes a
    tested fever patient or a close contact suspected; negative results in a row exclude a suspected
    case as the policy says. A different result is never overwritten."""
    now = now or timezone.now()
    result_at = result_at or now
    errors: dict[str, str] = {}
    if result not in (Result.POSITIVE, Result.NEGATIVE, Result.INCONCLUSIVE):
        errors["result"] = _("The result is positive, negative or inconclusive.")
    if result_at > now + FUTURE_TOLERANCE:
        errors["result_at"] = _("This time lies in the future.")
    lab = clean_text(lab, "lab", limit=100, errors=errors)
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
        locked.result_entered_at, locked.result_entered_by = now, actor(user)
        locked.save()
        record(user, Action.UPDATE, locked, object_type="cases.test", object_repr=locked.sample_number,
               changes={"result": result, "result_at": result_at.isoformat()})
        case = Case.objects.select_for_update().get(pk=locked.case_id)
        if result == Result.POSITIVE and case.status != Status.SUSPECTED and is_allowed(case.status, Status.SUSPECTED) \
                and case.status not in CLOSED:
            transition(user, case, Status.SUSPECTED, _("Positive nucleic acid test"), evidence=locked.sample_number,
                       test=locked, now=now)
        elif result == Result.NEGATIVE and case.status == Status.SUSPECTED:
            _maybe_exclude(user, case, locked, policy or current_policy(), now)
    return True


def _maybe_exclude(user: User, case: Case, test: NucleicAcidTest, policy: Policy, now: dt.datetime) -> None:
    needed = policy.exclusion_negative_tests
    if negative_run(case, needed, policy.exclusion_interval_hours) < needed:
        return
    transition(user, case, Status.EXCLUDED,
               _("%(n)d negative tests in a row, at least %(hours)d hours apart") % {"n": needed, "hours": policy.exclusion_interval_hours},
               evidence=test.sample_number, test=test, now=now)

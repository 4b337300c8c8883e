"""Release from observation (解除隔离): which files are eligible, releasing one or a whole area's, and
the number of the release notice. A close contact's case is released through the pipeline with them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import (
    CharField,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Concat, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.cases import services as cases
from fangkong.cases.models import Case, NucleicAcidTest, Result, Status
from fangkong.core import permissions
from fangkong.core.errors import FieldErrors, actor
from fangkong.observation.files import log_decision
from fangkong.observation.models import (
    Alert,
    AlertKind,
    AlertStatus,
    DecisionKind,
    FileDecision,
    FileStatus,
    HealthReport,
    ObservationFile,
)
from fangkong.observation.windows import local_today
from fangkong.policy.schema import Policy
from fangkong.policy.services import current_policy


def eligible_for_release(files: QuerySet, today: dt.date, policy: Policy | None = None) -> QuerySet:
    """Open files whose period has ended (planned end before today), with no open fever or symptom
    alert, no fever or symptom report during the whole period, and the policy's negative tests: the
    person's case has that many negative tests sampled in the last `observation_release_test_days`
    days of the period or after it (none needed when the policy says 0)."""
    policy = policy or current_policy()
    threshold = Decimal(str(policy.fever_threshold_c))
    bad_reports = HealthReport.objects.filter(file=OuterRef("pk")).filter(Q(temperature__gte=threshold) | ~Q(symptoms=0))
    bad_alerts = Alert.objects.filter(file=OuterRef("pk"), status=AlertStatus.OPEN,
                                      kind__in=(AlertKind.FEVER, AlertKind.SYMPTOMS))
    result = files.filter(status=FileStatus.OPEN, planned_end_on__lt=today).exclude(Exists(bad_reports)).exclude(Exists(bad_alerts))
    needed = policy.observation_release_negative_tests
    if needed:
        tail_start = ExpressionWrapper(OuterRef("planned_end_on") - dt.timedelta(days=policy.observation_release_test_days - 1),
                                       output_field=DateField())
        negatives = (NucleicAcidTest.objects.annotate(sampled_on=TruncDate("sampled_at", tzinfo=timezone.get_current_timezone()))
                     .filter(case__resident_id=OuterRef("resident_id"), result=Result.NEGATIVE, sampled_on__gte=tail_start)
                     .order_by().values("case__resident_id").annotate(n=Count("id")).values("n"))
        result = result.annotate(negatives=Coalesce(Subquery(negatives[:1]), 0)).filter(negatives__gte=needed)
    return result


def notice_number(file_id: int, day: dt.date) -> str:
    """解除隔离告知书 number: JC + release date + file id (unique, also computed in SQL for bulk release)."""
    return f"JC{day:%Y%m%d}-{file_id}"


def _release_case(user: User, resident_id: int, now: dt.datetime) -> None:
    """A close contact's case moves to released through the pipeline (bookings freed, history written)."""
    case = Case.objects.filter(resident_id=resident_id, status=Status.CLOSE_CONTACT).first()
    if case is not None:
        cases.transition(user, case, Status.RELEASED, _("Medical observation ended without fever or symptoms"), now=now)


def release_file(user: User, file: ObservationFile) -> ObservationFile:
    """Release one eligible file: closed, a notice number issued, a close-contact case released."""
    now = timezone.now()
    today = local_today(now)
    with transaction.atomic():
        if not eligible_for_release(ObservationFile.objects.filter(pk=file.pk), today).exists():
            raise FieldErrors({"release": _("Not eligible for release yet: the period must be over, free of fever and "
                                            "symptoms, with the required negative tests.")})
        locked = ObservationFile.objects.select_for_update().select_related("resident").get(pk=file.pk)
        locked.status, locked.ended_at, locked.ended_by = FileStatus.RELEASED, now, actor(user)
        locked.notice_number = notice_number(locked.pk, today)
        locked.save(update_fields=["status", "ended_at", "ended_by", "notice_number", "updated_at"])
        log_decision(user, locked, DecisionKind.RELEASE, _("Released: notice %(n)s") % {"n": locked.notice_number}, now,
                  locked.planned_end_on, locked.planned_end_on)
        _release_case(user, locked.resident_id, now)
    return locked


def release_eligible(user: User, area_code: str) -> int:
    """Release every eligible file of an area in one transaction: the files in one UPDATE, their
    decisions in one INSERT; close-contact cases through the pipeline's transition (one area's day
    of releases: tens to hundreds of people, each needing history and bed bookings freed)."""
    if not permissions.can_observe(user) or not user.scope.covers_area_code(area_code):
        raise PermissionDenied
    now = timezone.now()
    today = local_today(now)
    with transaction.atomic():
        eligible = eligible_for_release(ObservationFile.objects.within(user, area_code), today)
        rows = list(eligible.select_for_update(of=("self",)).values_list("id", "resident_id", "area_code"))
        if not rows:
            return 0
        ids = [row[0] for row in rows]
        ObservationFile.objects.filter(pk__in=ids).update(
            status=FileStatus.RELEASED, ended_at=now, ended_by=actor(user), updated_at=now,
            notice_number=Concat(Value(f"JC{today:%Y%m%d}-"), Cast("id", CharField())))
        FileDecision.objects.bulk_create([
            FileDecision(file_id=pk, kind=DecisionKind.RELEASE, reason=_("Released with the area (bulk)"),
                         decided_by=actor(user), decided_at=now, area_code=code) for pk, _r, code in rows])
        record(user, Action.UPDATE, object_type="observation.file", object_repr=_("Bulk release"), area_code=area_code,
               changes={"released": len(ids), "files": ids[:1000]})
        for _pk, resident_id, _code in rows:
            _release_case(user, resident_id, now)
    return len(ids)

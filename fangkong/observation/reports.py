"""Health reports: a worker's reading after a call, a person's self-report through their link. A
report counts for one window of one day (observation.windows); submitting the same client id again (a
phone retrying) records it once. A fever or new symptoms alert at once, and a fever escalates the
person into the four categories (observation.escalation).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.core.errors import FieldErrors, actor
from fangkong.observation.escalation import escalate
from fangkong.observation.models import (
    Alert,
    AlertKind,
    FileStatus,
    HealthReport,
    ObservationFile,
    ReportSource,
)
from fangkong.observation.windows import window_for
from fangkong.policy.schema import Policy
from fangkong.policy.services import current_policy
from fangkong.screening.models import Symptom
from fangkong.screening.readings import TemperatureMethod, clean_how_taken
from fangkong.screening.validation import parse_temperature

FUTURE_TOLERANCE = dt.timedelta(minutes=5)
ALL_SYMPTOMS = sum(Symptom.LABELS)


@dataclass
class ReportResult:
    report: HealthReport
    created: bool
    alerts: list[str]
    escalated: bool = False


def _symptom_mask(values: Any) -> int:
    if isinstance(values, int) and not isinstance(values, bool):
        if not 0 <= values <= ALL_SYMPTOMS:
            raise FieldErrors({"symptoms": _("Unknown symptom.")})
        return values
    mask = 0
    for value in values or ():
        bit = Symptom.CODES.get(str(value).strip().lower())
        if bit is None:
            raise FieldErrors({"symptoms": _("Unknown symptom.")})
        mask |= bit
    return mask


def clean_temperature(value: Any, policy: Policy) -> Decimal:
    try:
        temperature = parse_temperature(value)
    except ValueError as exc:
        raise FieldErrors({"temperature": _("Enter the temperature in °C, e.g. 36.5.")}) from exc
    low, high = Decimal(str(policy.temperature_min_c)), Decimal(str(policy.temperature_max_c))
    if not low <= temperature <= high:
        raise FieldErrors({"temperature": _("A reading must lie between %(low)s and %(high)s °C.") % {"low": low, "high": high}})
    return temperature


# At home people mostly use an armpit thermometer: the default when a report does not say.
DEFAULT_METHOD = TemperatureMethod.ARMPIT


@dataclass(frozen=True)
class HowTakenInput:
    """How the temperature was taken, as given (checked with the reading)."""

    method: str = DEFAULT_METHOD
    outdoors: bool = False
    ambient_c: Any = None


def record_worker_report(user: User, file: ObservationFile, *, temperature: Any, symptoms: Any = 0,
                         client_id: uuid.UUID | str | None = None, reported_at: dt.datetime | None = None,
                         how: HowTakenInput | None = None) -> ReportResult:
    """A worker enters a reading after a phone call (or a visit)."""
    return _record(user, file, temperature, symptoms, client_id, reported_at, ReportSource.WORKER, how)


def record_self_report(file: ObservationFile, *, temperature: Any, symptoms: Any = 0,
                       client_id: uuid.UUID | str | None = None, how: HowTakenInput | None = None) -> ReportResult:
    """The person reports through their link (no log-in: the time is the server's)."""
    return _record(None, file, temperature, symptoms, client_id, None, ReportSource.SELF, how)


def _client_id(value: uuid.UUID | str | None) -> uuid.UUID:
    if value is None or value == "":
        return uuid.uuid4()
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise FieldErrors({"client_id": _("Not a valid client id.")}) from exc


def _record(user: User | None, file: ObservationFile, temperature: Any, symptoms: Any, client_id: Any,
            reported_at: dt.datetime | None, source: str, how: HowTakenInput | None = None) -> ReportResult:
    policy = current_policy()
    now = timezone.now()
    reported_at = reported_at or now
    cid = _client_id(client_id)
    existing = HealthReport.objects.filter(client_id=cid).first()
    if existing is not None:  # the same submission again (a phone retrying): recorded once
        if existing.file_id != file.pk:
            raise FieldErrors({"client_id": _("This client id belongs to another report.")})
        return ReportResult(existing, False, [])
    errors: dict[str, str] = {}
    try:
        value = clean_temperature(temperature, policy)
    except FieldErrors as exc:
        errors.update(exc.errors)
    try:
        mask = _symptom_mask(symptoms)
    except FieldErrors as exc:
        errors.update(exc.errors)
    how = how or HowTakenInput()
    taken, problems = clean_how_taken(how.method, how.outdoors, how.ambient_c, policy, default=DEFAULT_METHOD)
    errors.update(problems)
    if reported_at > now + FUTURE_TOLERANCE:
        errors["reported_at"] = _("This time lies in the future.")
    if errors or taken is None:  # taken is None only with a problem named
        raise FieldErrors(errors)
    day, window = window_for(reported_at, policy)
    try:
        with transaction.atomic():
            locked = ObservationFile.objects.select_for_update().select_related("resident").get(pk=file.pk)
            if locked.status != FileStatus.OPEN:
                raise FieldErrors({"temperature": _("This observation file is closed.")})
            report = HealthReport.objects.create(
                client_id=cid, file=locked, date=day, window_name=window, temperature=value, symptoms=mask, source=source,
                temperature_method=taken.method, outdoors=taken.outdoors, ambient_c=taken.ambient_c,
                reading_unreliable=taken.unreliable, reported_at=reported_at, recorded_by=actor(user),
                area_code=locked.area_code)
            record(user, Action.CREATE, report, object_type="observation.report", object_repr=locked.resident.name,
                   area_code=locked.area_code, changes={"file": locked.pk, "window": f"{day}/{window}", "source": source})
            alerts = _alerts_for_report(locked, report, policy, now)
    except IntegrityError:  # the same client id raced in: the first one counts
        return ReportResult(HealthReport.objects.get(client_id=cid), False, [])
    escalated = False
    if AlertKind.FEVER in alerts:
        escalated = escalate(user, locked, _("Fever under medical observation: %(t)s °C") % {"t": value}, now=now)
    return ReportResult(report, True, alerts, escalated)


def _new_symptoms(file: ObservationFile, report: HealthReport) -> bool:
    """Symptoms count as new unless one earlier report of the file already had all of them."""
    if not report.symptoms:
        return False
    earlier = HealthReport.objects.filter(file=file, reported_at__lt=report.reported_at).exclude(pk=report.pk)
    return not any(report.symptoms & ~mask == 0 for mask in earlier.exclude(symptoms=0).values_list("symptoms", flat=True))


def _alerts_for_report(file: ObservationFile, report: HealthReport, policy: Policy, now: dt.datetime) -> list[str]:
    """Fever and new symptoms alert at once (the job would find them too; the unique key keeps one)."""
    kinds = []
    key = f"{report.date.isoformat()}/{report.window_name}"
    if report.temperature >= Decimal(str(policy.fever_threshold_c)):
        kinds.append((AlertKind.FEVER, f"{report.temperature} °C"))
    if _new_symptoms(file, report):
        kinds.append((AlertKind.SYMPTOMS, ", ".join(Symptom.labels(report.symptoms))[:100]))
    created: list[str] = []
    for kind, detail in kinds:
        _alert, made = Alert.objects.get_or_create(file=file, kind=kind, key=key, defaults={
            "detail": detail, "created_at": now, "area_code": file.area_code})
        if made:
            created.append(kind)
    return created

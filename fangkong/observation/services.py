"""Domain operations of medical observation (一人一档), used by the screens, the API, the tracing app
and the periodic alert job. Each takes the acting user, checks permission and scope, runs in a
transaction and writes the audit log.

For the tracing app: `open_file(user, resident, kind=..., reason=..., last_exposure_on=..., source="tracing",
source_ref=<contact id>)` opens (or, for a person already under observation, extends) a file.

Reporting windows: the policy's `home_report_windows` (local time, Asia/Shanghai). A report belongs
to a window of its own local calendar day: the window containing its time; between two windows, the
next one (an early report); after the day's last window, that last window (a late report). So a
report never counts for another day, and every day has exactly one slot per window.

The alert job (`run_alert_job`) is set-based SQL: INSERT … SELECT … WHERE NOT EXISTS … ON CONFLICT DO
NOTHING against the unique (file, kind, key) of alerts, so a second run (or two overlapping runs)
inserts nothing. It looks back `lookback_hours` (default 24): the job runs every few minutes, older
windows were judged by earlier runs.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
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
from fangkong.cases.models import Case, NucleicAcidTest, Result, Source, Status
from fangkong.core import permissions
from fangkong.core.errors import FieldErrors
from fangkong.observation.models import (
    Alert,
    AlertKind,
    AlertStatus,
    DecisionKind,
    FileDecision,
    FileSource,
    FileStatus,
    FollowUpNote,
    HealthReport,
    Kind,
    ObservationFile,
    ReportSource,
)
from fangkong.people.models import Resident
from fangkong.people.moves import id_chunks
from fangkong.policy.forms import WINDOW_NAME_LABELS
from fangkong.policy.schema import Policy
from fangkong.policy.services import current_policy
from fangkong.screening.models import Symptom
from fangkong.screening.readings import TemperatureMethod, clean_how_taken
from fangkong.screening.validation import parse_temperature

# Roles that keep observation files in their area (the same as the four categories).
SYSTEM_USERNAME = "fangkong-system"
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
ALL_SYMPTOMS = sum(Symptom.LABELS)


def _require_resident(user, resident: Resident) -> None:
    if not permissions.can_observe(user) or not Resident.objects.restrict(user).filter(pk=resident.pk).exists():
        raise PermissionDenied


def _require_file(user, file: ObservationFile) -> None:
    if not permissions.can_observe(user) or not ObservationFile.objects.restrict(user).filter(pk=file.pk).exists():
        raise PermissionDenied


def _actor(user):
    return user if getattr(user, "pk", None) else None


def system_user() -> User:
    """The acting user of the periodic job and of self-reports (nobody is logged in): an account that
    cannot log in (unusable password) and whose actions the audit log shows as the system's. The
    pipeline's services need a user with the whole city in scope; this is it."""
    user = User.objects.filter(username=SYSTEM_USERNAME).first()
    if user is None:
        user = User(username=SYSTEM_USERNAME, is_superuser=True, is_active=True, first_name=_("system"))
        user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            user = User.objects.get(username=SYSTEM_USERNAME)
    return user


def _text(value: str | None, field: str, limit: int, *, required: bool = True) -> str:
    text = " ".join((value or "").split())
    if required and not text:
        raise FieldErrors({field: _("Give a reason.") if field == "reason" else _("This field is required.")})
    if len(text) > limit:
        raise FieldErrors({field: _("Longer than %(n)d characters.") % {"n": limit}})
    return text


def local_today(now: dt.datetime | None = None) -> dt.date:
    return timezone.localdate(now or timezone.now())


# --- Windows ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    name: str
    start: dt.time
    end: dt.time


def windows(policy: Policy | None = None) -> list[Window]:
    policy = policy or current_policy()
    result = [Window(w.name, dt.time.fromisoformat(w.start), dt.time.fromisoformat(w.end))
              for w in policy.home_report_windows]
    return sorted(result, key=lambda w: w.start)


def window_label(name: str) -> str:
    """A window's name as people read it (早上, 中午, 晚上); a name the commander made up as it is."""
    return str(WINDOW_NAME_LABELS.get(name, name))


def window_list(policy: Policy | None = None) -> list[tuple[str, str, str]]:
    """(label, from, until) of each window of the day, for the pages that tell people when to report."""
    return [(window_label(w.name), w.start.strftime("%H:%M"), w.end.strftime("%H:%M")) for w in windows(policy)]


def window_for(moment: dt.datetime, policy: Policy | None = None) -> tuple[dt.date, str]:
    """The (local date, window name) a report made at `moment` counts for (see the module docstring)."""
    local = timezone.localtime(moment)
    day, clock = local.date(), local.time()
    slots = windows(policy)
    for window in slots:
        if clock < window.end:  # inside it, or before it (the next window)
            return day, window.name
    return day, slots[-1].name  # after the last window: a late report for it


def window_end(day: dt.date, window: Window) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, window.end))


def current_window(now: dt.datetime | None = None, policy: Policy | None = None) -> Window | None:
    """The window open at `now`, if any."""
    local = timezone.localtime(now or timezone.now())
    return next((w for w in windows(policy) if w.start <= local.time() < w.end), None)


# --- Opening a file --------------------------------------------------------------------------------

def _decision(user, file: ObservationFile, kind: str, reason: str, now: dt.datetime,
              old_end: dt.date | None = None, new_end: dt.date | None = None) -> FileDecision:
    decision = FileDecision.objects.create(file=file, kind=kind, old_end_on=old_end, new_end_on=new_end, reason=reason[:200],
                                           decided_by=_actor(user), decided_at=now, area_code=file.area_code)
    changes: dict[str, Any] = {"decision": kind, "reason": reason[:200]}
    if old_end != new_end:
        changes["planned_end_on"] = [old_end.isoformat() if old_end else None, new_end.isoformat() if new_end else None]
    record(user, Action.UPDATE if kind != DecisionKind.OPEN else Action.CREATE, file, object_type="observation.file",
           object_repr=file.resident.name, changes=changes)
    return decision


def _check_responsible(responsible, resident: Resident) -> None:
    if responsible is not None and not (permissions.can_observe(responsible) and responsible.scope.covers_area_code(resident.area_code)):
        raise FieldErrors({"responsible": _("The responsible worker must work in the person's area.")})


def open_file(user, resident: Resident, *, kind: str, reason: str, last_exposure_on: dt.date, source: str = "manual",
              source_ref: str = "", place: str = "", facility=None, responsible=None,
              started_on: dt.date | None = None) -> ObservationFile:
    """Open the person's observation file; idempotent: a person with an open file keeps it (a later last
    exposure pushes the planned end out, logged). planned end = last exposure + policy.observation_days."""
    _require_resident(user, resident)
    policy = current_policy()
    now = timezone.now()
    today = local_today(now)
    reason = _text(reason, "reason", 200)
    place = _text(place, "place", 200, required=False)
    errors: dict[str, str] = {}
    if kind not in Kind.values:
        errors["kind"] = _("Choose home or centralised isolation.")
    if source not in FileSource.values:
        errors["source"] = _("Unknown source.")
    if last_exposure_on > today:
        errors["last_exposure_on"] = _("This date lies in the future.")
    started_on = started_on or today
    if started_on > today:
        errors["started_on"] = _("This date lies in the future.")
    planned_end = last_exposure_on + dt.timedelta(days=policy.observation_days)
    if "last_exposure_on" not in errors and planned_end < max(started_on, today):
        errors["last_exposure_on"] = _("The observation period after this exposure is over already.")
    if kind == Kind.CENTRALISED and facility is None and not place:
        errors["place"] = _("Say where the person is isolated.")
    elif kind == Kind.CENTRALISED and facility is None and place == resident.household.address:
        # Centralised isolation at the home address contradicts itself (类别 集中隔离, 地点 居家).
        errors["place"] = _("Centralised isolation is at an isolation site: name the site, not the home address.")
    if errors:
        raise FieldErrors(errors)
    _check_responsible(responsible, resident)
    for _attempt in range(2):
        try:
            with transaction.atomic():
                existing = (ObservationFile.objects.select_for_update().select_related("resident")
                            .filter(resident=resident, status=FileStatus.OPEN).first())
                if existing is not None:
                    return _later_exposure(user, existing, last_exposure_on, planned_end, now)
                file = ObservationFile.objects.create(
                    resident=resident, kind=kind, reason=reason, source=source, source_ref=(source_ref or "")[:64],
                    started_on=started_on, last_exposure_on=last_exposure_on, planned_end_on=planned_end,
                    place=place, facility=facility, responsible=responsible, token=secrets.token_urlsafe(32),
                    area_code=resident.area_code, created_by=_actor(user), created_at=now)
                _decision(user, file, DecisionKind.OPEN, reason, now, None, planned_end)
                return file
        except IntegrityError:  # another request opened it at the same moment: take that one
            continue
    return ObservationFile.objects.get(resident=resident, status=FileStatus.OPEN)


def _later_exposure(user, file: ObservationFile, last_exposure_on: dt.date, planned_end: dt.date,
                    now: dt.datetime) -> ObservationFile:
    if last_exposure_on <= file.last_exposure_on:
        return file
    old_end = file.planned_end_on
    file.last_exposure_on = last_exposure_on
    file.planned_end_on = max(old_end, planned_end)
    file.save(update_fields=["last_exposure_on", "planned_end_on", "updated_at"])
    _decision(user, file, DecisionKind.EXPOSURE,
              _("Later exposure on %(date)s") % {"date": last_exposure_on.isoformat()}, now, old_end, file.planned_end_on)
    return file


def reissue_token(user, file: ObservationFile) -> ObservationFile:
    """A new self-report link: the old link and its printed QR code stop working."""
    _require_file(user, file)
    with transaction.atomic():
        file.token = secrets.token_urlsafe(32)
        file.save(update_fields=["token", "updated_at"])
        record(user, Action.UPDATE, file, object_type="observation.file", object_repr=file.resident.name,
               changes={"token": ["…", "…"]})
    return file


def file_by_token(token: str) -> ObservationFile | None:
    if not token or len(token) > 64:
        return None
    return ObservationFile.objects.select_related("resident").filter(token=token, status=FileStatus.OPEN).first()


# --- Decisions and the follow-up log ---------------------------------------------------------------

def decide(user, file: ObservationFile, kind: str, reason: str, *, new_end_on: dt.date | None = None) -> ObservationFile:
    """Extend or shorten the period, or end the file early: only by an explicit, logged decision."""
    _require_file(user, file)
    reason = _text(reason, "reason", 200)
    now = timezone.now()
    with transaction.atomic():
        locked = ObservationFile.objects.select_for_update().select_related("resident").get(pk=file.pk)
        if locked.status != FileStatus.OPEN:
            raise FieldErrors({"kind": _("This file is closed.")})
        old_end = locked.planned_end_on
        if kind == DecisionKind.END:
            locked.status, locked.ended_at, locked.ended_by = FileStatus.ENDED, now, _actor(user)
            locked.save(update_fields=["status", "ended_at", "ended_by", "updated_at"])
            _decision(user, locked, kind, reason, now, old_end, old_end)
            return locked
        if kind not in (DecisionKind.EXTEND, DecisionKind.SHORTEN):
            raise FieldErrors({"kind": _("Choose extend, shorten or end.")})
        if new_end_on is None:
            raise FieldErrors({"new_end_on": _("Give the new end date.")})
        if kind == DecisionKind.EXTEND and new_end_on <= old_end:
            raise FieldErrors({"new_end_on": _("An extension ends after the planned end (%(date)s).") % {"date": old_end}})
        if kind == DecisionKind.SHORTEN and not (locked.started_on <= new_end_on < old_end):
            raise FieldErrors({"new_end_on": _("A shortened period ends between the start and the planned end.")})
        locked.planned_end_on = new_end_on
        locked.save(update_fields=["planned_end_on", "updated_at"])
        _decision(user, locked, kind, reason, now, old_end, new_end_on)
    return locked


def add_note(user, file: ObservationFile, note: str) -> FollowUpNote:
    _require_file(user, file)
    text = _text(note, "note", 500)
    with transaction.atomic():
        entry = FollowUpNote.objects.create(file=file, note=text, written_by=_actor(user), written_at=timezone.now(),
                                            area_code=file.area_code)
        record(user, Action.UPDATE, file, object_type="observation.file", object_repr=file.resident.name,
               changes={"follow_up": text})
    return entry


# --- Health reports --------------------------------------------------------------------------------

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


def record_worker_report(user, file: ObservationFile, *, temperature: Any, symptoms: Any = 0,
                         client_id: uuid.UUID | str | None = None, reported_at: dt.datetime | None = None,
                         how: HowTakenInput | None = None) -> ReportResult:
    """A worker enters a reading after a phone call (or a visit)."""
    _require_file(user, file)
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


def _record(user, file: ObservationFile, temperature: Any, symptoms: Any, client_id: Any,
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
    if errors:
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
                reading_unreliable=taken.unreliable, reported_at=reported_at, recorded_by=_actor(user),
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
    created = []
    for kind, detail in kinds:
        _alert, made = Alert.objects.get_or_create(file=file, kind=kind, key=key, defaults={
            "detail": detail, "created_at": now, "area_code": file.area_code})
        if made:
            created.append(kind)
    return created


# --- Escalation and violation ----------------------------------------------------------------------

def escalate(user, file: ObservationFile, reason: str, *, now: dt.datetime | None = None) -> bool:
    """Fever: take the person into the four categories as a fever patient (a close contact moves from
    close contact to fever patient), which puts them in the placement backlog with category fever →
    fever clinic (policy routing; a 120 ambulance for categories the policy names). The file is
    closed as escalated. Idempotent: False when the file was not open any more."""
    from fangkong.cases import services as cases

    now = now or timezone.now()
    acting = user if permissions.can_observe(user) else system_user()
    with transaction.atomic():
        locked = ObservationFile.objects.select_for_update().select_related("resident").get(pk=file.pk)
        if locked.status != FileStatus.OPEN:
            return False
        try:
            cases.open_case(acting, locked.resident, Status.FEVER, reason, source=Source.OBSERVATION,
                            source_ref=f"observation:{locked.pk}", flagged_at=now, now=now)
        except FieldErrors:
            # Already further along (tested, suspected, confirmed): the pipeline has the person already.
            pass
        locked.status, locked.ended_at, locked.ended_by = FileStatus.ESCALATED, now, _actor(acting)
        locked.save(update_fields=["status", "ended_at", "ended_by", "updated_at"])
        _decision(acting, locked, DecisionKind.ESCALATE, reason, now, locked.planned_end_on, locked.planned_end_on)
    return True


def follow_admission(user, stay, case: Case, now: dt.datetime) -> None:
    """An isolation site admitted the person: their open file is now centralised observation there
    (a close contact queued by tracing, or a home isolation turned into an order after a violation)."""
    from fangkong.facilities.models import FacilityKind

    if stay.facility.kind != FacilityKind.ISOLATION_SITE:
        return
    file = ObservationFile.objects.select_for_update().filter(resident_id=case.resident_id, status=FileStatus.OPEN).first()
    if file is None or file.facility_id == stay.facility_id:
        return
    before = {"kind": file.kind, "place": file.place}
    file.kind, file.facility, file.place = Kind.CENTRALISED, stay.facility, stay.facility.name[:200]
    file.save(update_fields=["kind", "facility", "place", "updated_at"])
    record(user, Action.UPDATE, file, object_type="observation.file", object_repr=case.resident.name,
           area_code=file.area_code, changes={"kind": [before["kind"], file.kind], "place": [before["place"], file.place]})


def record_violation(user, file: ObservationFile, note: str) -> Alert:
    """The person left home isolation: a violation alert, and the file becomes an order for centralised
    isolation. Placement works on cases (category from routing_category): a close contact with an
    open case waits for an isolation-site bed already; anybody else is taken up as a close contact
    (source observation, the reason naming the violation) so that they join the backlog. A person
    further along the pipeline (fever, suspected, …) is placed by that category instead."""
    from fangkong.cases import services as cases

    _require_file(user, file)
    note = _text(note, "note", 200)
    now = timezone.now()
    with transaction.atomic():
        locked = ObservationFile.objects.select_for_update().select_related("resident").get(pk=file.pk)
        if locked.status != FileStatus.OPEN:
            raise FieldErrors({"note": _("This observation file is closed.")})
        key = timezone.localtime(now).strftime("%Y-%m-%dT%H:%M:%S")
        alert, _made = Alert.objects.get_or_create(file=locked, kind=AlertKind.VIOLATION, key=key, defaults={
            "detail": note[:100], "created_at": now, "area_code": locked.area_code})
        reason = _("Left home isolation: centralised isolation ordered (%(note)s)") % {"note": note}
        case = Case.objects.filter(resident=locked.resident).first()
        if case is None or case.status != Status.CLOSE_CONTACT:
            try:
                cases.open_case(user, locked.resident, Status.CLOSE_CONTACT, reason[:200], source=Source.OBSERVATION,
                                source_ref=f"observation:{locked.pk}", now=now)
            except FieldErrors:
                pass  # in another category: placed by that one
        if locked.kind != Kind.CENTRALISED:
            locked.kind, locked.place = Kind.CENTRALISED, ""
            locked.save(update_fields=["kind", "place", "updated_at"])
        _decision(user, locked, DecisionKind.VIOLATION, reason, now, locked.planned_end_on, locked.planned_end_on)
    return alert


def handle_alert(user, alert: Alert, note: str = "") -> Alert:
    if not permissions.can_observe(user) or not Alert.objects.restrict(user).filter(pk=alert.pk).exists():
        raise PermissionDenied
    note = _text(note, "note", 200, required=False)
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.status == AlertStatus.HANDLED:
            return locked
        locked.status, locked.handled_by, locked.handled_at, locked.note = AlertStatus.HANDLED, _actor(user), timezone.now(), note
        locked.save(update_fields=["status", "handled_by", "handled_at", "note"])
        record(user, Action.UPDATE, locked, object_type="observation.alert", object_repr=f"{locked.kind} {locked.key}",
               changes={"status": [AlertStatus.OPEN, AlertStatus.HANDLED], "note": note})
    return locked


# --- The periodic alert job ------------------------------------------------------------------------

def _slots(now: dt.datetime, lookback_hours: int, policy: Policy) -> list[tuple[str, str, str, Any]]:
    """(date, window, key, end) of every window that ended in (now - lookback, now]."""
    since = now - dt.timedelta(hours=lookback_hours)
    day = local_today(now)
    result = []
    for offset in range(lookback_hours // 24 + 2):
        d = day - dt.timedelta(days=offset)
        for window in windows(policy):
            end = window_end(d, window)
            if since < end <= now:
                result.append((connection.ops.adapt_datefield_value(d), window.name, f"{d.isoformat()}/{window.name}",
                               connection.ops.adapt_datetimefield_value(end)))
    return result


def run_alert_job(now: dt.datetime | None = None, *, lookback_hours: int = 24) -> dict[str, int]:
    """Missed windows, fevers and new symptoms of open files → alerts (set-based; twice = once), then
    fever escalation of the files that have an open fever alert. Returns the counts created."""
    policy = current_policy()
    now = now or timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    since = now - dt.timedelta(hours=lookback_hours)
    since_day = connection.ops.adapt_datefield_value(local_today(since))
    counts = {"missed": 0, "fever": 0, "symptoms": 0, "escalated": 0}
    slots = _slots(now, lookback_hours, policy)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # These statements are short scans; JIT compiling each (~0.2 s) costs more than it saves. A
            # window's reports (one row per file) are hashed for the anti-join: at 200,000 files the
            # default 4 MB spills to disk (measured 441 → 333 ms a window with 32 MB).
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL work_mem = '32MB'")
        for day, window, key, ends_at in slots:
            # One statement per window (a handful in the look-back): with constants the planner sees the
            # day's reports of that window and anti-joins them by hash, instead of probing per file.
            # A window that has ended, of a day inside the file's period, of a file opened before the
            # window ended (no alert for the morning of a file opened in the afternoon), with no report.
            cursor.execute(
                "INSERT INTO observation_alert (file_id, kind, key, detail, status, created_at, note, area_code) "
                "SELECT f.id, 'missed', %s, '', 'open', %s, '', f.area_code FROM observation_observationfile f "
                "WHERE f.status = 'open' AND f.started_on <= %s AND f.planned_end_on >= %s AND f.created_at < %s "
                "AND NOT EXISTS (SELECT 1 FROM observation_healthreport r "
                "WHERE r.file_id = f.id AND r.date = %s AND r.window_name = %s) "
                # Alerted already: the unique (file, kind, key) skips it. An anti-join on the alerts
                # instead was planned as a nested loop when their statistics lagged (2.5 s a window).
                "ON CONFLICT DO NOTHING", [key, stamp, day, day, ends_at, day, window])
            counts["missed"] += max(cursor.rowcount, 0)
        key = "CAST(r.date AS VARCHAR(10)) || '/' || r.window_name"
        report_filter = ("FROM observation_healthreport r JOIN observation_observationfile f ON f.id = r.file_id "
                         "WHERE f.status = 'open' AND r.date >= %s AND r.reported_at <= %s ")
        cursor.execute(
            "INSERT INTO observation_alert (file_id, kind, key, detail, status, created_at, note, area_code) "
            f"SELECT DISTINCT r.file_id, 'fever', {key}, '', 'open', %s, '', f.area_code {report_filter}"
            "AND r.temperature >= %s "
            f"AND NOT EXISTS (SELECT 1 FROM observation_alert a WHERE a.file_id = r.file_id AND a.kind = 'fever' AND a.key = {key}) "
            "ON CONFLICT DO NOTHING", [stamp, since_day, stamp, Decimal(str(policy.fever_threshold_c))])
        counts["fever"] = max(cursor.rowcount, 0)
        # New symptoms: no earlier report of the file had all of them (bitwise, on both databases).
        cursor.execute(
            "INSERT INTO observation_alert (file_id, kind, key, detail, status, created_at, note, area_code) "
            f"SELECT DISTINCT r.file_id, 'symptoms', {key}, '', 'open', %s, '', f.area_code {report_filter}"
            "AND r.symptoms <> 0 "
            "AND NOT EXISTS (SELECT 1 FROM observation_healthreport p WHERE p.file_id = r.file_id "
            "AND p.reported_at < r.reported_at AND p.symptoms <> 0 AND (r.symptoms & ~p.symptoms) = 0) "
            f"AND NOT EXISTS (SELECT 1 FROM observation_alert a WHERE a.file_id = r.file_id AND a.kind = 'symptoms' AND a.key = {key}) "
            "ON CONFLICT DO NOTHING", [stamp, since_day, stamp])
        counts["symptoms"] = max(cursor.rowcount, 0)
    # Escalation goes through the pipeline's services person by person (history, placement, audit);
    # it touches only the few files with a fever, never the whole set.
    fever_files = ObservationFile.objects.filter(
        status=FileStatus.OPEN, alerts__kind=AlertKind.FEVER, alerts__status=AlertStatus.OPEN).distinct()
    for file in fever_files.select_related("resident"):
        if escalate(None, file, _("Fever under medical observation (alert job)"), now=now):
            counts["escalated"] += 1
    return counts


# --- Release ---------------------------------------------------------------------------------------

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


def _release_case(user, resident_id: int, now: dt.datetime) -> None:
    """A close contact's case moves to released through the pipeline (bookings freed, history written)."""
    from fangkong.cases import services as cases

    case = Case.objects.filter(resident_id=resident_id, status=Status.CLOSE_CONTACT).first()
    if case is not None:
        cases.transition(user, case, Status.RELEASED, _("Medical observation ended without fever or symptoms"), now=now)


def release_file(user, file: ObservationFile) -> ObservationFile:
    """Release one eligible file: closed, a notice number issued, a close-contact case released."""
    _require_file(user, file)
    now = timezone.now()
    today = local_today(now)
    with transaction.atomic():
        if not eligible_for_release(ObservationFile.objects.filter(pk=file.pk), today).exists():
            raise FieldErrors({"release": _("Not eligible for release yet: the period must be over, free of fever and "
                                            "symptoms, with the required negative tests.")})
        locked = ObservationFile.objects.select_for_update().select_related("resident").get(pk=file.pk)
        locked.status, locked.ended_at, locked.ended_by = FileStatus.RELEASED, now, _actor(user)
        locked.notice_number = notice_number(locked.pk, today)
        locked.save(update_fields=["status", "ended_at", "ended_by", "notice_number", "updated_at"])
        _decision(user, locked, DecisionKind.RELEASE, _("Released: notice %(n)s") % {"n": locked.notice_number}, now,
                  locked.planned_end_on, locked.planned_end_on)
        _release_case(user, locked.resident_id, now)
    return locked


def release_eligible(user, area_code: str) -> int:
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
            status=FileStatus.RELEASED, ended_at=now, ended_by=_actor(user), updated_at=now,
            notice_number=Concat(Value(f"JC{today:%Y%m%d}-"), Cast("id", CharField())))
        FileDecision.objects.bulk_create([
            FileDecision(file_id=pk, kind=DecisionKind.RELEASE, reason=_("Released with the area (bulk)"),
                         decided_by=_actor(user), decided_at=now, area_code=code) for pk, _r, code in rows])
        record(user, Action.UPDATE, object_type="observation.file", object_repr=_("Bulk release"), area_code=area_code,
               changes={"released": len(ids), "files": ids[:1000]})
        for _pk, resident_id, _code in rows:
            _release_case(user, resident_id, now)
    return len(ids)


# --- Moves -----------------------------------------------------------------------------------------

def follow_moved_residents(resident_ids) -> None:
    """Residents moved house: their files, reports, alerts, decisions and notes take the new area code."""
    with connection.cursor() as cursor:
        for part, marks in id_chunks(resident_ids):
            cursor.execute(
                "UPDATE observation_observationfile AS t SET area_code = r.area_code FROM people_resident AS r "
                f"WHERE r.id = t.resident_id AND t.area_code <> r.area_code AND r.id IN ({marks})", part)
            for table in ("observation_healthreport", "observation_alert", "observation_filedecision", "observation_followupnote"):
                cursor.execute(
                    f"UPDATE {table} AS t SET area_code = f.area_code FROM observation_observationfile AS f "
                    f"WHERE f.id = t.file_id AND t.area_code <> f.area_code AND f.resident_id IN ({marks})", part)

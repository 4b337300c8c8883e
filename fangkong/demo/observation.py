"""Demo medical observation: a few hundred people under home or centralised observation in the demo
city (the close contacts of the four categories and a sample of residents, some in the first grid
that the demo grid worker sees), with their reports so far (one per window of the policy): most
windows reported, some missed, a few fevers. Written in bulk; then the alert job runs once, so the
boards show alerts and the fevers are escalated into the four categories as the real job would.

Close contacts are observed where the policy says (observation_centralised): at the isolation site
that admitted them, or awaiting a bed there; everybody else at home, at their own address. Every open
file gets a responsible worker (包保责任人): the grid's worker, else the community's (a demo account
where one exists, otherwise a worker made for the grid, who cannot log in)."""

from __future__ import annotations

import datetime as dt
import random
import secrets
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from fangkong.accounts.models import Role, User
from fangkong.areas.models import Area, Building, Level
from fangkong.cases.models import Case, Status
from fangkong.demo import names
from fangkong.facilities.models import Stay, StayStatus
from fangkong.observation.alerts import run_alert_job
from fangkong.observation.models import (
    DecisionKind,
    FileDecision,
    FileSource,
    FileStatus,
    HealthReport,
    Kind,
    ObservationFile,
    ReportSource,
)
from fangkong.observation.windows import window_end, windows
from fangkong.people.models import Resident
from fangkong.policy.services import current_policy


def build_demo_observation(seed: int = 2020, count: int = 300) -> dict[str, int]:
    # Once: health reports are the demo's mark (the demo tracing, run before, opens files without reports).
    if HealthReport.objects.exists() or not Resident.objects.exists():
        return {"files": 0, "reports": 0}
    rng = random.Random(seed)
    policy = current_policy()
    now = timezone.now()
    today = timezone.localdate(now)
    busy = set(Case.objects.exclude(status=Status.CLOSE_CONTACT).values_list("resident_id", flat=True))
    busy |= set(ObservationFile.objects.values_list("resident_id", flat=True))  # one open file a person
    chosen = list(Case.objects.filter(status=Status.CLOSE_CONTACT).exclude(resident_id__in=busy)
                  .values_list("resident_id", flat=True)[:count // 3])
    first_grid = Building.objects.filter(grid__isnull=False).order_by("grid__code").values_list("grid_id", flat=True).first()
    if first_grid:
        chosen += list(Resident.objects.filter(household__building__grid_id=first_grid).exclude(pk__in=busy)
                       .order_by("id").values_list("id", flat=True)[12:24])
    ids = list(Resident.objects.exclude(pk__in=busy).order_by("id").values_list("id", flat=True))
    chosen += rng.sample(ids, min(len(ids), max(count - len(chosen), 0)))
    chosen = list(dict.fromkeys(chosen))[:count]
    residents = {r.pk: r for r in Resident.objects.filter(pk__in=chosen).select_related(
        "household__compound", "household__building", "household__unit")}
    contacts = set(Case.objects.filter(status=Status.CLOSE_CONTACT, resident_id__in=chosen).values_list("resident_id", flat=True))
    sites = {stay.case.resident_id: stay.facility for stay in Stay.objects.filter(
        status=StayStatus.ADMITTED, facility__kind="isolation_site", case__resident_id__in=contacts).select_related("case", "facility")}
    slots = windows(policy)
    files, reports = [], []
    for resident_id in chosen:
        exposure = today - dt.timedelta(days=rng.randint(1, 13))
        start = exposure + dt.timedelta(days=1)
        created = timezone.make_aware(dt.datetime.combine(start, dt.time(8, 0)))
        resident = residents[resident_id]
        centralised = policy.observation_centralised and resident_id in contacts
        site = sites.get(resident_id) if centralised else None
        # The kind and the place agree: an isolation site (or awaiting its bed) for centralised, home otherwise.
        place = (site.name if site else "等待安排集中隔离点床位") if centralised else resident.household.address
        files.append(ObservationFile(
            resident_id=resident_id, kind=Kind.CENTRALISED if centralised else Kind.HOME,
            reason="密切接触者，流调判定" if resident_id in contacts else "居家隔离医学观察",
            source=FileSource.TRACING if resident_id in contacts else FileSource.MANUAL, started_on=start,
            last_exposure_on=exposure, planned_end_on=exposure + dt.timedelta(days=policy.observation_days), place=place[:200],
            facility=site, token=secrets.token_urlsafe(32), area_code=resident.area_code, created_at=created))
    with transaction.atomic():
        ObservationFile.objects.bulk_create(files, batch_size=1000)
        files = list(ObservationFile.objects.filter(resident_id__in=chosen).order_by("id"))
        FileDecision.objects.bulk_create([
            FileDecision(file=f, kind=DecisionKind.OPEN, new_end_on=f.planned_end_on, reason=f.reason,
                         decided_at=f.created_at, area_code=f.area_code) for f in files], batch_size=1000)
        for f in files:
            day = f.started_on
            feverish = rng.random() < 0.02
            while day <= today:
                for window in slots:
                    end = window_end(day, window)
                    if end > now or rng.random() < 0.06:  # not due yet, or missed
                        continue
                    value = round(rng.gauss(36.5, 0.2), 1)
                    if feverish and day == today:
                        value = 38.2
                    reports.append(HealthReport(
                        file=f, date=day, window_name=window.name, temperature=Decimal(str(min(max(value, 35.5), 39.5))),
                        source=ReportSource.SELF if rng.random() < 0.8 else ReportSource.WORKER,
                        reported_at=end - dt.timedelta(hours=1), area_code=f.area_code))
                day += dt.timedelta(days=1)
        HealthReport.objects.bulk_create(reports, batch_size=2000)
    counts = run_alert_job(now)
    return {"files": len(files), "reports": len(reports), **counts, "responsible": assign_demo_responsibles(seed)}


def _worker_for(area: Area, rng: random.Random) -> User:
    """The area's worker: a demo account that logs in if there is one, else one made for the area."""
    role = Role.GRID_WORKER if area.level == Level.GRID else Role.COMMUNITY_WORKER
    workers = User.objects.filter(role=role, area=area, is_active=True).order_by("id")
    loggable = next((w for w in workers if w.has_usable_password()), None)
    if loggable or workers:
        return loggable or workers[0]
    sex = rng.choice("MF")
    given = rng.choice(names.MALE_CHARS if sex == "M" else names.FEMALE_CHARS)
    worker = User(username=f"wg{area.code}", role=role, area=area, first_name=rng.choice(names.SURNAMES[:30]) + given,
                  phone=rng.choice(names.PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}")
    worker.set_unusable_password()
    worker.save()
    return worker


def assign_demo_responsibles(seed: int = 2020) -> int:
    """Every open file gets a responsible worker (idempotent). A file held by a worker made for the demo
    moves to the area's demo account once `demo-accounts` has created it (the grid account then sees
    its own people on the board). Returns how many files changed hands."""
    rng = random.Random(seed)
    codes = set(ObservationFile.objects.filter(status=FileStatus.OPEN).values_list("area_code", flat=True).distinct())
    areas = {a.code: a for a in Area.objects.filter(code__in=codes)}
    changed = 0
    with transaction.atomic():
        for code in sorted(codes):
            area = areas.get(code)
            if area is None or area.level not in (Level.GRID, Level.COMMUNITY):
                continue
            worker = _worker_for(area, rng)
            made = User.objects.filter(area=area, username__startswith="wg").exclude(pk=worker.pk)
            changed += ObservationFile.objects.filter(status=FileStatus.OPEN, area_code=code).filter(
                Q(responsible__isnull=True) | Q(responsible__in=made)).update(responsible=worker)
    return changed

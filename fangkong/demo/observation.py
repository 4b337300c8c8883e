"""Demo medical observation: a few hundred people under home or centralised observation in the demo
city (the close contacts of the four categories and a sample of residents, some in the first grid
that the demo grid worker sees), with their twice-daily reports so far: most windows reported, some
missed, a few fevers. Written in bulk; then the alert job runs once, so the boards show alerts and
the fevers are escalated into the four categories as the real job would."""

from __future__ import annotations

import datetime as dt
import random
import secrets
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from fangkong.areas.models import Building
from fangkong.cases.models import Case, Status
from fangkong.observation.models import (
    DecisionKind,
    FileDecision,
    FileSource,
    HealthReport,
    Kind,
    ObservationFile,
    ReportSource,
)
from fangkong.observation.services import run_alert_job, window_end, windows
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
    residents = dict(Resident.objects.filter(pk__in=chosen).values_list("id", "area_code"))
    slots = windows(policy)
    files, reports = [], []
    for resident_id in chosen:
        exposure = today - dt.timedelta(days=rng.randint(1, 13))
        start = exposure + dt.timedelta(days=1)
        created = timezone.make_aware(dt.datetime.combine(start, dt.time(8, 0)))
        files.append(ObservationFile(
            resident_id=resident_id, kind=Kind.HOME if rng.random() < 0.8 else Kind.CENTRALISED, reason="密切接触者，流调判定",
            source=FileSource.TRACING, started_on=start, last_exposure_on=exposure,
            planned_end_on=exposure + dt.timedelta(days=policy.observation_days), place="居家", token=secrets.token_urlsafe(32),
            area_code=residents[resident_id], created_at=created))
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
    return {"files": len(files), "reports": len(reports), **counts}

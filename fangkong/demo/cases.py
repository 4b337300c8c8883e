"""Demo facilities and people in the four categories, so the boards of `make demo` are not empty.

Facilities: in every district a designated hospital, a shelter hospital, an isolation site, a recovery
station and a fever clinic (with a day of hourly appointment slots), placed near the district's compounds;
火神山 and 雷神山 in the first district.
People: a small share of the residents (and a dozen in the first grid, which the demo grid worker
sees) in every status, some admitted to fitting beds, the rest waiting for the placement engine.
Written in bulk (a few inserts per table), with history, tests and bed counts consistent.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from django.db import transaction
from django.db.models import Avg
from django.utils import timezone

from fangkong.areas.models import Area, Building, Compound, Level
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
from fangkong.cases.services import post_discharge_end
from fangkong.cases.transitions import routing_category
from fangkong.facilities.models import AppointmentSlot, BedPool, Facility, FacilityKind, Stay, StayStatus
from fangkong.facilities.routing import options
from fangkong.people.models import Resident
from fangkong.policy.services import current_policy

# kind, name suffix, beds by kind
DISTRICT_FACILITIES = (
    (FacilityKind.DESIGNATED_HOSPITAL, "定点医院", {"icu": 20, "ordinary": 120, "single_room": 20}),
    (FacilityKind.SHELTER_HOSPITAL, "方舱医院", {"ordinary": 200}),
    (FacilityKind.ISOLATION_SITE, "集中隔离点", {"single_room": 120}),
    (FacilityKind.RECOVERY_STATION, "康复驿站", {"ordinary": 40, "single_room": 20}),
    (FacilityKind.FEVER_CLINIC, "发热门诊", {"single_room": 10, "ordinary": 10}),
)
SPECIAL_HOSPITALS = (("火神山医院", {"icu": 30, "ordinary": 970}), ("雷神山医院", {"icu": 48, "ordinary": 1552}))
# status, severity, weight
MIX = (
    (Status.FEVER, "", 12), (Status.TESTED, "", 8), (Status.SUSPECTED, "", 14),
    (Status.CONFIRMED, Severity.MILD, 12), (Status.CONFIRMED, Severity.MODERATE, 9),
    (Status.CONFIRMED, Severity.SEVERE, 6), (Status.CONFIRMED, Severity.CRITICAL, 3),
    (Status.CLOSE_CONTACT, "", 26), (Status.DISCHARGED, "", 5), (Status.EXCLUDED, "", 5),
)
REASONS = {
    Status.FEVER: "网格排查发现发热（37.8°C）", Status.TESTED: "发热门诊已采样", Status.SUSPECTED: "核酸检测阳性，待确诊",
    Status.CONFIRMED: "临床诊断确诊", Status.CLOSE_CONTACT: "流调判定为密切接触者", Status.DISCHARGED: "治愈出院",
    Status.EXCLUDED: "两次核酸阴性，排除",
}


def _centre(area: Area) -> tuple[float, float]:
    avg = Compound.objects.filter(area_code__startswith=area.code, longitude__isnull=False).aggregate(
        lon=Avg("longitude"), lat=Avg("latitude"))
    return float(avg["lon"] or 114.3), float(avg["lat"] or 30.6)


@transaction.atomic
def ensure_demo_facilities(seed: int = 2020) -> list[Facility]:
    """Create the demo facilities once (idempotent: nothing happens if any facility exists)."""
    if Facility.objects.exists():
        return list(Facility.objects.order_by("id"))
    rng = random.Random(seed)
    districts = list(Area.objects.filter(level=Level.DISTRICT).order_by("code"))
    for index, district in enumerate(districts):
        lon, lat = _centre(district)
        specs = list(DISTRICT_FACILITIES)
        if index == 0:
            specs = [(FacilityKind.DESIGNATED_HOSPITAL, name, beds) for name, beds in SPECIAL_HOSPITALS] + specs
        for kind, suffix, beds in specs:
            name = suffix if suffix.endswith("山医院") else f"{district.name}{suffix}"
            facility = Facility(name=name, kind=kind, area=district, address=f"{district.name}{suffix}院区",
                                longitude=round(lon + rng.uniform(-0.03, 0.03), 6), latitude=round(lat + rng.uniform(-0.03, 0.03), 6))
            facility.save()
            BedPool.objects.bulk_create([BedPool(facility=facility, kind=k, capacity=c) for k, c in beds.items()])
            if kind == FacilityKind.FEVER_CLINIC:  # 诊疗预约: hourly appointment slots for the next day
                first = timezone.now().replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
                AppointmentSlot.objects.bulk_create([AppointmentSlot(facility=facility, starts_at=first + dt.timedelta(hours=h),
                                                                     minutes=60, capacity=8) for h in range(24)])
    return list(Facility.objects.order_by("id"))


@transaction.atomic
def build_demo_cases(seed: int = 2020, share: float = 0.006) -> Counter:
    """People in every status (idempotent: nothing happens if any case exists). Returns counts by status."""
    if Case.objects.exists() or not Resident.objects.exists():
        return Counter()
    ensure_demo_facilities(seed)
    rng = random.Random(seed)
    policy = current_policy()
    now = timezone.now()
    ids = list(Resident.objects.order_by("id").values_list("id", flat=True))
    chosen = set(rng.sample(ids, max(1, int(len(ids) * share))))
    first_grid = Building.objects.filter(grid__isnull=False).order_by("grid__code").values_list("grid_id", flat=True).first()
    if first_grid:
        chosen.update(Resident.objects.filter(household__building__grid_id=first_grid).order_by("id").values_list("id", flat=True)[:12])
    residents = list(Resident.objects.filter(pk__in=chosen).order_by("id").values_list("id", "area_code", "name"))
    weights = [w for *_x, w in MIX]
    pools = {(p.facility_id, p.kind): p for p in BedPool.objects.select_related("facility")}
    cases, plans = [], []
    for n, (resident_id, area_code, _name) in enumerate(residents):
        status, severity, _w = rng.choices(MIX, weights)[0] if n >= 4 else MIX[(0, 3, 7, 2)[n]]
        opened = now - dt.timedelta(hours=rng.uniform(2, 96))
        since = opened + (now - opened) * rng.uniform(0.2, 0.9)
        category = routing_category(status, severity)
        cases.append(Case(resident_id=resident_id, status=status, severity=severity, category=category, status_since=since,
                          opened_at=opened, flagged_at=opened - dt.timedelta(minutes=rng.randint(20, 300)), source=Source.SCREENING,
                          tested=status not in (Status.FEVER, Status.CLOSE_CONTACT), area_code=area_code,
                          first_sampled_at=opened + dt.timedelta(hours=1) if status not in (Status.FEVER, Status.CLOSE_CONTACT) else None,
                          # Cured: the post-discharge period's last day, some of them already due (discharged days ago).
                          post_discharge_until=post_discharge_end(since - dt.timedelta(days=n % (policy.post_discharge_days + 1)), policy)
                          if status == Status.DISCHARGED else None))
        plans.append(rng.random() < 0.5)
    Case.objects.bulk_create(cases, batch_size=1000)
    cases = list(Case.objects.order_by("id"))
    history, tests, stays = [], [], []
    for case, admit in zip(cases, plans, strict=True):
        history.append(StatusChange(case=case, to_status=case.status, to_severity=case.severity, reason=REASONS[case.status],
                                    changed_at=case.status_since, area_code=case.area_code))
        if case.tested:
            result = {Status.TESTED: Result.PENDING, Status.EXCLUDED: Result.NEGATIVE}.get(case.status, Result.POSITIVE)
            sampled = case.first_sampled_at
            tests.append(NucleicAcidTest(case=case, sample_number=f"D{case.pk:07d}", ordered_at=case.opened_at, sampled_at=sampled,
                                         sample_place="发热门诊", sample_taker="采样护士", result=result,
                                         result_at=sampled + dt.timedelta(hours=6) if result else None,
                                         result_entered_at=sampled + dt.timedelta(hours=7) if result else None,
                                         lab="武汉市疾控中心" if result else "", area_code=case.area_code))
        if not case.category:
            continue
        placed = None
        if admit:
            fitting = {(o.facility_kind, o.bed_kind) for o in options(policy, case.category)}
            candidates = [p for p in pools.values() if (p.facility.kind, p.kind) in fitting and p.free > 0
                          and case.area_code.startswith(p.facility.area_code)]
            if candidates:
                placed = rng.choice(candidates)
                placed.occupied += 1
                booked = case.status_since + dt.timedelta(minutes=rng.randint(30, 240))
                stays.append(Stay(case=case, facility=placed.facility, bed_kind=placed.kind, category=case.category,
                                  status=StayStatus.ADMITTED, area_code=case.area_code, waiting_since=case.status_since,
                                  booked_at=booked, admitted_at=booked + dt.timedelta(minutes=rng.randint(40, 180))))
        case.placement = Placement.PLACED if placed else Placement.WAITING
        case.waiting_since = None if placed else case.status_since
    StatusChange.objects.bulk_create(history, batch_size=1000)
    NucleicAcidTest.objects.bulk_create(tests, batch_size=1000)
    Stay.objects.bulk_create(stays, batch_size=1000)
    Case.objects.bulk_update(cases, ["placement", "waiting_since"], batch_size=1000)
    BedPool.objects.bulk_update(list(pools.values()), ["occupied"], batch_size=1000)
    return Counter(c.status for c in cases)

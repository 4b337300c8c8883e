"""Helpers for the cross-check tests: evidence written straight to the tables, dated relative to
today (Asia/Shanghai), for the small city of fangkong/testing.py."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from django.utils import timezone

from fangkong.areas.models import Household, Unit
from fangkong.crosscheck.models import LitCount, MeterReading, Returnee


def day(days_ago: int = 0) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days_ago)


def readings(household: Household, *kwh: float, last: int = 0) -> None:
    """One reading a day, the last one `last` days ago: readings(h, 5, 5, 5) = the last three days."""
    for offset, value in enumerate(reversed(kwh)):
        MeterReading.objects.update_or_create(household=household, date=day(last + offset),
                                              defaults={"kwh": Decimal(str(value)), "area_code": household.area_code})


def lit(building, count: int, days_ago: int = 0) -> None:
    LitCount.objects.update_or_create(building=building, date=day(days_ago),
                                      defaults={"lit": count, "area_code": building.area_code})


def returnee(doc_number: str, days_ago: int = 1, household: Household | None = None, area_code: str = "",
             name: str = "李明", doc_type: str = "id_card") -> Returnee:
    return Returnee.objects.create(name=name, doc_type=doc_type, doc_number=doc_number, arrival_date=day(days_ago),
                                   origin="湖北省孝感市", household=household,
                                   area_code=household.area_code if household else area_code)


def empty_household(city, building_key: str = "a1", room: str = "103") -> Household:
    """A dwelling in the registry with nobody registered."""
    unit = Unit.objects.get(building=city.buildings[building_key], name="1单元")
    household = Household(unit=unit, room=room)
    household.save()
    return household


def csv_bytes(header: list[str], *rows: list) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")

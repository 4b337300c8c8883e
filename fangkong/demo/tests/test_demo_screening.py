"""The demo's screening history: consistent rows written in bulk, a day list left to work through."""

import datetime as dt
import uuid
from collections import Counter

import pytest
from django.db.models import F
from django.utils import timezone

from fangkong.areas.models import Area, Household, Level
from fangkong.demo.accounts import ensure_demo_accounts
from fangkong.demo.city import build_city
from fangkong.demo.screening import build_screening_history
from fangkong.screening.coverage import coverage
from fangkong.screening.daylist import day_list
from fangkong.screening.models import Campaign, FollowUp, PersonCheck, Visit
from fangkong.screening.validation import PersonInput, VisitInput
from fangkong.screening.visits import record_visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(db):
    build_city(3000, 11)
    now = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(14, 30)))
    return build_screening_history(4, 11, now=min(now, timezone.now())), now


def test_the_history_covers_the_first_street_over_the_days(history):
    summary, _now = history
    street = Area.objects.filter(level=Level.STREET).order_by("code").first()
    assert summary.street == street.name and summary.visits == Visit.objects.count() > 0
    assert summary.checks == PersonCheck.objects.count() and summary.follow_ups == FollowUp.objects.count()
    assert not Visit.objects.exclude(area_code__startswith=street.code).exists()
    assert not Visit.objects.exclude(area_code=F("household__area_code")).exists()
    assert not PersonCheck.objects.exclude(resident__household=F("visit__household")).exists()
    assert not PersonCheck.objects.exclude(date=F("visit__date")).exists()
    today = timezone.localdate()
    assert set(Visit.objects.values_list("date", flat=True)) <= {today - dt.timedelta(days=n) for n in range(4)}
    assert all(timezone.localdate(v.visited_at) == v.date for v in Visit.objects.all()[:500])
    assert not Visit.objects.filter(visited_at__gt=timezone.now()).exists()


def test_each_person_has_at_most_one_open_item(history):
    open_items = Counter(FollowUp.objects.filter(status="open").values_list("resident_id", flat=True))
    assert set(open_items.values()) <= {1}
    # Every reading says how it was taken (forehead at the door, the household's own thermometer otherwise).
    assert not PersonCheck.objects.filter(temperature__isnull=False, temperature_method="").exists()
    assert PersonCheck.objects.filter(temperature_method="forehead").exists()
    assert PersonCheck.objects.filter(outdoors=True, reading_unreliable=True, temperature_method="forehead").exists()
    assert not FollowUp.objects.exclude(person_check__visit=F("visit")).exists()


def test_the_demo_grid_worker_has_households_to_screen_today(history):
    _summary, _now = history
    accounts = {a.username: a for a in ensure_demo_accounts()}
    assert accounts["grid"]
    from fangkong.accounts.models import User

    grid = User.objects.get(username="grid")
    listed = day_list(grid, grid.area.code, timezone.localdate())
    entries = [e for g in listed.groups for e in g.entries]
    assert entries and any(not e.done for e in entries)
    assert any(e.last_visit is not None for e in entries)


def test_the_written_rows_work_with_the_app(history):
    street = Area.objects.filter(level=Level.STREET).order_by("code").first()
    table = coverage(street, timezone.localdate() - dt.timedelta(days=1), days=2)
    assert 0 < table.total.screened <= table.total.households
    household = Household.objects.filter(area_code__startswith=street.code).first()
    root = _superuser()
    resident = household.residents.first()
    data = VisitInput(client_id=uuid.uuid4(), method="door", outcome="reached",
                      persons=[PersonInput(resident_id=resident.pk, temperature="36.6")])
    assert record_visit(root, household, data).created  # the id sequences moved past the bulk rows
    assert Campaign.objects.filter(end_date=timezone.localdate()).exists()


def _superuser():
    from fangkong.accounts.models import User

    return User.objects.create_superuser("root-demo", password="x" * 12)

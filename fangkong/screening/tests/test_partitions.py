"""Day partitions on PostgreSQL (issue 17; fangkong/core/partitions.py, docs/partitions.md).

The daily tables are partitioned by day with (id, day) keys; `ensure_partitions` makes the days ahead,
idempotently, and takes a day's rows out of the default partition; today's day list and coverage read
today's partition only (EXPLAIN); a client id sent twice still records one visit and one report. The
last two run on SQLite too (plain tables there)."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import uuid

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fangkong.core import partitions
from fangkong.observation.files import open_file
from fangkong.observation.models import HealthReport, Kind
from fangkong.observation.reports import record_worker_report
from fangkong.screening.coverage import coverage
from fangkong.screening.daylist import day_list, households_for_day
from fangkong.screening.links import link_for
from fangkong.screening.models import Visit
from fangkong.screening.testing import reached
from fangkong.screening.visits import record_self_report, record_visit

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions exist on PostgreSQL only")
DAILY = ("screening_visit", "screening_personcheck", "observation_healthreport")
_PARTITION = re.compile(r"\b(screening_visit|screening_personcheck)_(p\d{8}|default)\b")


@postgres_only
def test_the_daily_tables_are_partitioned_by_day_with_the_day_in_every_key():
    assert set(DAILY) <= set(partitions.REGISTRY)
    with connection.cursor() as cursor:
        for table in DAILY:
            assert partitions.is_partitioned(connection, table)
            cursor.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = to_regclass(%s) "
                           "AND contype IN ('p', 'u')", [table])
            keys = [row[0] for row in cursor.fetchall()]
            assert keys and all("date" in key for key in keys), keys
            cursor.execute("SELECT count(*) FROM pg_constraint WHERE confrelid = to_regclass(%s)", [table])
            assert cursor.fetchone()[0] == 0, f"a foreign key points at {table}"


@postgres_only
def test_partitions_are_made_ahead_idempotently():
    today = timezone.localdate()
    far = today + dt.timedelta(days=40)
    created = partitions.ensure_partitions(days_ahead=40)
    assert partitions.partition_name("screening_visit", far) in created
    assert partitions.ensure_partitions(days_ahead=40) == []
    for table in DAILY:
        days = partitions.day_partitions(connection, table)
        assert all(today + dt.timedelta(days=n) in days for n in range(41))
    out = io.StringIO()
    call_command("partitions", "--ahead", "40", stdout=out)
    assert json.loads(out.getvalue()) == {"created": 0, "partitions": []}


@postgres_only
def test_a_day_without_its_partition_lands_in_the_default_one_and_moves_out(city):
    day = timezone.localdate() + dt.timedelta(days=60)
    household = city.households["a101"]
    visit = Visit.objects.create(household=household, area_code=household.area_code, date=day,
                                 visited_at=timezone.make_aware(dt.datetime.combine(day, dt.time(9))),
                                 method="door", outcome="reached")

    def home() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT tableoid::regclass::text FROM screening_visit WHERE id = %s", [visit.pk])
            return cursor.fetchone()[0]

    assert home() == "screening_visit_default"
    partitions.ensure_table_partitions(connection, "screening_visit", "date", [day])
    assert home() == partitions.partition_name("screening_visit", day)
    assert Visit.objects.get(pk=visit.pk).date == day


def _partitions_read(queries: list[dict]) -> list[set[str]]:
    read = []
    with connection.cursor() as cursor:
        for query in queries:
            sql = query["sql"]
            if "screening_visit" not in sql and "screening_personcheck" not in sql:
                continue
            cursor.execute("EXPLAIN (COSTS OFF) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            read.append({m.group(0) for m in _PARTITION.finditer(plan)})
    return read


@postgres_only
def test_today_s_day_list_and_coverage_read_only_today_s_partitions(city):
    partitions.ensure_partitions(days_ahead=1)
    today = timezone.localdate()
    for n in range(1, 4):  # earlier days with partitions of their own, which today's queries must not read
        partitions.ensure_partitions(days_ahead=0, today=today - dt.timedelta(days=n))
    user = city.users["grid_a"]
    record_visit(user, city.households["a101"], reached(city.residents["zhangwei"]))
    todays = {partitions.partition_name("screening_visit", today), partitions.partition_name("screening_personcheck", today)}
    # The day list's households with "screened today" (its page and its building counts); the last visits
    # of the page's households are looked up apart (the last 14 days first: daylist.last_visits).
    households = households_for_day(user, city.areas["grid_a"].code, today)
    with CaptureQueriesContext(connection) as day_queries:
        page = list(households)
        counts = list(households.values_list("building_id", "done"))
    assert sum(done for h in page for done in [h.done]) == 1 and len(counts) == len(page)
    with CaptureQueriesContext(connection) as coverage_queries:
        table = coverage(city.areas["qinghe"], today, days=1)  # by grid
        by_building = coverage(city.areas["grid_a"], today, days=1)  # by building: checks joined to visits
    assert table.total.screened == 1 and by_building.total.reached == 1
    for queries in (day_queries.captured_queries, coverage_queries.captured_queries):
        read = _partitions_read(queries)
        assert read, "no query of the visits was seen"
        for names in read:
            assert names and names <= todays, names
    result = day_list(user, city.areas["grid_a"].code, today)  # and the whole list still works
    assert result is not None and result.done == 1


def test_a_visit_sent_twice_is_recorded_once(city):
    user, household = city.users["grid_a"], city.households["a101"]
    data = reached(city.residents["zhangwei"])
    first = record_visit(user, household, data)
    again = record_visit(user, household, data)
    assert first.created and not again.created and again.visit.pk == first.visit.pk
    link = link_for(user, household)
    self_report = reached(city.residents["lina"], method="online")
    assert record_self_report(link, self_report).created
    assert not record_self_report(link, self_report).created
    assert Visit.objects.filter(client_id=self_report.client_id).count() == 1
    assert Visit.objects.filter(client_id=data.client_id).count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():  # the database refuses it too
        Visit.objects.create(client_id=data.client_id, household=household, area_code=household.area_code,
                             date=first.visit.date, visited_at=first.visit.visited_at, method="door", outcome="reached")


def test_a_health_report_sent_twice_is_recorded_once(city):
    file = open_file(city.users["grid_a"], city.residents["wangfang"], kind=Kind.HOME, reason="密接",
                     last_exposure_on=timezone.localdate() - dt.timedelta(days=2))
    client_id = uuid.uuid4()
    first = record_worker_report(city.users["grid_a"], file, temperature="36.6", client_id=client_id)
    again = record_worker_report(city.users["grid_a"], file, temperature="36.6", client_id=client_id)
    assert first.created and not again.created and again.report.pk == first.report.pk
    assert HealthReport.objects.filter(client_id=client_id).count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        HealthReport.objects.create(client_id=client_id, file=file, date=first.report.date, window_name="x",
                                    temperature=first.report.temperature, source="worker",
                                    reported_at=first.report.reported_at, area_code=file.area_code)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_existing_rows_both_ways(city):
    from django.db.migrations.executor import MigrationExecutor

    user = city.users["grid_a"]
    first = record_visit(user, city.households["a101"], reached(city.residents["zhangwei"])).visit
    record_visit(user, city.households["a102"], reached(city.residents["wanglaoshi"]))
    before = sorted(Visit.objects.values_list("id", "client_id", "date"))
    try:
        executor = MigrationExecutor(connection)
        executor.migrate([("screening", "0004_temperature_method_and_ambient")])
        assert not partitions.is_partitioned(connection, "screening_visit")
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, client_id, date FROM screening_visit ORDER BY id")
            assert cursor.fetchall() == before
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes("screening"))
    assert partitions.is_partitioned(connection, "screening_visit")
    assert sorted(Visit.objects.values_list("id", "client_id", "date")) == before
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM screening_visit WHERE id = %s", [first.pk])
        assert cursor.fetchone()[0] == partitions.partition_name("screening_visit", first.date)
    later = record_visit(user, city.households["a101"], reached(city.residents["zhangwei"])).visit
    assert later.pk > max(pk for pk, _cid, _day in before)  # the identity continues after the moved rows
    assert first.checks.count() == 1 and later.checks.count() == 1

"""The retention purge (issue 17): `fangkong purge --before DATE [--dry-run]` on SQLite and PostgreSQL.

Old visits, person checks, follow-up items and health reports go; the recent ones stay; the per-area
daily summaries are written first and survive; a dry run changes nothing; an open follow-up item keeps
its day; a cutoff the policy does not allow yet is refused. On PostgreSQL the old day is given its own
partition first, so the purge drops a whole partition (and deletes what the default partition holds).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from fangkong.audit.models import AuditLog
from fangkong.core import partitions
from fangkong.observation.files import open_file
from fangkong.observation.models import HealthReport, Kind, ReportDaySummary
from fangkong.policy.retention import RetentionError, purge
from fangkong.screening.models import DaySummary, Flag, FollowUp, FollowUpStatus, PersonCheck, Visit
from fangkong.screening.testing import reached
from fangkong.screening.visits import record_visit

pytestmark = pytest.mark.django_db
OLD_DAYS = 100  # past the default retention of 90 days


def _today() -> dt.date:
    return timezone.localdate()


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))


def _old_visit(city, day: dt.date, household: str, resident: str, *, fever: bool = False, self_report: bool = False):
    h = city.households[household]
    visit = Visit.objects.create(household=h, area_code=h.area_code, date=day, visited_at=_at(day),
                                 method="online" if self_report else "door", outcome="reached", persons_present=1,
                                 flags=Flag.FEVER if fever else 0, recorded_by=None if self_report else city.users["grid_a"])
    check = PersonCheck.objects.create(visit=visit, resident=city.residents[resident], area_code=h.area_code, date=day,
                                       temperature=Decimal("38.2" if fever else "36.5"), flags=Flag.FEVER if fever else 0)
    return visit, check


@pytest.fixture
def old_city(city):
    """Two old days of rows (100 and 101 days ago) beside today's, on PostgreSQL in partitions of their own."""
    old, older = _today() - dt.timedelta(days=OLD_DAYS), _today() - dt.timedelta(days=OLD_DAYS + 1)
    if connection.vendor == "postgresql":  # `older` stays in the default partition
        for entry in partitions.REGISTRY.values():
            partitions.ensure_table_partitions(connection, entry.table, entry.day_column, [old])
    visit, check = _old_visit(city, old, "a101", "zhangwei", fever=True)
    FollowUp.objects.create(resident=check.resident, visit=visit, person_check=check, reason="fever", reasons=Flag.FEVER,
                            area_code=visit.area_code, status=FollowUpStatus.DISMISSED, created_at=_at(old))
    _old_visit(city, old, "a102", "lina", self_report=True)
    _old_visit(city, older, "a101", "zhangwei")
    file = open_file(city.users["grid_a"], city.residents["wangfang"], kind=Kind.HOME, reason="密接",
                     last_exposure_on=_today() - dt.timedelta(days=2))
    for day in (old, older, _today()):
        HealthReport.objects.create(file=file, date=day, window_name="morning", temperature=Decimal("36.6"),
                                    symptoms=1 if day == old else 0, source="self", reported_at=_at(day),
                                    area_code=file.area_code)
    record_visit(city.users["grid_a"], city.households["a101"], reached(city.residents["zhangwei"]))
    return city


def _counts() -> dict[str, int]:
    return {"visits": Visit.objects.count(), "checks": PersonCheck.objects.count(),
            "follow_ups": FollowUp.objects.count(), "reports": HealthReport.objects.count(),
            "summaries": DaySummary.objects.count() + ReportDaySummary.objects.count(),
            "audit": AuditLog.objects.filter(object_type="policy.retention").count()}


def test_a_dry_run_counts_what_would_go_and_changes_nothing(old_city):
    before = _counts()
    counts = purge(dry_run=True)
    assert _counts() == before
    assert counts["dry_run"] is True
    assert counts["screening_visit_rows"] == 3 and counts["screening_personcheck_rows"] == 3
    assert counts["observation_healthreport_rows"] == 2
    assert counts["screening_follow_ups"] == 1
    assert counts["screening_day_summaries"] == 2  # (old day, area of a101 and a102), (older day, area of a101)


def test_the_purge_removes_exactly_the_old_rows_and_keeps_the_daily_counts(old_city):
    today = _today()
    old = today - dt.timedelta(days=OLD_DAYS)
    counts = purge()
    assert counts["screening_visit_rows"] == 3 and counts["observation_healthreport_rows"] == 2
    expected_partitions = 1 if connection.vendor == "postgresql" else 0
    assert counts["screening_visit_partitions"] == expected_partitions
    assert counts["observation_healthreport_partitions"] == expected_partitions
    assert not Visit.objects.filter(date__lt=today - dt.timedelta(days=90)).exists()
    assert not PersonCheck.objects.filter(date__lt=today - dt.timedelta(days=90)).exists()
    assert list(Visit.objects.values_list("date", flat=True)) == [today]
    assert PersonCheck.objects.count() == 1 and HealthReport.objects.count() == 1
    assert FollowUp.objects.count() == 0
    summary = DaySummary.objects.get(date=old)
    assert (summary.visits, summary.screened, summary.self_reports, summary.persons_reached, summary.persons_flagged) \
        == (2, 2, 1, 2, 1)
    assert summary.households == 2
    reports = ReportDaySummary.objects.get(date=old)
    assert (reports.reports, reports.files, reports.with_symptoms) == (1, 1, 1)
    entry = AuditLog.objects.get(object_type="policy.retention")
    # In words for the audit log's reader (audit.labels): totals, no table names.
    assert entry.changes["rows"] == 3 + 3 + 2 and entry.changes["follow_ups"] == 1
    assert entry.changes["summaries"] == counts["screening_day_summaries"] + counts["observation_report_day_summaries"]
    assert entry.object_repr.startswith("< ")
    if connection.vendor == "postgresql":
        assert old not in partitions.day_partitions(connection, "screening_visit")
    # Again: nothing left to remove, and the summaries of the removed days survive.
    again = purge()
    assert again["screening_visit_rows"] == 0 and again["screening_day_summaries"] == 0
    assert DaySummary.objects.filter(date__lt=today).count() == 2 and ReportDaySummary.objects.count() == 2


def test_an_open_follow_up_item_keeps_its_day(old_city):
    FollowUp.objects.update(status=FollowUpStatus.OPEN)
    before = _counts()
    with pytest.raises(RetentionError, match="1 open follow-up items"):
        purge()
    assert _counts() == before


def test_a_cutoff_inside_the_retention_period_is_refused(old_city):
    with pytest.raises(RetentionError, match="90 days"):
        purge(_today() - dt.timedelta(days=10))
    counts = purge(_today() - dt.timedelta(days=OLD_DAYS), dry_run=True)  # only the older day goes
    assert counts["screening_visit_rows"] == 1


def test_the_command_prints_one_json_line(old_city):
    out = io.StringIO()
    call_command("purge", "--dry-run", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["screening_visit_rows"] == 3
    with pytest.raises(CommandError, match="--before"):
        call_command("purge", "--before", "yesterday")
    out = io.StringIO()
    call_command("purge", "--before", (_today() - dt.timedelta(days=95)).isoformat(), stdout=out)
    assert json.loads(out.getvalue())["screening_visit_rows"] == 3
    assert Visit.objects.count() == 1


def test_the_queue_runs_the_purge_and_the_partitions_daily(old_city):
    from fangkong.jobs import registry
    from fangkong.jobs.models import Job, JobStatus
    from fangkong.jobs.queue import submit
    from fangkong.jobs.runner import run_job

    assert registry.get("retention-purge").cron and registry.get("partitions").cron
    FollowUp.objects.update(status=FollowUpStatus.OPEN)
    refused = submit("retention-purge")
    run_job(refused.pk)
    refused = Job.objects.get(pk=refused.pk)
    assert refused.status == JobStatus.FAILED and "open follow-up items" in refused.message
    assert Visit.objects.count() == 4  # nothing of the refused run is kept
    FollowUp.objects.update(status=FollowUpStatus.DISMISSED)
    job = submit("retention-purge")
    run_job(job.pk)
    job = Job.objects.get(pk=job.pk)
    assert job.status == JobStatus.DONE and job.result["screening_visit_rows"] == 3
    assert Visit.objects.count() == 1 and DaySummary.objects.count() == 2
    ahead = submit("partitions", params={"ahead": 30})
    run_job(ahead.pk)
    ahead = Job.objects.get(pk=ahead.pk)
    assert ahead.status == JobStatus.DONE and (ahead.result["created"] > 0) == (connection.vendor == "postgresql")

"""`fangkong demo-serve`: the demo's server runs the scheduled jobs in-process, so its alerts move."""

from __future__ import annotations

import datetime as dt
import importlib
import io
from unittest import mock

from django.core.management import call_command
from django.utils import timezone

from fangkong.jobs.models import JobStatus
from fangkong.jobs.scheduler import SchedulerThread, run_due
from fangkong.observation.files import open_file
from fangkong.observation.models import Alert, Kind, ObservationFile

serve = importlib.import_module("fangkong.demo.management.commands.demo-serve")


def test_one_pass_of_the_schedule_raises_the_alerts_and_runs_the_crosscheck(city):
    file = open_file(city.users["grid_a"], city.residents["zhangwei"], kind=Kind.HOME, reason="密接",
                     last_exposure_on=timezone.localdate() - dt.timedelta(days=3))
    # Opened two days ago and silent since: its windows of yesterday were missed.
    ObservationFile.objects.filter(pk=file.pk).update(created_at=file.created_at - dt.timedelta(days=2),
                                                      started_on=file.started_on - dt.timedelta(days=2))
    jobs = {job.kind: job for job in run_due()}
    assert {"observation-alerts", "crosscheck", "expire-jobs"} <= set(jobs)
    assert all(job.status == JobStatus.DONE for job in jobs.values())
    assert jobs["observation-alerts"].result["missed"] >= 1
    assert Alert.objects.filter(file=file, kind="missed").exists()
    assert run_due() == []  # this tick's jobs ran: nothing is due until the next


def test_demo_serve_starts_the_schedule_beside_the_server_and_stops_it_with_it():
    seen = []

    def fake_runserver(name, *args, **options):
        assert (name, args) == ("runserver", ("127.0.0.1:8000", "--insecure", "--noreload"))
        seen.append(True)

    out = io.StringIO()
    with mock.patch.object(serve, "call_command", fake_runserver), \
            mock.patch.object(SchedulerThread, "start") as start, mock.patch.object(SchedulerThread, "stop") as stop:
        call_command("demo-serve", stdout=out)
    assert seen == [True]
    start.assert_called_once()
    stop.assert_called_once()
    assert "Observation alerts" in out.getvalue()


def test_demo_serve_serves_alone_on_request():
    with mock.patch.object(serve, "call_command") as runserver, mock.patch.object(SchedulerThread, "start") as start:
        call_command("demo-serve", "0.0.0.0:9000", "--no-jobs", stdout=io.StringIO())
    runserver.assert_called_once_with("runserver", "0.0.0.0:9000", "--insecure", "--noreload")
    start.assert_not_called()

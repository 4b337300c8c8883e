"""`fangkong demo-serve`: the demo's server runs the periodic jobs in-process, so its alerts move."""

from __future__ import annotations

import datetime as dt
import importlib
import io
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from fangkong.demo.jobs import PERIODIC, PeriodicJobs
from fangkong.observation.files import open_file
from fangkong.observation.models import Alert, Kind, ObservationFile

serve = importlib.import_module("fangkong.demo.management.commands.demo-serve")


def test_one_run_of_the_jobs_raises_the_alerts_a_scheduler_would(city):
    file = open_file(city.users["grid_a"], city.residents["zhangwei"], kind=Kind.HOME, reason="密接",
                     last_exposure_on=timezone.localdate() - dt.timedelta(days=3))
    # Opened two days ago and silent since: its windows of yesterday were missed.
    ObservationFile.objects.filter(pk=file.pk).update(created_at=file.created_at - dt.timedelta(days=2),
                                                      started_on=file.started_on - dt.timedelta(days=2))
    results = PeriodicJobs(60).run_once()
    assert set(results) == {name for name, _options in PERIODIC}
    assert "missed=" in results["observation-alerts"] and results["crosscheck"].startswith("{")
    assert Alert.objects.filter(file=file, kind="missed").exists()
    again = PeriodicJobs(60).run_once()  # idempotent, as the scheduler's runs are
    assert "missed=0" in again["observation-alerts"]


def test_a_failing_job_does_not_stop_the_others(db):
    jobs = PeriodicJobs(60, commands=(("no-such-command", {}), ("crosscheck", {})))
    results = jobs.run_once()
    assert results["no-such-command"] == "" and results["crosscheck"].startswith("{")
    assert jobs.runs == 1


def test_demo_serve_starts_the_jobs_beside_the_server_and_stops_them_with_it():
    ran_before_serving = []

    def fake_runserver(name, *args, **options):
        assert (name, args) == ("runserver", ("127.0.0.1:8000", "--insecure", "--noreload"))
        ran_before_serving.append(started[0].ran.wait(30))  # the thread's first run (no timing asserted)

    started = []
    real_init = PeriodicJobs.__init__

    def record(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        started.append(self)

    out = io.StringIO()
    with mock.patch.object(serve, "call_command", fake_runserver), \
            mock.patch.object(PeriodicJobs, "__init__", record), \
            mock.patch.object(PeriodicJobs, "run_once", lambda self: self.ran.set()):
        call_command("demo-serve", "--jobs-every", "2", stdout=out)
    assert ran_before_serving == [True]
    [jobs] = started
    assert jobs.every_seconds == 120 and jobs._stop_event.is_set()
    assert "observation-alerts, crosscheck" in out.getvalue()


def test_demo_serve_refuses_a_silly_interval_and_serves_alone_on_request():
    with pytest.raises(CommandError):
        call_command("demo-serve", "--jobs-every", "0")
    with mock.patch.object(serve, "call_command") as runserver, mock.patch.object(PeriodicJobs, "start") as start:
        call_command("demo-serve", "0.0.0.0:9000", "--no-jobs", stdout=io.StringIO())
    runserver.assert_called_once_with("runserver", "0.0.0.0:9000", "--insecure", "--noreload")
    start.assert_not_called()

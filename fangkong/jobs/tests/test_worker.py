"""The procrastinate queue on PostgreSQL with real worker processes (`fangkong jobs-worker`): a roster import
started on the screen is queued, not run; a worker runs it; a worker killed with SIGKILL half-way through
leaves nothing behind, its job is found by its missing heartbeats and run again by another worker, and the
city's residents are counted once."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest
from django.db import connection
from procrastinate.contrib.django import app

from fangkong.audit.models import Action, AuditLog
from fangkong.core.identity import make_id_number
from fangkong.core.tabular import COLUMNS
from fangkong.jobs.models import Job, JobStatus
from fangkong.jobs.queue import submit
from fangkong.jobs.tasks import retry_stalled_jobs
from fangkong.people.jobs import ROSTER_IMPORT
from fangkong.people.models import ImportBatch, Resident

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(connection.vendor != "postgresql", reason="the procrastinate queue is PostgreSQL's")]

QINGHE = {"区": "江岸区", "街道": "大智街道", "社区": "青和居社区", "小区": "青和居小区", "楼栋": "1栋", "单元": "1单元"}


def roster(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[zh for _key, zh in COLUMNS], extrasaction="ignore")
    writer.writeheader()
    for i in range(rows):
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=i // 900)
        writer.writerow({"姓名": f"居民{i}", "证件号码": make_id_number("420102", birth, 100 + i % 900),
                         "联系电话": f"139{i:08d}", **QINGHE, "房号": str(1000 + i // 3)})
    return out.getvalue().encode()


@pytest.fixture
def worker_env(settings):
    settings.JOBS_BACKEND = "procrastinate"
    settings.JOBS_STALLED_SECONDS = 2
    db = connection.settings_dict
    env = dict(os.environ, FANGKONG_DEMO="1", DJANGO_SETTINGS_MODULE="fangkong.settings", JOBS_BACKEND="procrastinate",
               JOBS_STALLED_SECONDS="2",
               DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}")
    return env


def start_worker(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "fangkong.cli", "jobs-worker", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for(predicate, seconds: float = 120) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def queued_in_procrastinate(job: Job) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'fangkong.run_job' "
                       "AND (args->>'job_id')::bigint = %s", [job.pk])
        return cursor.fetchone()[0]


def test_an_import_is_queued_with_its_job_row_and_a_worker_runs_it(city, worker_env):
    job = submit(ROSTER_IMPORT, user=city.users["community"], input_name="名册.csv", input_data=roster(30))
    assert job.status == JobStatus.QUEUED and queued_in_procrastinate(job) == 1
    worker = start_worker(worker_env, "--once")
    output, _err = worker.communicate(timeout=300)
    assert worker.returncode == 0, output
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, (job.message, output)
    assert job.result["created"] == 30 and job.result_url == f"/import/{ImportBatch.objects.get().pk}/"


def test_a_worker_killed_mid_import_is_replaced_and_nothing_is_counted_twice(city, worker_env):
    rows = 40_000
    before = Resident.objects.count()
    job = submit(ROSTER_IMPORT, user=city.users["community"], input_name="名册.csv", input_data=roster(rows))
    first = start_worker(worker_env)
    try:
        assert wait_for(lambda: Job.objects.get(pk=job.pk).status == JobStatus.RUNNING), "the worker never took it"
        time.sleep(1.0)  # well into the import (about 40,000 rows)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING, "the import finished before the kill: make the file bigger"
    assert Resident.objects.count() == before and not ImportBatch.objects.exists()  # nothing of it committed

    time.sleep(3)  # past JOBS_STALLED_SECONDS without a heartbeat
    assert retry_stalled_jobs(SimpleNamespace(app=app), 0) == 1  # type: ignore[arg-type]
    second = start_worker(worker_env, "--once")
    output, _err = second.communicate(timeout=600)
    assert second.returncode == 0, output
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.attempts == 2, (job.message, output)
    assert Resident.objects.count() == before + rows
    assert ImportBatch.objects.count() == 1 and job.result["created"] == rows
    assert AuditLog.objects.filter(action=Action.IMPORT, object_type="people.importbatch").count() == 1


def test_readyz_tells_the_queue_depth_and_the_live_workers(city, worker_env, client):
    submit(ROSTER_IMPORT, user=city.users["community"], input_name="名册.csv", input_data=roster(3))
    body = client.get("/readyz").json()
    assert body["status"] == "ok"
    assert body["queue"]["waiting"] == 1 and body["queue"]["running"] == 0 and body["queue"]["workers"] == 0
    assert body["queue"]["oldest_waiting_s"] is not None

"""The app through pgbouncer in transaction mode (DB_PGBOUNCER=1; scripts/ensure-pgbouncer.sh): every
transaction may land on another server connection, so what the app does must not rely on a session —
idempotent visits (unique client ids), a roster import (COPY, a table lock), the cross-check (its advisory
lock is transaction-scoped), the alerts job and an export streamed by .iterator() (server-side cursors are
off behind pgbouncer) all work, from another process, through a pool of a few server connections."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg
import pytest
from django.db import connection

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(connection.vendor != "postgresql", reason="pgbouncer fronts PostgreSQL")]

PGBOUNCER = ("127.0.0.1", 6432)

# Runs in a process of its own, connected through pgbouncer to the test database.
SCRIPT = r'''
import io, json, django
django.setup()
from django.conf import settings
from django.db import connection
from fangkong.accounts.models import User
from fangkong.areas.models import Household
from fangkong.crosscheck.services import run_crosscheck
from fangkong.jobs.queue import submit
from fangkong.observation.alerts import run_alert_job
from fangkong.people.exports import export_residents
from fangkong.people.models import Resident
from fangkong.screening.models import Visit
from fangkong.screening.testing import reached
from fangkong.screening.visits import record_visit
from django.utils import timezone

grid, community = User.objects.get(username="grid_a"), User.objects.get(username="community")
household = Household.objects.filter(area_code__startswith=grid.area.code).first()
data = reached(*household.residents.all()[:1], temperature="36.5")
record_visit(grid, household, data)
record_visit(grid, household, data)  # the phone sends it again: one visit
import datetime as dt
from fangkong.core.identity import make_id_number
number = make_id_number("420102", dt.date(1990, 3, 7), 777)
roster = ("姓名,证件号码,区,街道,社区,小区,楼栋,单元,房号\n"
          f"过桥,{number},江岸区,大智街道,青和居社区,青和居小区,1栋,1单元,901\n").encode()
job = submit("roster-import", user=community, input_name="名册.csv", input_data=roster)
export, rows = export_residents(Resident.objects.all())
print(json.dumps({
    "server_side_cursors_off": settings.DATABASES["default"].get("DISABLE_SERVER_SIDE_CURSORS"),
    "port": connection.settings_dict["PORT"],
    "visits": Visit.objects.filter(client_id=data.client_id).count(),
    "job": job.status, "created": job.result.get("created"), "errors": job.result.get("errors"),
    "crosscheck": sorted(run_crosscheck()),
    "alerts": sorted(run_alert_job(timezone.now())),
    "exported": rows,
}))
'''


def _pgbouncer_or_skip() -> None:
    try:
        with psycopg.connect(host=PGBOUNCER[0], port=PGBOUNCER[1], user="postgres", dbname="pgbouncer",
                             autocommit=True, connect_timeout=2):
            return
    except psycopg.Error:
        if os.environ.get("CI") == "true":
            pytest.fail("pgbouncer is not answering on 127.0.0.1:6432 (scripts/ensure-pgbouncer.sh): in CI this "
                        "is a failure, not a skip.")
        pytest.skip("pgbouncer is not running here (scripts/ensure-pgbouncer.sh)")


def _release(dbname: str) -> None:
    """pgbouncer keeps server connections to the test database: drop them, so the database can be dropped."""
    with psycopg.connect(host=PGBOUNCER[0], port=PGBOUNCER[1], user="postgres", dbname="pgbouncer",
                         autocommit=True, prepare_threshold=None) as admin:
        admin.execute(f"KILL {dbname}")
        admin.execute(f"RESUME {dbname}")


def test_the_app_works_through_pgbouncer_in_transaction_mode(city):
    _pgbouncer_or_skip()
    dbname = connection.settings_dict["NAME"]
    env = dict(os.environ, FANGKONG_DEMO="1", DJANGO_SETTINGS_MODULE="fangkong.settings", JOBS_BACKEND="inline",
               DB_PGBOUNCER="1", DATABASE_URL=f"postgres://postgres@{PGBOUNCER[0]}:{PGBOUNCER[1]}/{dbname}")
    env.pop("DATABASE_REPLICA_URL", None)
    try:
        done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    finally:
        _release(dbname)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["port"] == PGBOUNCER[1] and result["server_side_cursors_off"] is True
    assert result["visits"] == 1
    assert result["job"] == "done" and result["created"] == 1
    assert "closed" in result["crosscheck"] and "missed" in result["alerts"]
    assert result["exported"] >= 1

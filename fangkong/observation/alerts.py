"""Alerts: the periodic job that finds missed windows, fevers and new symptoms, and a worker marking an
alert handled.

The alert job (`run_alert_job`) is set-based SQL: INSERT … SELECT … WHERE NOT EXISTS … ON CONFLICT DO
NOTHING against the unique (file, kind, key) of alerts, so a second run (or two overlapping runs)
inserts nothing. It looks back `lookback_hours` (default 24): the job runs every few minutes, older
windows were judged by earlier runs.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.core.errors import actor, clean_text
from fangkong.observation.escalation import escalate
from fangkong.observation.models import Alert, AlertKind, AlertStatus, FileStatus, ObservationFile
from fangkong.observation.windows import local_today, window_end, windows
from fangkong.policy.schema import Policy
from fangkong.policy.services import current_policy


def handle_alert(user: User, alert: Alert, note: str = "") -> Alert:
    """The responsible worker (or the area) dealt with it: handled once, with an optional note."""
    note = clean_text(note, "note", limit=200)
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.status == AlertStatus.HANDLED:
            return locked
        locked.status, locked.handled_by, locked.handled_at, locked.note = AlertStatus.HANDLED, actor(user), timezone.now(), note
        locked.save(update_fields=["status", "handled_by", "handled_at", "note"])
        record(user, Action.UPDATE, locked, object_type="observation.alert", object_repr=f"{locked.kind} {locked.key}",
               changes={"status": [AlertStatus.OPEN, AlertStatus.HANDLED], "note": note})
    return locked


# --- The periodic alert job ------------------------------------------------------------------------

def _slots(now: dt.datetime, lookback_hours: int, policy: Policy) -> list[tuple[Any, str, str, Any]]:
    """(date, window, key, end) of every window that ended in (now - lookback, now]."""
    since = now - dt.timedelta(hours=lookback_hours)
    day = local_today(now)
    result = []
    for offset in range(lookback_hours // 24 + 2):
        d = day - dt.timedelta(days=offset)
        for window in windows(policy):
            end = window_end(d, window)
            if since < end <= now:
                result.append((connection.ops.adapt_datefield_value(d), window.name, f"{d.isoformat()}/{window.name}",
                               connection.ops.adapt_datetimefield_value(end)))
    return result


def run_alert_job(now: dt.datetime | None = None, *, lookback_hours: int = 24) -> dict[str, int]:
    """Missed windows, fevers and new symptoms of open files → alerts (set-based; twice = once), then
    fever escalation of the files that have an open fever alert. Returns the counts created."""
    policy = current_policy()
    now = now or timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    since = now - dt.timedelta(hours=lookback_hours)
    since_day = connection.ops.adapt_datefield_value(local_today(since))
    counts = {"missed": 0, "fever": 0, "symptoms": 0, "escalated": 0}
    slots = _slots(now, lookback_hours, policy)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # These statements are short scans; JIT compiling each (~0.2 s) costs more than it saves. A
            # window's reports (one row per file) are hashed for the anti-join: at 200,000 files the
            # default 4 MB spills to disk (measured 441 → 333 ms a window with 32 MB).
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL work_mem = '32MB'")
        for day, window, key, ends_at in slots:
            # One statement per window (a handful in the look-back): with constants the planner sees the
            # day's reports of that window and anti-joins them by hash, instead of probing per file.
            # A window that has ended, of a day inside the file's period, of a file opened before the
            # window ended (no alert for the morning of a file opened in the afternoon), with no report.
            cursor.execute(
                "INSERT INTO observation_alert (file_id, kind, key, detail, status, created_at, note, area_code) "
                "SELECT f.id, 'missed', %s, '', 'open', %s, '', f.area_code FROM observation_observationfile f "
                "WHERE f.status = 'open' AND f.started_on <= %s AND f.planned_end_on >= %s AND f.created_at < %s "
                "AND NOT EXISTS (SELECT 1 FROM observation_healthreport r "
                "WHERE r.file_id = f.id AND r.date = %s AND r.window_name = %s) "
                # Alerted already: the unique (file, kind, key) skips it. An anti-join on the alerts
                # instead was planned as a nested loop when their statistics lagged (2.5 s a window).
                "ON CONFLICT DO NOTHING", [key, stamp, day, day, ends_at, day, window])
            counts["missed"] += max(cursor.rowcount, 0)
        key = "CAST(r.date AS VARCHAR(10)) || '/' || r.window_name"
        report_filter = ("FROM observation_healthreport r JOIN observation_observationfile f ON f.id = r.file_id "
                         "WHERE f.status = 'open' AND r.date >= %s AND r.reported_at <= %s ")
        cursor.execute(
            "INSERT INTO observation_alert (file_id, kind, key, detail, status, created_at, note, area_code) "
            f"SELECT DISTINCT r.file_id, 'fever', {key}, '', 'open', %s, '', f.area_code {report_filter}"
            "AND r.temperature >= %s "
            f"AND NOT EXISTS (SELECT 1 FROM observation_alert a WHERE a.file_id = r.file_id AND a.kind = 'fever' AND a.key = {key}) "
            "ON CONFLICT DO NOTHING", [stamp, since_day, stamp, Decimal(str(policy.fever_threshold_c))])
        counts["fever"] = max(cursor.rowcount, 0)
        # New symptoms: no earlier report of the file had all of them (bitwise, on both databases).
        cursor.execute(
            "INSERT INTO observation_alert (file_id, kind, key, detail, status, created_at, note, area_code) "
            f"SELECT DISTINCT r.file_id, 'symptoms', {key}, '', 'open', %s, '', f.area_code {report_filter}"
            "AND r.symptoms <> 0 "
            "AND NOT EXISTS (SELECT 1 FROM observation_healthreport p WHERE p.file_id = r.file_id "
            "AND p.reported_at < r.reported_at AND p.symptoms <> 0 AND (r.symptoms & ~p.symptoms) = 0) "
            f"AND NOT EXISTS (SELECT 1 FROM observation_alert a WHERE a.file_id = r.file_id AND a.kind = 'symptoms' AND a.key = {key}) "
            "ON CONFLICT DO NOTHING", [stamp, since_day, stamp])
        counts["symptoms"] = max(cursor.rowcount, 0)
    # Escalation goes through the pipeline's services person by person (history, placement, audit);
    # it touches only the few files with a fever, never the whole set.
    fever_files = ObservationFile.objects.filter(
        status=FileStatus.OPEN, alerts__kind=AlertKind.FEVER, alerts__status=AlertStatus.OPEN).distinct()
    for file in fever_files.select_related("resident"):
        if escalate(None, file, _("Fever under medical observation (alert job)"), now=now):
            counts["escalated"] += 1
    return counts

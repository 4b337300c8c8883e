"""The queue's state for the operators: `/readyz` reports it (never failing on it: a web instance serves
without workers, its jobs wait) and the metrics read it. Counts come from procrastinate's own tables,
through their partial indexes (waiting jobs, running jobs, workers by heartbeat)."""

from __future__ import annotations

import functools
import time
from typing import Any

from django.conf import settings
from django.db import connection

from fangkong.core.metrics import register_gauge_callback
from fangkong.jobs.queue import QUEUE, uses_procrastinate

STATE_SQL = """
SELECT
  (SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo' AND queue_name = %(queue)s),
  (SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing' AND queue_name = %(queue)s),
  (SELECT extract(epoch FROM now() - min(scheduled_at_or_now)) FROM (
     SELECT coalesce(j.scheduled_at, e.at) AS scheduled_at_or_now
     FROM procrastinate_jobs j JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'deferred'
     WHERE j.status = 'todo' AND j.queue_name = %(queue)s AND coalesce(j.scheduled_at, e.at) <= now()) waiting),
  (SELECT count(*) FROM procrastinate_workers
   WHERE last_heartbeat > now() - make_interval(secs => %(stalled)s))
"""


def queue_state() -> dict[str, Any]:
    """{"waiting", "running", "oldest_waiting_s", "workers"}; empty when jobs run in-process (no queue)."""
    if not uses_procrastinate():
        return {}
    with connection.cursor() as cursor:
        cursor.execute(STATE_SQL, {"queue": QUEUE, "stalled": settings.JOBS_STALLED_SECONDS})
        waiting, running, oldest, workers = cursor.fetchone()
    return {"waiting": waiting, "running": running,
            "oldest_waiting_s": None if oldest is None else round(float(oldest), 1), "workers": workers}


# /metrics (core.metrics): the same figures as gauges, read at each scrape. One query serves the four gauges of
# a scrape (kept for a second). Nothing without the procrastinate queue (in-process jobs have no queue).
GAUGES = (
    ("waiting", "jobs_queue_waiting", "Jobs waiting in the queue."),
    ("running", "jobs_queue_running", "Jobs being run by a worker."),
    ("oldest_waiting_s", "jobs_queue_oldest_waiting_seconds", "How long the oldest due job has waited (0: none)."),
    ("workers", "jobs_workers", "Workers with a recent heartbeat."),
)
_scraped: tuple[float, dict[str, Any]] = (0.0, {})


def _state_for_scrape() -> dict[str, Any]:
    global _scraped
    at, state = _scraped
    if time.monotonic() - at > 1.0:
        state = queue_state()
        _scraped = (time.monotonic(), state)
    return state


def _gauge(key: str) -> dict[str, float]:
    state = _state_for_scrape()
    return {QUEUE: float(state.get(key) or 0)} if state else {}


def register_metrics() -> None:
    for key, name, help_text in GAUGES:
        register_gauge_callback(name, help_text, functools.partial(_gauge, key), label="queue")

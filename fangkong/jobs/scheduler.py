"""The schedule without procrastinate (JOBS_BACKEND=inline, the SQLite demo): a loop that submits each
scheduled kind once per tick of its cron expression, like procrastinate's periodic deferrer does on
PostgreSQL. A tick is due when no job of the kind was created since it, so a restart neither skips
nor repeats one. `fangkong jobs-worker` runs the loop in the foreground; `fangkong demo-serve` runs it in a
thread beside the web server.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from croniter import croniter  # type: ignore[import-untyped]
from django.db import close_old_connections
from django.utils import timezone

from fangkong.jobs import registry
from fangkong.jobs.models import Job
from fangkong.jobs.queue import submit

logger = logging.getLogger(__name__)

CHECK_EVERY_SECONDS = 20.0


def last_tick(cron: str, now: dt.datetime) -> dt.datetime:
    """The latest time at or before `now` that the cron expression names (in the server's time zone)."""
    local = timezone.localtime(now)
    if croniter.match(cron, local.replace(second=0, microsecond=0)):
        return local.replace(second=0, microsecond=0)
    return croniter(cron, local).get_prev(dt.datetime)


def due_kinds(now: dt.datetime) -> list[registry.JobKind]:
    due = []
    for kind in registry.periodic():
        if not Job.objects.filter(kind=kind.name, user=None, created_at__gte=last_tick(kind.cron, now)).exists():
            due.append(kind)
    return due


def run_due(now: dt.datetime | None = None) -> list[Job]:
    """Submit every due scheduled kind once; a failing one is logged and the others still run."""
    jobs = []
    for kind in due_kinds(now or timezone.now()):
        try:
            jobs.append(submit(kind.name))
        except Exception:
            logger.exception("scheduled job %s could not run", kind.name)
    return jobs


class SchedulerThread(threading.Thread):
    """run_due() now and every `every_seconds` until stopped (a daemon: it ends with the server)."""

    def __init__(self, every_seconds: float = CHECK_EVERY_SECONDS) -> None:
        super().__init__(name="fangkong-scheduler", daemon=True)
        self.every_seconds = every_seconds
        self.ran = threading.Event()  # set after each pass (tests wait for it)
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                run_due()
            except Exception:  # the database away for a moment: try again next pass
                logger.exception("the scheduler's pass failed")
            finally:
                close_old_connections()
            self.ran.set()
            self._stop_event.wait(self.every_seconds)

    def stop(self) -> None:
        self._stop_event.set()

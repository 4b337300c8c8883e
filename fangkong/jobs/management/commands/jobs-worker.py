"""`fangkong jobs-worker [--concurrency N] [--once]`: runs the background jobs and the schedule.

On PostgreSQL (JOBS_BACKEND=procrastinate) it is a procrastinate worker: it takes queued jobs, defers the
scheduled kinds on their cron schedule (each tick once, however many workers run), sends heartbeats, and
its jobs are retried by another worker if it dies. Run one or more under systemd
(deploy/systemd/fangkong-worker.service). On SQLite (inline) it runs the schedule in the foreground.
`--once` handles what is due now and exits (tests, a cron-driven setup).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from procrastinate.contrib.django import app  # its Django app is installed on PostgreSQL only

from fangkong.jobs import registry, scheduler
from fangkong.jobs.queue import QUEUE, uses_procrastinate

# The worker's heartbeat: a worker silent for JOBS_STALLED_SECONDS is taken for dead.
HEARTBEAT_SECONDS = 10.0


class Command(BaseCommand):
    help = "Run the background jobs and the periodic schedule (procrastinate on PostgreSQL)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--concurrency", type=int, default=1, help="Jobs run at once by this worker.")
        parser.add_argument("--once", action="store_true", help="Run what is queued or due now, then exit.")

    def handle(self, *args, concurrency: int, once: bool, **options) -> None:
        if concurrency < 1:
            raise CommandError(_("--concurrency must be at least 1."))
        names = ", ".join(kind.name for kind in registry.periodic())
        if not uses_procrastinate():
            self.stdout.write(_("Jobs run in the process that starts them (JOBS_BACKEND=inline); this runs the "
                                "schedule: %(names)s.") % {"names": names})
            if once:
                scheduler.run_due()
                return
            thread = scheduler.SchedulerThread()
            thread.run()  # in the foreground, until interrupted
            return
        self._run_procrastinate(concurrency, once, names)

    def _run_procrastinate(self, concurrency: int, once: bool, names: str) -> None:
        logging.getLogger("procrastinate").setLevel(logging.INFO)
        self.stdout.write(_("Worker on the %(queue)s queue; scheduled: %(names)s.") % {"queue": QUEUE, "names": names})
        with app.replace_connector(app.connector.get_worker_connector()):  # type: ignore[attr-defined]
            app.run_worker(queues=[QUEUE], concurrency=concurrency, wait=not once,
                           install_signal_handlers=not once, update_heartbeat_interval=HEARTBEAT_SECONDS,
                           stalled_worker_timeout=settings.JOBS_STALLED_SECONDS)

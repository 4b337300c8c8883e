"""The periodic jobs of the demo, run in-process on a timer (`fangkong demo-serve`).

In production a scheduler (cron, systemd timers) runs the periodic commands (README, "Periodic jobs");
the demo has none, so without this its alerts would never move. Each job is the same idempotent
command the scheduler would run; a failing one is logged and the next run tries again.
"""

from __future__ import annotations

import io
import logging
import threading

from django.core.management import call_command
from django.db import connections

logger = logging.getLogger(__name__)

# (command, options): what the README's cron example schedules.
PERIODIC: tuple[tuple[str, dict], ...] = (("observation-alerts", {}), ("crosscheck", {}))
DEFAULT_EVERY_MINUTES = 5.0


class PeriodicJobs(threading.Thread):
    """Run the periodic commands now and then every `every_seconds`, until stopped (a daemon thread:
    it ends with the server)."""

    def __init__(self, every_seconds: float, commands: tuple[tuple[str, dict], ...] = PERIODIC) -> None:
        super().__init__(name="fangkong-periodic-jobs", daemon=True)
        self.every_seconds = every_seconds
        self.commands = commands
        self.runs = 0
        self.ran = threading.Event()  # set after each run (tests wait for it)
        self._stop_event = threading.Event()

    def run_once(self) -> dict[str, str]:
        """Each command once; returns what each printed (its counts)."""
        results: dict[str, str] = {}
        for name, options in self.commands:
            out = io.StringIO()
            try:
                call_command(name, stdout=out, **options)
            except Exception:  # one failing job must stop neither the server nor the other jobs
                logger.exception("periodic job %s failed", name)
            results[name] = out.getvalue().strip()
        self.runs += 1
        self.ran.set()
        return results

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.run_once()
            finally:
                connections.close_all()  # this thread's own connections, not held between runs
            self._stop_event.wait(self.every_seconds)

    def stop(self) -> None:
        self._stop_event.set()

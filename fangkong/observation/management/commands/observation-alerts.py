"""`fangkong observation-alerts [--at ISO]`: the periodic alert job of medical observation (idempotent)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from fangkong.observation.alerts import run_alert_job


class Command(BaseCommand):
    help = "Raise alerts for missed report windows, fevers and new symptoms; escalate fevers (run it every few minutes)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--at", help="Judge as of this time (ISO 8601, local time if no offset); default now.")
        parser.add_argument("--lookback-hours", type=int, default=24)

    def handle(self, *args, at: str | None, lookback_hours: int, **options) -> None:
        now = timezone.now()
        if at:
            try:
                now = dt.datetime.fromisoformat(at)
            except ValueError as exc:
                raise CommandError(f"--at: not an ISO time: {at}") from exc
            if timezone.is_naive(now):
                now = timezone.make_aware(now)
        counts = run_alert_job(now, lookback_hours=lookback_hours)
        self.stdout.write(" ".join(f"{key}={value}" for key, value in counts.items()))

"""`fangkong purge [--before YYYY-MM-DD] [--dry-run]`: remove the daily rows past retention (PIPL).

Drops whole day partitions on PostgreSQL (deletes on SQLite), keeps the per-area daily counts and
writes the counts to the audit log. Without --before each table keeps the days its retention in the
policy says; a --before later than that is refused. Prints one JSON line of counts."""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from fangkong.policy.retention import RetentionError, purge


class Command(BaseCommand):
    help = "Remove the daily rows (visits, checks, health reports) older than the policy's retention."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--before", help="Remove the days before this one (default: today minus the retention).")
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; change nothing.")

    def handle(self, *args, before: str | None, dry_run: bool, **options) -> None:
        try:
            day = dt.date.fromisoformat(before) if before else None
        except ValueError as exc:
            raise CommandError("--before must look like 2020-02-10.") from exc
        try:
            counts = purge(day, dry_run=dry_run)
        except RetentionError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(counts, ensure_ascii=False))

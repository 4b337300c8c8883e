"""`fangkong partitions [--ahead N]`: create the day partitions of the daily tables for today and the
next N days (default 7) on PostgreSQL. Idempotent: the job queue runs it daily. Prints one JSON line."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from fangkong.core.partitions import ensure_partitions


class Command(BaseCommand):
    help = "Create the day partitions of the daily tables ahead of time (PostgreSQL; nothing to do on SQLite)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--ahead", type=int, default=7, help="Days after today to create (default 7).")

    def handle(self, *args, ahead: int, **options) -> None:
        if not 0 <= ahead <= 366:
            raise CommandError("--ahead must lie between 0 and 366.")
        created = ensure_partitions(days_ahead=ahead)
        self.stdout.write(json.dumps({"created": len(created), "partitions": created}))

"""`fangkong crosscheck [--date YYYY-MM-DD] [--area CODE]`: run the cross-check (idempotent; for a
scheduler). The last line of stdout is one JSON object with the counts."""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from fangkong.crosscheck.services import run_crosscheck


class Command(BaseCommand):
    help = "Cross-check meter readings, lit windows and returnee lists against the roster and the screening."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--date", help="The day to check as of (default today, Asia/Shanghai).")
        parser.add_argument("--area", default="", help="Only this area code and below (default the whole city).")

    def handle(self, *args, date: str | None, area: str, **options) -> None:
        try:
            today = dt.date.fromisoformat(date) if date else None
        except ValueError as exc:
            raise CommandError("--date must look like 2020-02-10.") from exc
        if area and not area.isdigit():
            raise CommandError("--area must be an area code, e.g. 420102001.")
        self.stdout.write(json.dumps(run_crosscheck(today, area_code=area)))

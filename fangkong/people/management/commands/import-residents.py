"""`fangkong import-residents FILE [--create-housing] [--create-areas] [--report OUT.xlsx]`

Progress goes to stderr; the last line of stdout is one JSON object with the counts. Row errors do
not fail the command (they are in the report); an unreadable file does.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from fangkong.people.importer import ImportFileError, import_roster
from fangkong.people.importing.report import error_report_bytes


class Command(BaseCommand):
    help = "Import a resident roster (XLSX or CSV) with full rights."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--create-housing", action="store_true",
                            help="Create missing compounds, buildings and units (else they are row errors).")
        parser.add_argument("--create-areas", action="store_true",
                            help="Create missing districts, streets and communities (implies --create-housing).")
        parser.add_argument("--report", type=Path, help="Write the error report (XLSX) here.")

    def handle(self, *args, file: Path, create_areas: bool, create_housing: bool, report: Path | None, **options) -> None:
        started = time.monotonic()

        def progress(line: str) -> None:
            print(f"[{time.monotonic() - started:7.1f} s] {line}", file=sys.stderr, flush=True)

        try:
            result = import_roster(file, filename=file.name, create_areas=create_areas,
                                   create_housing=create_housing, progress=progress)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        if report is not None:
            report.write_bytes(result.report or error_report_bytes([]))
            progress(f"error report: {report}")
        for error in result.errors[:20]:
            progress(f"row {error.row} [{error.column}] {error.message}")
        if len(result.errors) > 20:
            progress(f"... {len(result.errors) - 20} more")
        self.stdout.write(json.dumps(result.summary()))

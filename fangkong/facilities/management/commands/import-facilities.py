"""`fangkong import-facilities FILE [--report OUT.xlsx]`

Facilities and their beds from XLSX or CSV (columns: see fangkong/facilities/importing.py). Progress
and row errors go to stderr; the last line of stdout is one JSON object
{"created": n, "updated": n, "unchanged": n, "errors": n}. Row errors do not fail the command (they are
in the report); an unreadable file does.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from fangkong.facilities.importing import ImportFileError, import_facilities
from fangkong.people.importing.report import write_error_report


class Command(BaseCommand):
    help = "Import facilities with their beds (XLSX or CSV) with full rights."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--report", type=Path, help="Write the error report (XLSX) here.")

    def handle(self, *args, file: Path, report: Path | None, **options) -> None:
        try:
            result = import_facilities(file, filename=file.name)
        except (ImportFileError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        if report is not None:
            write_error_report(result.errors, report)
            print(f"error report: {report}", file=sys.stderr)
        for error in result.errors[:20]:
            print(f"row {error.row} [{error.column}] {error.message}", file=sys.stderr)
        if len(result.errors) > 20:
            print(f"... {len(result.errors) - 20} more", file=sys.stderr)
        self.stdout.write(json.dumps(result.summary()))

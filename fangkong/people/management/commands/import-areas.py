"""`fangkong import-areas FILE [--report OUT.xlsx]`: the area tree from the official code list.

FILE is XLSX or CSV in the 统计用区划代码 layout (code, name). Districts, streets and communities are
created or renamed (each new community with its default grid); the city comes from the codes'
prefix. Progress and the first row errors go to stderr; the last line of stdout is one JSON object
with the counts. Row errors do not fail the command (they are in the report); an unreadable file does.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from fangkong.core.tabular import ImportFileError
from fangkong.people.importing.areas import import_areas
from fangkong.people.importing.report import error_report_bytes


class Command(BaseCommand):
    help = "Import the area tree (city, districts, streets, communities) from an official 统计用区划代码 list."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--report", type=Path, help="Write the error report (XLSX) here.")

    def handle(self, *args, file: Path, report: Path | None, **options) -> None:
        try:
            result = import_areas(file, filename=file.name)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        if report is not None:
            report.write_bytes(result.report or error_report_bytes([]))
            print(f"error report: {report}", file=sys.stderr)
        for error in result.errors[:20]:
            print(f"row {error.row} [{error.column}] {error.message}", file=sys.stderr)
        if len(result.errors) > 20:
            print(f"... {len(result.errors) - 20} more", file=sys.stderr)
        self.stdout.write(json.dumps(result.summary()))

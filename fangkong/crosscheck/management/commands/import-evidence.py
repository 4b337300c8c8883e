"""`fangkong import-evidence KIND FILE [--create-housing] [--report OUT.xlsx]`

KIND: meter (电表读数), lit_windows (亮灯数) or returnees (返程人员名单). The command line has full
rights. Progress goes to stderr; the last line of stdout is one JSON object with the counts,
including the to-dos the cross-check opened afterwards. Row errors do not fail the command (they
are in the report); an unreadable file does.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from fangkong.crosscheck.importer import ImportFileError, import_evidence, parse_kind
from fangkong.people.importing.report import error_report_bytes


class Command(BaseCommand):
    help = "Import evidence for the cross-check (meter readings, lit-window counts, returnee lists) with full rights."

    def add_arguments(self, parser) -> None:
        parser.add_argument("kind", help="meter, lit_windows or returnees")
        parser.add_argument("file", type=Path)
        parser.add_argument("--create-housing", action="store_true",
                            help="Create missing compounds, buildings and units (else they are row errors).")
        parser.add_argument("--report", type=Path, help="Write the error report (XLSX) here.")

    def handle(self, *args, kind: str, file: Path, report: Path | None, create_housing: bool, **options) -> None:
        started = time.monotonic()

        def progress(line: str) -> None:
            print(f"[{time.monotonic() - started:7.1f} s] {line}", file=sys.stderr, flush=True)

        evidence = parse_kind(kind)
        if evidence is None:
            raise CommandError("KIND must be meter, lit_windows or returnees.")
        try:
            result = import_evidence(evidence, file, filename=file.name, progress=progress, create_housing=create_housing)
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

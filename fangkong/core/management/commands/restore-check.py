"""`fangkong restore-check FILE [--jobs N]`: restore a `fangkong backup` dump into a scratch database (created
and dropped here), compare each table's rows and checksum with the manifest written beside the dump, and print
one JSON line {"tables", "rows", "mismatches", "ok"}. Exits 1 when anything differs. See
fangkong/core/backup.py and the README's recovery drill."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from fangkong.core.backup import BackupError, restore_check


class Command(BaseCommand):
    help = "Restore a backup into a scratch database and compare it with its manifest (one JSON line)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="A dump written by `fangkong backup` (its manifest beside it).")
        parser.add_argument("--jobs", type=int, default=1, help="pg_restore's parallel jobs (default 1).")

    def handle(self, *args, file: str, jobs: int, **options) -> None:
        try:
            report = restore_check(connections[DEFAULT_DB_ALIAS].settings_dict, Path(file), jobs=jobs)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(report, ensure_ascii=False))
        if not report["ok"]:
            self.stdout.flush()
            sys.exit(1)

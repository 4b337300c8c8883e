"""`fangkong restore-check FILE|DIRECTORY [--jobs N]`: restore a `fangkong backup` dump (given a directory, the
newest fangkong-*.dump in it) into a scratch database (created
and dropped here), compare each table's rows and checksum with the manifest written beside the dump, and print
one JSON line {"tables", "rows", "mismatches", "ok"}. Exits 1 when anything differs. See
fangkong/core/backup.py and the README's recovery drill."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from fangkong.core.backup import PGBOUNCER_REFUSAL, BackupError, restore_check


class Command(BaseCommand):
    help = "Restore a backup into a scratch database and compare it with its manifest (one JSON line)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="A dump written by `fangkong backup` (its manifest beside it), or a "
                            "directory: the newest fangkong-*.dump in it.")
        parser.add_argument("--jobs", type=int, default=1, help="pg_restore's parallel jobs (default 1).")

    def handle(self, *args, file: str, jobs: int, **options) -> None:
        if getattr(settings, "DB_PGBOUNCER", False):
            raise CommandError(PGBOUNCER_REFUSAL)
        path = Path(file)
        if path.is_dir():
            dumps = sorted(path.glob("fangkong-*.dump"))
            if not dumps:
                raise CommandError(f"No fangkong-*.dump in {path}.")
            path = dumps[-1]
        try:
            report = restore_check(connections[DEFAULT_DB_ALIAS].settings_dict, path, jobs=jobs)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps({"file": str(path), **report}, ensure_ascii=False))
        if not report["ok"]:
            self.stdout.flush()
            sys.exit(1)

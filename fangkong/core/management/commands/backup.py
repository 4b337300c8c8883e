"""`fangkong backup [--output FILE] [--keep N]`: pg_dump (custom format) of the configured PostgreSQL database
and its manifest (FILE.manifest.json: rows and checksum per table, taken in the dump's own snapshot). Without
--output the file is BACKUP_DIR/fangkong-YYYYMMDDTHHMMSSZ.dump. --keep N then deletes all but the newest N
such files in that directory (with their manifests). The last line of stdout is one JSON object.
See fangkong/core/backup.py and the README's recovery drill."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from fangkong.core.backup import PGBOUNCER_REFUSAL, BackupError, backup, manifest_path

PREFIX = "fangkong-"
SUFFIX = ".dump"


class Command(BaseCommand):
    help = "Back up the PostgreSQL database (pg_dump, custom format) with a manifest for restore-check."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--output", help="The dump file (default BACKUP_DIR/fangkong-<UTC time>.dump).")
        parser.add_argument("--keep", type=int, default=0,
                            help="Keep only the newest N fangkong-*.dump files in the dump's directory (0: all).")

    def handle(self, *args, output: str | None, keep: int, **options) -> None:
        if getattr(settings, "DB_PGBOUNCER", False):
            raise CommandError(PGBOUNCER_REFUSAL)
        if keep < 0:
            raise CommandError("--keep must be 0 (keep all) or more.")
        if output:
            target = Path(output)
        else:
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
            target = Path(settings.BACKUP_DIR) / f"{PREFIX}{stamp}{SUFFIX}"
        try:
            manifest = backup(connections[DEFAULT_DB_ALIAS].settings_dict, target)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        removed = prune(target.parent, keep) if keep else []
        self.stdout.write(json.dumps({
            "file": str(target), "manifest": str(manifest_path(target)), "bytes": manifest["dump_bytes"],
            "tables": len(manifest["tables"]), "rows": sum(t["rows"] for t in manifest["tables"].values()),
            "removed": removed}))


def prune(directory: Path, keep: int) -> list[str]:
    """Deletes all but the newest `keep` backups named like the default (their names sort by time)."""
    dumps = sorted(p for p in directory.glob(f"{PREFIX}*{SUFFIX}") if p.is_file())
    removed = []
    for old in dumps[:-keep]:
        manifest_path(old).unlink(missing_ok=True)
        old.unlink()
        removed.append(old.name)
    return removed

"""`fangkong import-accounts FILE [--as USERNAME] [--sheet OUT.html] [--report OUT.xlsx]`

Creates or updates the file's accounts with the rights of a manager (`--as`; by default the first
active superuser). New accounts' generated passwords are handed out once: printed as a table (or,
with --sheet, written as a printable page); they are never stored in clear. Row errors go to stderr
(and to the XLSX --report); the last line of stdout is one JSON object with the counts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.template.loader import render_to_string
from django.utils import timezone

from fangkong.accounts.importer import error_report, import_accounts
from fangkong.accounts.models import User
from fangkong.core.tabular import ImportFileError


class Command(BaseCommand):
    help = "Import accounts (XLSX or CSV): username, name, phone, role, area / compound / facility."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--as", dest="acting", help="Import with this manager's rights (default: a superuser).")
        parser.add_argument("--sheet", type=Path, help="Write the new accounts' passwords here as a printable page (HTML).")
        parser.add_argument("--report", type=Path, help="Write the rows with errors here (XLSX), to fix and import again.")

    def handle(self, *args, file: Path, acting: str | None, sheet: Path | None, report: Path | None, **options) -> None:
        active = User.objects.filter(is_active=True)
        manager = (active.filter(username__iexact=acting).first() if acting
                   else active.filter(is_superuser=True).order_by("pk").first())
        if manager is None:
            raise CommandError(f"No active account {acting}." if acting else
                               "No superuser yet: run `fangkong createsuperuser` first, or name a manager with --as.")
        try:
            result = import_accounts(manager, file, filename=file.name)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        for error in result.errors:
            print(f"row {error.row} [{error.column}] {error.message}", file=sys.stderr)
        if report is not None and result.errors:
            report.write_bytes(error_report(result))
            print(f"error report: {report}", file=sys.stderr)
        if result.issued:
            if sheet is not None:
                sheet.write_text(render_to_string("accounts/manage/sheet_file.html", {"issued": result.issued, "when": timezone.now()}))
                sheet.chmod(0o600)  # plain passwords: readable by the operator only
                print(f"password sheet: {sheet}", file=sys.stderr)
            else:
                for row in result.issued:
                    self.stdout.write("\t".join((row.username, row.password, row.role, row.scope)))
        self.stdout.write(json.dumps(result.summary()))

"""`fangkong demo-accounts`: one log-in per role in the demo city, printed as a table."""

from __future__ import annotations

import unicodedata

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from fangkong.demo.accounts import DEMO_PASSWORD, NoDemoCity, ensure_demo_accounts


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


class Command(BaseCommand):
    help = "Create (or reset) one demo account per role, scoped to the demo city, and print the logins."

    def handle(self, *args, **options) -> None:
        try:
            accounts = ensure_demo_accounts(DEMO_PASSWORD)
        except NoDemoCity as exc:
            raise CommandError(str(exc)) from exc
        header = (_("Role"), _("Username"), _("Password"), _("Scope"))
        rows = [header] + [(a.label, a.username, DEMO_PASSWORD, a.scope) for a in accounts]
        widths = [max(_width(str(row[i])) for row in rows) for i in range(len(header))]
        for row in rows:
            self.stdout.write("  ".join(_pad(str(cell), w) for cell, w in zip(row, widths, strict=True)).rstrip())

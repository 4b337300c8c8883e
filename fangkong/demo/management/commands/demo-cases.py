"""`fangkong demo-cases`: demo facilities and people in the four categories (idempotent)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from fangkong.demo.cases import build_demo_cases, ensure_demo_facilities


class Command(BaseCommand):
    help = "Create demo facilities with beds and people in every category of the four categories (once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--seed", type=int, default=2020)

    def handle(self, *args, seed: int, **options) -> None:
        facilities = ensure_demo_facilities(seed)
        counts = build_demo_cases(seed)
        self.stdout.write(_("%(facilities)d facilities; %(cases)d people taken into the four categories.")
                          % {"facilities": len(facilities), "cases": sum(counts.values())})

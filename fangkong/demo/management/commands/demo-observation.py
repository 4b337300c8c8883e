"""`fangkong demo-observation`: demo people under medical observation with their reports (once)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from fangkong.demo.observation import build_demo_observation


class Command(BaseCommand):
    help = "Create a few hundred demo observation files with reports, missed windows and fevers (once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--seed", type=int, default=2020)
        parser.add_argument("--files", type=int, default=300)

    def handle(self, *args, seed: int, files: int, **options) -> None:
        counts = build_demo_observation(seed, files)
        if not counts.get("files"):
            self.stdout.write(_("The demo already has observation files: nothing added."))
            return
        self.stdout.write(self.style.SUCCESS(_(
            "Medical observation: %(files)d files with %(reports)d health reports; alerts raised: %(missed)d missed "
            "reports, %(fever)d fevers, %(symptoms)d with symptoms, %(escalated)d escalated.") % {
                key: counts.get(key, 0) for key in ("files", "reports", "missed", "fever", "symptoms", "escalated")}))

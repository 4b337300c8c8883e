"""`fangkong demo-tracing`: investigations, contacts, infection links, a cluster and disinfection tasks
for some demo cases, through the tracing services (once: skipped when investigations exist)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from fangkong.tracing.demo import build_demo_tracing


class Command(BaseCommand):
    help = "Create demo contact-tracing data for some confirmed and suspected demo cases (once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--seed", type=int, default=2020)

    def handle(self, *args, seed: int, **options) -> None:
        counts = build_demo_tracing(seed)
        if not counts:
            self.stdout.write(_("The demo already has contact tracing: nothing added."))
            return
        self.stdout.write(self.style.SUCCESS(_(
            "Contact tracing: %(investigations)d investigations, %(contacts)d contacts, %(links)d infection links, "
            "%(tasks_done)d disinfection tasks done.") % {key: counts.get(key, 0) for key in
                                                        ("investigations", "contacts", "links", "tasks_done")}))

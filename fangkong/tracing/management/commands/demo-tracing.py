"""`fangkong demo-tracing`: investigations, contacts, infection links, a cluster and disinfection tasks
for some demo cases, through the tracing services (once: skipped when investigations exist)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from fangkong.tracing.demo import build_demo_tracing


class Command(BaseCommand):
    help = "Create demo contact-tracing data for some confirmed and suspected demo cases (once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--seed", type=int, default=2020)

    def handle(self, *args, seed: int, **options) -> None:
        counts = build_demo_tracing(seed)
        self.stdout.write(", ".join(f"{key}={value}" for key, value in sorted(counts.items())) or "tracing demo data exists already")

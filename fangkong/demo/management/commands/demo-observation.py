"""`fangkong demo-observation`: demo people under medical observation with their reports (once)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from fangkong.demo.observation import build_demo_observation


class Command(BaseCommand):
    help = "Create a few hundred demo observation files with reports, missed windows and fevers (once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--seed", type=int, default=2020)
        parser.add_argument("--files", type=int, default=300)

    def handle(self, *args, seed: int, files: int, **options) -> None:
        counts = build_demo_observation(seed, files)
        self.stdout.write(" ".join(f"{key}={value}" for key, value in counts.items()))

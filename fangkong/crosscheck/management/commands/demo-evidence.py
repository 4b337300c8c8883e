"""`fangkong demo-evidence`: a week of meter readings, lit-window counts and a returnee list for the
demo grid, through the real import path, so the demo shows cross-check to-dos (idempotent)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from fangkong.crosscheck.demo import seed_demo_evidence


class Command(BaseCommand):
    help = "Add demo evidence (meter readings, lit windows, returnees) to the demo city and run the cross-check."

    def handle(self, *args, **options) -> None:
        results = seed_demo_evidence()
        summary = {result.kind: result.summary() for result in results}
        self.stdout.write(json.dumps(summary, ensure_ascii=False))

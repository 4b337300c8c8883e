"""`fangkong demo-serve [ADDRPORT] [--no-jobs]`: the demo's web server, with the schedule of the background
jobs (observation alerts, cross-check, upkeep: fangkong.jobs) run in a thread of the same process, as
`fangkong jobs-worker` runs it in a deployment."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from fangkong.jobs import registry
from fangkong.jobs.scheduler import SchedulerThread


class Command(BaseCommand):
    help = "Serve the demo (runserver --insecure --noreload) and run the scheduled jobs in-process."

    def add_arguments(self, parser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--no-jobs", action="store_true", help="Serve only, as runserver does.")

    def handle(self, *args, addrport: str, no_jobs: bool, **options) -> None:
        scheduler = None
        if not no_jobs:
            scheduler = SchedulerThread()
            scheduler.start()
            self.stdout.write(_("Scheduled jobs (%(names)s) run in this process.") % {
                "names": ", ".join(str(kind.label) for kind in registry.periodic())})
        try:
            call_command("runserver", addrport, "--insecure", "--noreload")
        finally:
            if scheduler is not None:
                scheduler.stop()

"""`fangkong demo-serve [ADDRPORT] [--jobs-every MINUTES] [--no-jobs]`: the demo's web server, with the
periodic jobs (observation alerts, cross-check) run in the same process every few minutes."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from fangkong.demo.jobs import DEFAULT_EVERY_MINUTES, PERIODIC, PeriodicJobs


class Command(BaseCommand):
    help = "Serve the demo (runserver --insecure --noreload) and run the periodic jobs in-process on a timer."

    def add_arguments(self, parser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--jobs-every", type=float, default=DEFAULT_EVERY_MINUTES, metavar="MINUTES",
                            help="Run the periodic jobs every this many minutes (default 5).")
        parser.add_argument("--no-jobs", action="store_true", help="Serve only, as runserver does.")

    def handle(self, *args, addrport: str, jobs_every: float, no_jobs: bool, **options) -> None:
        if jobs_every <= 0:
            raise CommandError(_("--jobs-every must be a positive number of minutes."))
        jobs = None
        if not no_jobs:
            jobs = PeriodicJobs(jobs_every * 60)
            jobs.start()
            self.stdout.write(_("Periodic jobs (%(names)s) run every %(minutes)s minutes in this process.") % {
                "names": ", ".join(name for name, _options in PERIODIC), "minutes": f"{jobs_every:g}"})
        try:
            call_command("runserver", addrport, "--insecure", "--noreload")
        finally:
            if jobs is not None:
                jobs.stop()

"""`fangkong demo-city`: a realistic demo city (or a demo roster file) from a seed."""

from __future__ import annotations

import re

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from fangkong.areas.models import Area
from fangkong.demo.city import build_city
from fangkong.demo.roster import write_roster
from fangkong.demo.screening import build_screening_history


class Command(BaseCommand):
    help = "Generate a demo city (districts, streets, communities, grids, compounds, households, residents)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--residents", type=int, default=20_000, help="number of residents (default 20000)")
        parser.add_argument("--seed", type=int, default=2020, help="random seed: the same seed gives the same city")
        parser.add_argument("--if-empty", action="store_true", help="do nothing if any area exists already")
        parser.add_argument("--city-name", default="武汉市")
        parser.add_argument("--city-code", default="4201", help="4-digit GB/T 2260 city code")
        parser.add_argument("--roster-out", metavar="FILE.xlsx",
                            help="write a roster file for the import screen instead of filling the database")
        parser.add_argument("--with-errors", action="store_true", help="with --roster-out: include a few bad rows")
        parser.add_argument("--screening-days", type=int, default=7,
                            help="days of screening history for the first street (default 7, 0 for none)")

    def handle(self, *args, residents: int, seed: int, if_empty: bool, city_name: str, city_code: str,
               roster_out: str | None, with_errors: bool, screening_days: int, **options) -> None:
        self.verbosity = options.get("verbosity", 1)
        if residents < 1:
            raise CommandError(_("--residents must be at least 1."))
        if not re.fullmatch(r"\d{4}", city_code):
            raise CommandError(_("--city-code must have 4 digits, e.g. 4201."))
        if roster_out:
            count = write_roster(roster_out, residents, seed, errors=with_errors)
            self.stdout.write(_("Wrote %(count)d people to %(path)s.") % {"count": count, "path": roster_out})
            return
        if if_empty and Area.objects.exists():
            self.stdout.write(_("The database already has areas: no demo city generated."))
            return
        if Area.objects.filter(code=city_code).exists():
            raise CommandError(_("A city with code %(code)s exists already: use a fresh database or --if-empty.")
                               % {"code": city_code})

        summary = build_city(residents, seed, city_name, city_code, progress=self._progress)
        levels = summary.by_level
        self.stdout.write(self.style.SUCCESS(
            _("Demo city %(city)s: %(areas)d areas (%(districts)d districts, %(streets)d streets, "
              "%(communities)d communities, %(grids)d grids), %(compounds)d compounds, %(buildings)d buildings, "
              "%(households)d households, %(residents)d residents in %(seconds).1f s.") % {
                "city": city_name, "areas": summary.areas, "districts": levels.get("district", 0),
                "streets": levels.get("street", 0), "communities": levels.get("community", 0),
                "grids": levels.get("grid", 0), "compounds": summary.compounds, "buildings": summary.buildings,
                "households": summary.households, "residents": summary.residents, "seconds": summary.seconds,
            }))
        if screening_days > 0:
            history = build_screening_history(screening_days, seed)
            self.stdout.write(self.style.SUCCESS(
                _("Screening history of %(street)s: %(visits)d visits, %(checks)d person checks, %(items)d follow-up "
                  "items over %(days)d days.") % {"street": history.street, "visits": history.visits,
                                                   "checks": history.checks, "items": history.follow_ups,
                                                   "days": history.days}))

    def _progress(self, message: str) -> None:
        if self.verbosity >= 2:
            self.stdout.write(message)

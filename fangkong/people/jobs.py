"""The roster and area imports as background jobs (fangkong.jobs): the upload screens submit them."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from fangkong.jobs.imports import file_import
from fangkong.people.importer import import_roster
from fangkong.people.importing.areas import import_areas

ROSTER_IMPORT = "roster-import"
AREA_IMPORT = "area-import"


def _roster(source, *, filename, user, progress, create_housing: bool = False):
    return import_roster(source, filename=filename, user=user, create_housing=create_housing, progress=progress,
                         rows_done=lambda n: progress(done=n))


def _areas(source, *, filename, user, progress):
    return import_areas(source, filename=filename, user=user)


ROSTER = file_import(ROSTER_IMPORT, _("Roster import"), _roster, result_url_name="imports:result",
                     back_url_name="imports:upload")
AREAS = file_import(AREA_IMPORT, _("Area code list import"), _areas, result_url_name="imports:areas_result",
                    back_url_name="imports:areas")
KINDS = (ROSTER, AREAS)

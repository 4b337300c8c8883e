"""The facility import as a background job (fangkong.jobs): the upload screen submits it."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from fangkong.facilities.importing import import_facilities
from fangkong.jobs.imports import file_import

FACILITY_IMPORT = "facility-import"


def _facilities(source, *, filename, user, progress):
    return import_facilities(source, filename=filename, user=user)


FACILITIES = file_import(FACILITY_IMPORT, _("Facility import"), _facilities, result_url_name="facilities:import_result",
                         back_url_name="facilities:import")

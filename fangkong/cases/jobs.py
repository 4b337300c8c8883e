"""The lab results import as a background job (fangkong.jobs): the upload screen submits it."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from fangkong.cases.labimport import import_results
from fangkong.jobs.imports import IMPORT_COUNTS, file_import

RESULTS_IMPORT = "lab-results-import"


def _results(source, *, filename, user, progress):
    return import_results(source, filename=filename, user=user)


RESULTS = file_import(RESULTS_IMPORT, _("Lab results import"), _results, result_url_name="cases:import_result",
                      back_url_name="cases:import",
                      count_labels={key: IMPORT_COUNTS[key] for key in ("updated", "unchanged", "errors")})

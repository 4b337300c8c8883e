"""A file import as a job kind: every import screen (roster, areas, evidence, lab results, facilities) has the
same shape — a file, its user, a few options, a result with counts and an import batch whose page carries the
per-row report — so one builder makes their kinds.

    KIND = file_import("roster-import", _("Roster import"), import_roster, result_url_name="imports:result",
                       back_url_name="imports:upload", count_labels=IMPORT_COUNTS)

The import function is called as `importer(file, filename=..., user=..., progress=..., **job.params)`; it
must raise ImportFileError for a file it cannot read (before writing anything) and PermissionDenied when the
user may not import, and return an object with `summary()` (the counts) and `batch_id`.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.core.tabular import ImportFileError, estimate_data_rows
from fangkong.jobs.models import Job
from fangkong.jobs.progress import Progress
from fangkong.jobs.registry import JobError, JobKind, Outcome

IMPORT_COUNTS: dict[str, str | Promise] = {
    "created": gettext_lazy("Created"), "updated": gettext_lazy("Updated"), "unchanged": gettext_lazy("Unchanged"),
    "errors": gettext_lazy("Rows with errors"),
}


def file_import(name: str, label: str | Promise, importer: Callable[..., Any], *, result_url_name: str,
                back_url_name: str, count_labels: dict[str, str | Promise] | None = None) -> JobKind:
    def run(job: Job, progress: Progress) -> Outcome:
        if job.user is None or not job.user.is_active:
            # An import without its user would run with the command line's full rights: never.
            raise JobError(_("The account that started this import no longer exists or is deactivated."))
        data = bytes(job.input_data)
        progress(_("Reading the file"), done=0, total=estimate_data_rows(data, job.input_name))
        try:
            result = importer(io.BytesIO(data), filename=job.input_name, user=job.user, progress=progress,
                              **job.params)
        except ImportFileError as exc:
            raise JobError(str(exc)) from exc
        except PermissionDenied as exc:
            raise JobError(_("The account that started this import may no longer import such files.")) from exc
        return Outcome(counts=result.summary(), url=reverse(result_url_name, args=[result.batch_id]))

    return JobKind(name, label, run, back_url_name=back_url_name, count_labels=count_labels or IMPORT_COUNTS)

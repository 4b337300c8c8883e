"""The roster import as a background job (fangkong.jobs): the upload screen submits it, a worker runs it."""

from __future__ import annotations

import io

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.core.tabular import ImportFileError, estimate_data_rows
from fangkong.jobs.models import Job
from fangkong.jobs.progress import Progress
from fangkong.jobs.registry import JobError, JobKind, Outcome
from fangkong.people.importer import import_roster

ROSTER_IMPORT = "roster-import"


def run_roster_import(job: Job, progress: Progress) -> Outcome:
    if job.user is None or not job.user.is_active:
        # A roster import without its user would run with the command line's full rights: never.
        raise JobError(_("The account that started this import no longer exists or is deactivated."))
    data = bytes(job.input_data)
    progress(_("Reading the file"), done=0, total=estimate_data_rows(data, job.input_name))
    try:
        result = import_roster(io.BytesIO(data), filename=job.input_name, user=job.user,
                               create_housing=bool(job.params.get("create_housing")),
                               progress=progress, rows_done=lambda n: progress(done=n))
    except ImportFileError as exc:
        raise JobError(str(exc)) from exc
    except PermissionDenied as exc:
        raise JobError(_("The account that started this import may no longer import rosters.")) from exc
    return Outcome(counts=result.summary(), url=reverse("imports:result", args=[result.batch_id]))


KIND = JobKind(ROSTER_IMPORT, gettext_lazy("Roster import"), run_roster_import, back_url_name="imports:upload",
               count_labels={"created": gettext_lazy("Created"), "updated": gettext_lazy("Updated"),
                             "unchanged": gettext_lazy("Unchanged"), "errors": gettext_lazy("Rows with errors")})

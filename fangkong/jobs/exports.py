"""XLSX exports as background jobs: one small mechanism for every app's export.

An app describes each export once and registers it in its AppConfig.ready():

    register_export(Export("export-targets", _("Targets export"), build_targets, url_name="cases:export"))

`build(user, params)` is the app's existing export code, run with the account that asked: it looks the
area up again through the app's access functions (so a user who lost the right, or the area, since
asking gets nothing: PermissionDenied or Http404 become a failed job with a message), writes the
workbook and says what the download's audit entry must record (`ExportFile.audit_*`: the area and the
filters, as the synchronous view used to). The view behind `url_name` checks the same rights, then
`start()`s the job on a POST (CSRF-protected form) and sends its user to the job page, where the owner
downloads the file (fangkong.jobs.views.job_download writes the audit entry). The job runs in the
language of the request that started it (`params["language"]`), so the workbook reads as before, and
reads from the read replica as the page's export did (core.dbrouter; the primary when its user had just
written, or when the replica fails under it): an export kind is `reads_only`, run before the job's transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import PermissionDenied
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.core.dbrouter import is_pinned, is_recovery_conflict, reading_from_replica, replica_state
from fangkong.core.scope import ScopedUser
from fangkong.jobs.queue import submit
from fangkong.jobs.registry import JobError, JobKind, Outcome, register

if TYPE_CHECKING:
    from fangkong.jobs.models import Job
    from fangkong.jobs.progress import Progress

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LANGUAGE = "language"  # the params key: the language of the request that started the export
PRIMARY = "primary"  # the params key: its user had just written, so the export reads from the primary
logger = logging.getLogger(__name__)


class ExportTooBig(Exception):
    """The export would hold more rows than one file may: the message says what to do instead."""


@dataclass
class ExportFile:
    name: str
    data: bytes
    rows: int
    audit_object: models.Model  # what was exported (an area), the download's audit entry's object
    audit_changes: dict[str, Any] = field(default_factory=dict)  # the filters, row count… as the old view logged
    content_type: str = XLSX


Builder = Callable[[Any, dict[str, Any]], ExportFile]


@dataclass(frozen=True)
class Export:
    name: str  # the job kind
    label: str | Promise
    build: Builder
    url_name: str  # the export's address: GET leads to `back`, POST starts the job (the persona matrix follows it)
    back: Callable[[dict[str, Any]], str] | None = None  # the page the export was started from, by its params


EXPORTS: dict[str, Export] = {}
COUNT_LABELS: dict[str, str | Promise] = {"rows": gettext_lazy("Rows")}


def _runner(export: Export) -> Callable[[Job, Progress], Outcome]:
    def run(job: Job, progress: Progress) -> Outcome:
        user = job.user
        if user is None or not user.is_active:
            raise JobError(_("The account that started this export no longer exists or is deactivated."))
        progress(_("Writing the file"))
        with translation.override(job.params.get(LANGUAGE) or None):
            try:
                file = _build_on_replica(export, user, job.params)
            except (PermissionDenied, Http404) as exc:
                raise JobError(_("The account that started this export may no longer export this area.")) from exc
            except ExportTooBig as exc:
                raise JobError(str(exc)) from exc
        progress(done=file.rows, total=file.rows)
        target = file.audit_object
        audit = {"object_type": target._meta.label_lower, "object_id": str(target.pk), "object_repr": str(target)[:200],
                 "area_code": getattr(target, "area_code", "") or getattr(target, "code", ""),
                 "changes": file.audit_changes}
        return Outcome(counts={"rows": file.rows}, file_name=file.name, file_type=file.content_type,
                       file_data=file.data, audit=audit, message=_("The file is ready to download."))

    return run


def _build_on_replica(export: Export, user: Any, params: dict[str, Any]) -> ExportFile:
    """The export reads from the read replica (as the page's export did, core.dbrouter.use_replica) unless its
    user had just written (`params["primary"]`, read-your-writes); should the replica fail under it, it is
    written again from the primary."""
    if not params.get(PRIMARY):
        with reading_from_replica() as alias:
            if alias == DEFAULT_DB_ALIAS:
                return export.build(user, dict(params))
            try:
                return export.build(user, dict(params))
            except (OperationalError, InterfaceError) as exc:
                if not is_recovery_conflict(exc) and replica_state(force=True).usable:
                    raise  # the primary failed, not the replica: the queue retries the job
        logger.warning("read replica failed under the export %s: reading from the primary", export.name)
    return export.build(user, dict(params))


def register_export(export: Export) -> None:
    if EXPORTS.get(export.name, export) is not export:
        raise ValueError(f"export {export.name!r} is registered twice")
    EXPORTS[export.name] = export
    back = export.back
    register(JobKind(export.name, export.label, _runner(export), count_labels=COUNT_LABELS, reads_only=True,
                     back=(lambda job: back(job.params)) if back is not None else None))


def start(request: HttpRequest, name: str, params: dict[str, Any]) -> HttpResponse:
    """Start the export for the request's user (whose rights the view has checked) and go to its job page."""
    job = submit(name, user=cast(ScopedUser, request.user),
                 params={**params, LANGUAGE: translation.get_language() or "", PRIMARY: is_pinned(request)})
    return redirect("jobs:detail", job_id=job.pk)

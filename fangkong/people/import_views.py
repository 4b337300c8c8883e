"""Roster import screens: upload, result with the first errors, the template and the error report."""

from __future__ import annotations

import io
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.accounts.models import User
from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.core import permissions
from fangkong.core.tabular import COLUMNS, REQUIRED, ROSTER
from fangkong.jobs.queue import submit
from fangkong.people.access import access_batch, visible_batches
from fangkong.people.importer import ImportFileError, roster_template
from fangkong.people.importing.areas import can_import_areas
from fangkong.people.importing.report import masked_report, shown_errors
from fangkong.people.jobs import ROSTER_IMPORT
from fangkong.people.models import ImportBatch

ALLOWED_EXTENSIONS = (".xlsx", ".csv")
SHOWN_ERRORS = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Roster file (XLSX or CSV)"),
                           widget=forms.ClearableFileInput(attrs={"accept": ",".join(ALLOWED_EXTENSIONS)}))
    # Off by default: a typo in a compound, building or unit name must not become housing nobody visits.
    create_housing = forms.BooleanField(
        label=gettext_lazy("Allow new compounds, buildings and units"), required=False,
        help_text=gettext_lazy("Unticked, a compound, building or unit that does not exist is reported with the nearest existing name. New buildings are put in the community's default grid."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in ALLOWED_EXTENSIONS:
            raise forms.ValidationError(_("Only .xlsx and .csv files can be imported."))
        if upload.size > settings.IMPORT_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than %(limit)s.")
                                        % {"limit": filesizeformat(settings.IMPORT_MAX_UPLOAD_BYTES)})
        return upload


def require_importer(user: User) -> None:
    if not permissions.can_import(user):
        raise PermissionDenied


def first_errors(report: bytes, limit: int = SHOWN_ERRORS) -> list[tuple]:
    """(row, column, reason) of the first errors in a stored report, without reading all of it."""
    return [error[:3] for error in shown_errors(report, limit)]


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    require_importer(request.user)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        try:
            ROSTER.check_file(data, upload.name)
        except ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            job = submit(ROSTER_IMPORT, user=request.user, input_name=upload.name, input_data=data,
                         params={"create_housing": form.cleaned_data["create_housing"]})
            return redirect("jobs:detail", job_id=job.pk)
    columns = [(zh, key in REQUIRED) for key, zh in COLUMNS]
    recent = visible_batches(request.user).filter(kind=ImportBatch.ROSTER).select_related("user")[:10]
    return render(request, "people/imports/upload.html", {
        "form": form, "columns": columns, "recent": recent, "max_size": settings.IMPORT_MAX_UPLOAD_BYTES,
        "can_import_areas": can_import_areas(request.user),
    })


@login_required
def result(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = access_batch(request.user, batch_id)
    return render_result(request, batch, reverse("imports:upload"))


def render_result(request: HttpRequest, batch: ImportBatch, upload_url: str, *, template: str = "people/imports/result.html",
                  extra: dict | None = None) -> HttpResponse:
    """The result page of any import (rosters and evidence lists): counts, the first errors, the report."""
    errors = shown_errors(bytes(batch.report or b""), SHOWN_ERRORS)
    context = {"batch": batch, "errors": errors, "shown": SHOWN_ERRORS, "upload_url": upload_url,
               "own_report": batch.user_id == request.user.pk, **(extra or {})}
    return render(request, template, context)


@login_required
def report(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = access_batch(request.user, batch_id)
    if not batch.report:
        raise Http404
    # The uploader gets the rows back as uploaded (to correct and import again); anyone else who may
    # see the batch gets ID numbers and phones masked. Either way the download is audit-logged.
    own = batch.user_id == request.user.pk
    content = bytes(batch.report) if own else masked_report(bytes(batch.report))
    record(request.user, Action.EXPORT, batch, changes={"error_report": "unmasked" if own else "masked"})
    name = f"导入错误报告-{batch.pk}.xlsx"
    return FileResponse(io.BytesIO(content), as_attachment=True, filename=name, content_type=XLSX)


@login_required
def template(request: HttpRequest) -> HttpResponse:
    require_importer(request.user)
    return FileResponse(io.BytesIO(roster_template()), as_attachment=True, filename="居民名册模板.xlsx", content_type=XLSX)

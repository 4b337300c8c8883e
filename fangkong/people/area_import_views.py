"""The area import screen (统计用区划代码): upload, result with the first errors, the error report."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy

from fangkong.accounts.models import User
from fangkong.core.tabular import ImportFileError
from fangkong.jobs.queue import submit
from fangkong.people.access import access_batch, visible_batches
from fangkong.people.import_views import UploadForm, render_result
from fangkong.people.importing.areas import AREA_COLUMNS, AREAS, can_import_areas
from fangkong.people.jobs import AREA_IMPORT


class AreaUploadForm(UploadForm):
    create_housing = None  # an area list holds no housing

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].label = gettext_lazy("Area code list (XLSX or CSV)")


def require_area_importer(user: User) -> None:
    if not can_import_areas(user):
        raise PermissionDenied


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    require_area_importer(request.user)
    form = AreaUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read()
            try:
                AREA_COLUMNS.check_file(data, upload.name)
            except ImportFileError as exc:
                form.add_error("file", str(exc))
            else:
                job = submit(AREA_IMPORT, user=request.user, input_name=upload.name, input_data=data)
                return redirect("jobs:detail", job_id=job.pk)
    recent = visible_batches(request.user).filter(kind=AREAS).select_related("user")[:10]
    return render(request, "people/imports/areas.html", {
        "form": form, "recent": recent, "max_size": settings.IMPORT_MAX_UPLOAD_BYTES,
    }, status=status)


@login_required
def result(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = access_batch(request.user, batch_id, rule=can_import_areas)
    return render_result(request, batch, reverse("imports:areas"), template="people/imports/areas_result.html")

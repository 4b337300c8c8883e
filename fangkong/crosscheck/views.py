"""Cross-check pages (phone first): the to-do list of an area with counts per kind, a to-do with its
evidence, the registration and close forms, the XLSX export, and the evidence import.

Thin views: to-dos reached through crosscheck.access (a role that may not is 403, out of scope is
404), rules in the services."""

from __future__ import annotations

import io
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.db.models.functions import Length
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.models import User
from fangkong.areas.models import Area, Household
from fangkong.areas.views import crumbs_for
from fangkong.core import permissions
from fangkong.core.errors import FieldErrors
from fangkong.crosscheck import services
from fangkong.crosscheck.access import access_area, access_todo
from fangkong.crosscheck.evidence import SPECS, evidence_template
from fangkong.crosscheck.exports import TODOS_EXPORT, parse_filters
from fangkong.crosscheck.forms import CloseForm, EvidenceUploadForm, OccupantForm, ReturneeForm
from fangkong.crosscheck.importer import ImportFileError
from fangkong.crosscheck.jobs import EVIDENCE_IMPORT
from fangkong.crosscheck.models import EvidenceKind, Kind, LitCount, MeterReading, Status, ToDo
from fangkong.jobs.exports import start
from fangkong.jobs.queue import submit
from fangkong.people.access import access_batch, visible_batches
from fangkong.people.import_views import XLSX, render_result, require_importer
from fangkong.people.models import ImportBatch, Resident
from fangkong.screening.models import PersonCheck

TODOS_PER_PAGE = 50
EVIDENCE_SHOWN = 28  # days of readings or nights of counts on a to-do's page
HOUSEHOLDS_SHOWN = 200


def _area(request: HttpRequest) -> Area:
    """The area of the list (`?area=`, else the user's own), for those who handle to-dos."""
    return access_area(request.user, request.GET.get("area") or "")


def _filters(request: HttpRequest) -> dict[str, str]:
    return parse_filters(request.GET)


# ---------------------------------------------------------------- the list and the export

@login_required
@require_GET
def todo_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    area = _area(request)
    filters = _filters(request)
    todos = services.todos_in(user, area.code, **filters)
    page = Paginator(todos, TODOS_PER_PAGE).get_page(request.GET.get("page"))
    counts = services.kind_counts(user, area.code, filters["status"])
    return render(request, "crosscheck/todos.html", {
        "area": area, "page": page, **filters, "counts": [(kind, label, counts[kind]) for kind, label in Kind.choices],
        "total": sum(counts.values()), "statuses": [*Status.choices, ("all", _("All"))],
        "crumbs": crumbs_for(user, area.code, include_self=False), "can_import": permissions.can_import(user),
    })


@login_required
@require_http_methods(["GET", "POST"])
def todo_export(request: HttpRequest) -> HttpResponse:
    """The listed to-dos as XLSX (personal data masked), made by a background job (POST: the list's button,
    with its area and filters); the job page offers the file. A GET starts nothing: it leads to the list."""
    data = request.POST if request.method == "POST" else request.GET
    area = access_area(request.user, data.get("area") or "")
    filters = parse_filters(data)
    if request.method != "POST":
        return redirect(reverse("crosscheck:todos") + "?" + urlencode({"area": area.code, **filters}))
    return start(request, TODOS_EXPORT, {"code": area.code, **filters})


# ---------------------------------------------------------------- one to-do

def _building_households(user: User, todo: ToDo) -> list[Household]:
    return list(Household.objects.restrict(user).filter(building_id=todo.building_id).select_related("unit")
                .annotate(n_residents=Count("residents")).order_by("unit_id", Length("room"), "room")[:HOUSEHOLDS_SHOWN])


def _register_form(request: HttpRequest, todo: ToDo, data=None):
    if not todo.is_open or not permissions.can_edit_residents(request.user):
        return None
    if todo.kind == Kind.POWERED:
        return OccupantForm(data)
    if todo.kind == Kind.LIT:
        return OccupantForm(data, households=_building_households(request.user, todo))
    if todo.kind == Kind.RETURNEE_UNREGISTERED and todo.household_id:
        return ReturneeForm(data)
    return None


def _evidence(user: User, todo: ToDo) -> dict:
    if todo.kind == Kind.POWERED:
        return {"readings": MeterReading.objects.filter(household_id=todo.household_id).order_by("-date")[:EVIDENCE_SHOWN],
                "residents": Resident.objects.restrict(user).filter(household_id=todo.household_id).order_by("id")}
    if todo.kind == Kind.LIT:
        occupied = (Household.objects.restrict(user).filter(building_id=todo.building_id, residents__isnull=False)
                    .distinct().count())
        return {"lit_counts": LitCount.objects.filter(building_id=todo.building_id).order_by("-date")[:EVIDENCE_SHOWN],
                "households": _building_households(user, todo), "occupied": occupied}
    evidence = {"returnee": todo.returnee}
    if todo.kind == Kind.RETURNEE_UNSCREENED and todo.resident_id:
        evidence["checks"] = (PersonCheck.objects.filter(resident_id=todo.resident_id, date__gte=todo.returnee.arrival_date)
                              .select_related("visit").order_by("-date", "-id")[:10])
    return evidence


def _page(request: HttpRequest, todo: ToDo, *, close_form=None, register_form=None, status: int = 200) -> HttpResponse:
    user = request.user
    context = {
        "todo": todo, "crumbs": crumbs_for(user, todo.area_code),
        "close_form": close_form or (CloseForm(todo=todo) if todo.is_open else None),
        "register_form": register_form or _register_form(request, todo),
        "list_url": reverse("crosscheck:todos") + f"?area={todo.area_code}",
        **_evidence(user, todo),
    }
    return render(request, "crosscheck/todo.html", context, status=status)


@login_required
@require_GET
def todo_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, access_todo(request.user, pk))


@login_required
@require_POST
def todo_close(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    todo = access_todo(user, pk)
    form = CloseForm(request.POST, todo=todo) if todo.is_open else None
    if form is None:
        messages.warning(request, _("This to-do was closed already."))
        return redirect("crosscheck:todo", pk=todo.pk)
    if form.is_valid():
        try:
            services.close_todo(user, todo, form.cleaned_data["outcome"], form.cleaned_data["note"])
        except FieldErrors as exc:
            form.add_field_errors(exc)
        except services.ToDoClosed as exc:
            messages.warning(request, str(exc))
            return redirect("crosscheck:todo", pk=todo.pk)
        else:
            messages.success(request, _("Closed: %(subject)s.") % {"subject": todo.subject})
            return redirect(reverse("crosscheck:todos") + f"?area={todo.area_code}")
    return _page(request, todo, close_form=form, status=400)


@login_required
@require_POST
def todo_register(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    todo = access_todo(user, pk)
    form = _register_form(request, todo, request.POST)
    if form is None:
        raise PermissionDenied
    if form.is_valid():
        household = None
        if "household" in form.fields:
            household = Household.objects.restrict(user).filter(pk=form.cleaned_data["household"]).first()
        try:
            resident = services.register_occupant(user, todo, form.raw(), household=household)
        except FieldErrors as exc:
            form.add_field_errors(exc)
        except services.ToDoClosed as exc:
            messages.warning(request, str(exc))
            return redirect("crosscheck:todo", pk=todo.pk)
        else:
            messages.success(request, _("%(name)s was added to the roster as a new occupant. Close the to-do when everyone is registered.")
                             % {"name": resident.name})
            return redirect(reverse("crosscheck:todo", args=[todo.pk]) + "#close")
    return _page(request, todo, register_form=form, status=400)


# ---------------------------------------------------------------- importing evidence

@login_required
@require_http_methods(["GET", "POST"])
def evidence_upload(request: HttpRequest) -> HttpResponse:
    require_importer(request.user)
    form = EvidenceUploadForm(request.POST or None, request.FILES or None,
                              initial={"kind": request.GET.get("kind") if request.GET.get("kind") in SPECS else EvidenceKind.METER})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload, kind = form.cleaned_data["file"], form.cleaned_data["kind"]
            data = upload.read()
            try:
                SPECS[kind].columns.check_file(data, upload.name)
            except ImportFileError as exc:
                form.add_error("file", str(exc))
            else:
                job = submit(EVIDENCE_IMPORT, user=request.user, input_name=upload.name, input_data=data,
                             params={"kind": kind, "create_housing": form.cleaned_data["create_housing"]})
                return redirect("jobs:detail", job_id=job.pk)
    recent = visible_batches(request.user).exclude(kind=ImportBatch.ROSTER).select_related("user")[:10]
    kinds = [(kind, label, [(zh, key in SPECS[kind].columns.required) for key, zh in SPECS[kind].columns.columns])
             for kind, label in EvidenceKind.choices]
    return render(request, "crosscheck/import.html", {
        "form": form, "kinds": kinds, "recent": recent, "kind_labels": dict(EvidenceKind.choices),
        "max_size": settings.IMPORT_MAX_UPLOAD_BYTES,
    }, status=status)


@login_required
@require_GET
def evidence_result(request: HttpRequest, batch_id: int) -> HttpResponse:
    user = request.user
    batch = access_batch(user, batch_id)
    if batch.kind not in EvidenceKind.values:
        raise Http404
    area = user.home_area
    open_counts = None
    if area is not None and user.scope.covers_area_code(area.code) and permissions.can_handle_todos(user):
        open_counts = sum(services.kind_counts(user, area.code).values())
    return render_result(request, batch, reverse("crosscheck:import"), template="crosscheck/result.html", extra={
        "kind_label": EvidenceKind(batch.kind).label, "open_counts": open_counts, "home_area": area})


@login_required
@require_GET
def evidence_template_download(request: HttpRequest, kind: str) -> HttpResponse:
    require_importer(request.user)
    if kind not in SPECS:
        raise Http404
    return FileResponse(io.BytesIO(evidence_template(kind)), as_attachment=True, filename=SPECS[kind].filename,
                        content_type=XLSX)

"""Households, residents, search and the area's resident export. Lists show masked identifiers only;
the full values come from `services.reveal` (POST, audit-logged). Changes go through the services
(audit-logged too); every object is reached through `people.access` (or `areas.access`)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from fangkong.areas.views import crumbs_for
from fangkong.core import permissions
from fangkong.core.errors import FieldErrors
from fangkong.jobs.exports import ExportTooBig, start
from fangkong.people import services
from fangkong.people.access import RESIDENT_RELATED, access_household, access_resident
from fangkong.people.exports import RESIDENTS_EXPORT, check_size, export_area
from fangkong.people.forms import ResidentEditForm, ResidentForm
from fangkong.people.models import Resident

SEARCH_PAGE_SIZE = 50
SEARCH_MIN_LENGTH = 2


@login_required
@require_http_methods(["GET", "POST"])
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    household = access_household(user, pk)
    form = None
    if permissions.can_edit_residents(user):
        form = ResidentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                resident = services.create_resident(user, household, form.raw())
            except FieldErrors as exc:
                form.add_field_errors(exc)
            else:
                messages.success(request, _("Resident %(name)s added.") % {"name": resident.name})
                return redirect("people:household", pk=household.pk)
    elif request.method == "POST":
        raise PermissionDenied
    residents = Resident.objects.restrict(user).filter(household=household).order_by("id")
    context = {
        "household": household,
        "crumbs": crumbs_for(user, household.compound.area_code),
        "residents": residents,
        "form": form,
        "open_form": request.method == "POST",
    }
    return render(request, "people/household_detail.html", context, status=400 if request.method == "POST" else 200)


def _resident_page(request: HttpRequest, resident: Resident, revealed: dict | None = None) -> HttpResponse:
    context = {
        "resident": resident,
        "household": resident.household,
        "crumbs": crumbs_for(request.user, resident.household.compound.area_code),
        "revealed": revealed,
    }
    return render(request, "people/resident_detail.html", context)


@login_required
def resident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _resident_page(request, access_resident(request.user, pk))


@login_required
@require_POST
def resident_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Full document number and phone, once, in this response; the reveal is audit-logged."""
    resident = access_resident(request.user, pk, rule=permissions.can_reveal)  # 403 for other roles
    revealed = services.reveal(request.user, resident)
    response = _resident_page(request, resident, revealed)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def resident_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    resident = access_resident(user, pk, rule=permissions.can_edit_residents)
    form = ResidentEditForm(request.POST or None, resident=resident)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.update_resident(user, resident, form.raw())
            except FieldErrors as exc:
                form.add_field_errors(exc)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("people:resident", pk=resident.pk)
    context = {
        "resident": resident,
        "household": resident.household,
        "crumbs": crumbs_for(user, resident.household.compound.area_code),
        "form": form,
    }
    return render(request, "people/resident_edit.html", context, status=status)


@login_required
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    context: dict = {"query": query, "min_length": SEARCH_MIN_LENGTH, "page": None}
    if len(query) >= SEARCH_MIN_LENGTH:
        results = Resident.objects.restrict(request.user).search(query).select_related(*RESIDENT_RELATED).order_by("name", "id")
        context["page"] = Paginator(results, SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "people/search.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def area_export(request: HttpRequest, code: str) -> HttpResponse:
    """The residents under an area as XLSX, masked, made by a background job (POST: the area page's button,
    people.panels); the job page offers the file, and its download is audit-logged. For those who may reveal
    (403), within their scope (404). A GET starts nothing: it leads to the area page with the button."""
    area = export_area(request.user, code)
    if request.method != "POST":
        return redirect("areas:detail", code=area.code)
    try:
        check_size(area, Resident.objects.within(request.user, area.code).count())
    except ExportTooBig as exc:
        messages.error(request, str(exc))
        return redirect("areas:detail", code=area.code)
    return start(request, RESIDENTS_EXPORT, {"code": area.code})

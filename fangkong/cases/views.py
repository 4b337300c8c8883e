"""Four-category screens: the category board and targets per area, the list of people in a category,
a person's status timeline with its actions, test entry and the lab import.

Objects are reached through cases.access (the role, then the scope: out of scope answers 404); changes
go through the services (history, audit). What other apps show on the case page (appointments, beds
and transfers) are panels they register for the slot "case". Lists show masked identifiers only.
"""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from fangkong.areas.models import CODE_LENGTH, Area, Level
from fangkong.areas.views import crumbs_for
from fangkong.cases import samples, services
from fangkong.cases.access import access_case, access_import, access_resident, access_test, visible_imports
from fangkong.cases.exports import TARGETS_EXPORT, export_area
from fangkong.cases.forms import (
    LabFileForm,
    OpenCaseForm,
    OrderTestForm,
    ResultForm,
    SampleForm,
    SeverityForm,
    TransitionForm,
    add_field_errors,
)
from fangkong.cases.hooks import CASE_STAY_TIMES
from fangkong.cases.jobs import RESULTS_IMPORT
from fangkong.cases.labimport import LAB_COLUMNS, template_bytes
from fangkong.cases.models import Case, NucleicAcidTest, Placement, Status
from fangkong.cases.targets import LINKS, area_counts, area_links, person_links, zero_lists
from fangkong.cases.transitions import BOARD_ORDER, allowed
from fangkong.core import permissions
from fangkong.core.dbrouter import use_replica
from fangkong.core.errors import FieldErrors
from fangkong.core.redirects import safe_next
from fangkong.core.tabular import ImportFileError
from fangkong.jobs.exports import start
from fangkong.jobs.queue import submit
from fangkong.people.import_views import first_errors

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RESIDENT_RELATED = ("resident__household__compound", "resident__household__building", "resident__household__unit")


def _require_viewer(user) -> None:
    if not permissions.can_manage_cases(user):
        raise PermissionDenied


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_viewer(user)
    if user.scope.facility_id:
        return redirect("facilities:detail", pk=user.scope.facility_id)
    area = user.home_area
    if area is None or not user.scope.covers_area_code(area.code):
        raise PermissionDenied
    return redirect("cases:board", code=area.code)


def _area(request: HttpRequest, code: str) -> Area:
    _require_viewer(request.user)
    return Area.objects.get_visible_or_404(request.user, code=code)


@login_required
@use_replica
def board(request: HttpRequest, code: str) -> HttpResponse:
    """The category board and the targets of an area, live (the targets part refreshes itself)."""
    user = request.user
    area = _area(request, code)
    child_width = CODE_LENGTH[Level(area.child_level)] if area.child_level else None
    total, by_prefix = area_counts(user, area.code, child_width)
    children = []
    if area.child_level:
        for child in area.children.order_by("code"):
            children.append((child, by_prefix.get(child.code)))
        if area.code in by_prefix:  # people of households not yet in a grid carry the community's code
            children.append((None, by_prefix[area.code]))
    links, links_by_prefix = area_links(user, area.code, child_width)
    context = {
        "area": area, "crumbs": crumbs_for(user, area.code, include_self=False), "total": total, "children": children,
        "statuses": [(s, Status(s).label) for s in BOARD_ORDER], "lists": zero_lists(user, area.code),
        "links": links.medians(), "link_labels": [label for _key, label in LINKS],
        "child_links": [(child, links_by_prefix.get(child.code)) for child, _c in children if child is not None],
        "now": timezone.now(), "can_place": permissions.is_commander(user),
        "post_discharge_due": services.post_discharge(user, area.code, due_only=True).count(),
    }
    if request.GET.get("fragment") == "targets":
        return render(request, "cases/_targets.html", context)
    return render(request, "cases/board.html", context)


@login_required
def people(request: HttpRequest, code: str) -> HttpResponse:
    user = request.user
    area = _area(request, code)
    cases = Case.objects.within(user, area.code).select_related(*RESIDENT_RELATED)
    status, placement, zero = request.GET.get("status", ""), request.GET.get("placement", ""), request.GET.get("zero", "")
    if status in Status.values:
        cases = cases.filter(status=status)
    if placement in Placement.values:
        cases = cases.filter(placement=placement)
    if zero in ("critical_waiting", "suspected_waiting", "awaiting_test"):
        cases = {"critical_waiting": cases.filter(status=Status.CONFIRMED, severity="critical").exclude(placement=Placement.PLACED),
                 "suspected_waiting": cases.filter(status=Status.SUSPECTED).exclude(placement=Placement.PLACED),
                 "awaiting_test": cases.filter(Q(status=Status.FEVER) | Q(status=Status.SUSPECTED, tested=False))}[zero]
    page = Paginator(cases.order_by("-status_since", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "cases/people.html", {
        "area": area, "crumbs": crumbs_for(user, area.code), "page": page, "status": status, "placement": placement,
        "statuses": Status.choices, "placements": Placement.choices, "now": timezone.now(), "after_cure": services.AFTER_CURE,
    })


@login_required
def post_discharge(request: HttpRequest, code: str) -> HttpResponse:
    """The post-discharge period (recovery station or home monitoring): who is in it, whose period ends
    today and who is overdue (period over, not yet released)."""
    user = request.user
    area = _area(request, code)
    today = timezone.localdate()
    due = request.GET.get("due") == "1"
    cases = services.post_discharge(user, area.code, today=today, due_only=due).select_related(*RESIDENT_RELATED)
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "cases/post_discharge.html", {
        "area": area, "crumbs": crumbs_for(user, area.code), "page": page, "today": today, "due": due,
        "due_count": services.post_discharge(user, area.code, today=today, due_only=True).count(),
    })


@login_required
@require_http_methods(["GET", "POST"])
def export(request: HttpRequest, code: str) -> HttpResponse:
    """The targets as XLSX, made by a background job (POST: the board's button); the job page offers the file.
    A GET starts nothing: it leads to the board with the button."""
    area = export_area(request.user, code)
    if request.method != "POST":
        return redirect("cases:board", code=area.code)
    return start(request, TARGETS_EXPORT, {"code": area.code})


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A person's status timeline: history, tests, beds and transfers, time in each link; the actions."""
    case = access_case(request.user, pk)
    return _render_detail(request, case)


def _render_detail(request: HttpRequest, case: Case, **forms) -> HttpResponse:
    tests = list(case.tests.order_by("ordered_at", "id"))
    context = {
        "case": case, "resident": case.resident, "household": case.resident.household,
        "crumbs": crumbs_for(request.user, case.area_code),
        "history": case.history.select_related("changed_by", "test").order_by("changed_at", "id"),
        "tests": tests, "links": person_links(case, tests, CASE_STAY_TIMES(case)),
        "transition_form": forms.get("transition_form") or TransitionForm(current=case.status),
        "severity_form": forms.get("severity_form") or SeverityForm(initial={"severity": case.severity}),
        "order_form": forms.get("order_form") or OrderTestForm(),
        "sample_form": SampleForm(initial={"sampled_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}),
        "result_form": ResultForm(),
        "can_move": bool(allowed(case.status)), "after_cure": services.AFTER_CURE,
    }
    return render(request, "cases/detail.html", context, status=400 if forms else 200)


@login_required
@require_POST
def transition(request: HttpRequest, pk: int) -> HttpResponse:
    case = access_case(request.user, pk)
    form = TransitionForm(request.POST, current=case.status)
    if form.is_valid():
        try:
            services.transition(request.user, case, form.cleaned_data["to_status"], form.cleaned_data["reason"],
                                severity=form.cleaned_data["severity"], evidence=form.cleaned_data["evidence"],
                                cure_override=form.cleaned_data.get("cure_override", ""))
        except FieldErrors as exc:
            add_field_errors(form, exc.errors)
        else:
            messages.success(request, _("Status changed."))
            return redirect("cases:detail", pk=case.pk)
    elif "to_status" in form.errors and request.POST.get("to_status") in Status.values:
        # A status that is not among the next ones: say why, in the service's words.
        form.errors["to_status"] = form.error_class([str(services.refusal(case.status, request.POST["to_status"]))])
    return _render_detail(request, case, transition_form=form)


@login_required
@require_POST
def severity(request: HttpRequest, pk: int) -> HttpResponse:
    case = access_case(request.user, pk)
    form = SeverityForm(request.POST)
    if form.is_valid():
        try:
            services.change_severity(request.user, case, form.cleaned_data["severity"], form.cleaned_data["reason"])
        except FieldErrors as exc:
            add_field_errors(form, exc.errors)
        else:
            messages.success(request, _("Severity changed."))
            return redirect("cases:detail", pk=case.pk)
    return _render_detail(request, case, severity_form=form)


@login_required
@require_POST
def order_test(request: HttpRequest, pk: int) -> HttpResponse:
    case = access_case(request.user, pk)
    form = OrderTestForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            test = samples.order_test(request.user, case, sample_number=data["sample_number"])
            if data["take_now"]:
                samples.record_sample(request.user, test, place=data["place"], taker=data["taker"])
        except FieldErrors as exc:
            add_field_errors(form, {"sample_number" if k == "sample_number" else "place": v for k, v in exc.errors.items()})
        else:
            messages.success(request, _("Test %(number)s ordered.") % {"number": test.sample_number})
            return redirect("cases:detail", pk=case.pk)
    return _render_detail(request, case, order_form=form)


@login_required
@require_POST
def sample(request: HttpRequest, pk: int) -> HttpResponse:
    test = access_test(request.user, pk)
    form = SampleForm(request.POST)
    if form.is_valid():
        try:
            samples.record_sample(request.user, test, sampled_at=form.cleaned_data["sampled_at"], place=form.cleaned_data["place"],
                                   taker=form.cleaned_data["taker"])
        except FieldErrors as exc:
            for message in exc.errors.values():
                messages.error(request, message)
        else:
            messages.success(request, _("Sample %(number)s recorded.") % {"number": test.sample_number})
    else:
        messages.error(request, _("Say where the sample was taken."))
    return redirect(safe_next(request, reverse("cases:detail", args=[test.case_id])))


@login_required
@require_POST
def result(request: HttpRequest, pk: int) -> HttpResponse:
    test = access_test(request.user, pk)
    form = ResultForm(request.POST)
    if form.is_valid():
        try:
            samples.record_result(request.user, test, form.cleaned_data["result"], result_at=form.cleaned_data["result_at"],
                                   lab=form.cleaned_data["lab"])
        except FieldErrors as exc:
            for message in exc.errors.values():
                messages.error(request, message)
        else:
            messages.success(request, _("Result of %(number)s entered.") % {"number": test.sample_number})
    else:
        messages.error(request, _("Choose a result."))
    return redirect(safe_next(request, reverse("cases:detail", args=[test.case_id])))


@login_required
def open_case(request: HttpRequest, resident_pk: int) -> HttpResponse:
    """Take a resident into the four categories (from the resident's page or a screening follow-up)."""
    user = request.user
    resident = access_resident(user, resident_pk)
    existing = Case.objects.filter(resident=resident).first()
    if existing is not None and request.method == "GET":
        return redirect("cases:detail", pk=existing.pk)
    form = OpenCaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = services.open_case(user, resident, data["status"], data["reason"], severity=data["severity"], evidence=data["evidence"])
        except FieldErrors as exc:
            add_field_errors(form, {("status" if k == "to_status" else k): v for k, v in exc.errors.items()})
        else:
            messages.success(request, _("%(name)s is now: %(status)s.") % {"name": resident.name, "status": case.status_label})
            return redirect("cases:detail", pk=case.pk)
    return render(request, "cases/open.html", {"resident": resident, "form": form,
                                               "crumbs": crumbs_for(user, resident.area_code)})


@login_required
def tests(request: HttpRequest) -> HttpResponse:
    """Test entry: samples to take and results to enter in the user's scope, or one sample by its number."""
    user = request.user
    _require_viewer(user)
    visible = NucleicAcidTest.objects.restrict(user).select_related("case__resident")
    number = request.GET.get("q", "").strip().upper()
    if number:
        visible = visible.filter(sample_number__icontains=number)
    else:
        visible = visible.filter(result="")
    page = Paginator(visible.order_by("sampled_at", "ordered_at", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "cases/tests.html", {"page": page, "q": number, "result_form": ResultForm(), "sample_form": SampleForm(),
                                                "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M")})


@login_required
def lab_import(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_viewer(user)
    form = LabFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        try:
            LAB_COLUMNS.check_file(data, upload.name)
        except ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            job = submit(RESULTS_IMPORT, user=user, input_name=upload.name, input_data=data)
            return redirect("jobs:detail", job_id=job.pk)
    return render(request, "cases/import.html", {"form": form, "recent": visible_imports(user).select_related("user")[:10]})


@login_required
def import_result(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = access_import(request.user, batch_id)
    return render(request, "cases/import_result.html", {"batch": batch, "errors": first_errors(bytes(batch.report or b"")), "shown": 50})


@login_required
def import_report(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = access_import(request.user, batch_id)
    if not batch.report:
        raise Http404
    return FileResponse(io.BytesIO(bytes(batch.report)), as_attachment=True, filename=f"核酸结果导入错误报告-{batch.pk}.xlsx",
                        content_type=XLSX)


@login_required
def import_template(request: HttpRequest) -> HttpResponse:
    _require_viewer(request.user)
    return FileResponse(io.BytesIO(template_bytes()), as_attachment=True, filename="核酸检测结果模板.xlsx", content_type=XLSX)

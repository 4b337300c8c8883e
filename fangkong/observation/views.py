"""Observation screens: an area's board, a person's file (details, decisions, follow-up log, reports,
temperature curve, QR code of the self-report link, the worker's forms), opening a file from a
resident's page and the printable release notices. Objects are reached through observation.access
(403 for a role that may not observe; out of scope answers 404); every change goes through the services."""

from __future__ import annotations

import datetime as dt

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.areas.views import crumbs_for
from fangkong.core import permissions
from fangkong.core.dbrouter import use_replica
from fangkong.core.errors import FieldErrors
from fangkong.core.redirects import safe_next
from fangkong.observation import responsible
from fangkong.observation.access import FILE_RELATED, access_alert, access_area, access_file, access_resident
from fangkong.observation.alerts import handle_alert as handle_alert_service
from fangkong.observation.board import area_board
from fangkong.observation.curve import temperature_svg
from fangkong.observation.escalation import record_violation
from fangkong.observation.files import add_note, decide, reissue_token
from fangkong.observation.files import open_file as open_file_service
from fangkong.observation.forms import (
    DecisionForm,
    HandleAlertForm,
    NoteForm,
    OpenFileForm,
    ReportForm,
    ResponsibleForm,
    ViolationForm,
    add_field_errors,
)
from fangkong.observation.models import FileStatus, ObservationFile
from fangkong.observation.release import eligible_for_release, release_eligible, release_file
from fangkong.observation.reports import record_worker_report
from fangkong.observation.windows import local_today, windows
from fangkong.policy.services import current_policy


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not permissions.can_observe(user):
        raise PermissionDenied
    area = user.home_area
    if area is None or not user.scope.covers_area_code(area.code):
        raise PermissionDenied
    return redirect("observation:board", code=area.code)


@login_required
@use_replica
def board(request: HttpRequest, code: str) -> HttpResponse:
    user = request.user
    area = access_area(user, code)
    context = area_board(user, area.code)
    context.update({"area": area, "crumbs": crumbs_for(user, area.code, include_self=False),
                    "can_assign": permissions.can_assign_responsible(user)})
    return render(request, "observation/board.html", context)


BULK_SHOWN = 200


def _workers(user, area_code: str) -> list[tuple]:
    return [(w, responsible.worker_label(w)) for w in responsible.candidates(user, area_code)]


@login_required
def assign_responsible(request: HttpRequest, code: str) -> HttpResponse:
    """Assign a responsible worker to many open files of an area: the ticked ones, or all without one."""
    user = request.user
    if not permissions.can_assign_responsible(user):
        raise PermissionDenied
    area = access_area(user, code)
    form = ResponsibleForm(request.POST or None, workers=_workers(user, area.code), required=True)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            ids = [int(v) for v in request.POST.getlist("files") if v.isdigit()]
            try:
                result = responsible.assign_in_area(user, area.code, form.cleaned_data["responsible"], file_ids=ids,
                                                    unassigned=request.POST.get("scope") == "unassigned")
            except FieldErrors as exc:
                add_field_errors(form, exc.errors)
            else:
                messages.success(request, _("%(n)d people given a responsible worker.") % {"n": result.assigned})
                if result.skipped:
                    messages.warning(request, _("%(n)d people live outside that worker's area and were left as they were.")
                                     % {"n": result.skipped})
                return redirect(f"{reverse('observation:responsible', args=[area.code])}?{request.GET.urlencode()}")
    show_all = request.GET.get("all") == "1"
    files = (ObservationFile.objects.within(user, area.code).filter(status=FileStatus.OPEN)
             .select_related(*FILE_RELATED).order_by("area_code", "planned_end_on", "id"))
    unassigned = files.filter(responsible__isnull=True).count()
    listed = files if show_all else files.filter(responsible__isnull=True)
    rows = [(f, responsible.contact_of(user, f)) for f in listed[:BULK_SHOWN]]
    return render(request, "observation/responsible.html", {
        "area": area, "crumbs": crumbs_for(user, area.code), "form": form, "rows": rows, "count": listed.count(),
        "unassigned": unassigned, "show_all": show_all, "shown": BULK_SHOWN,
    }, status=status)


@login_required
@require_POST
def release_area(request: HttpRequest, code: str) -> HttpResponse:
    user = request.user
    area = access_area(user, code)
    count = release_eligible(user, area.code)
    messages.success(request, _("%(n)d people released from observation.") % {"n": count})
    return redirect("observation:board", code=area.code)


def _self_report_url(request: HttpRequest, file: ObservationFile) -> str:
    return request.build_absolute_uri(reverse("obs_selfreport:report", args=[file.token]))


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_file(request, access_file(request.user, pk))


def _render_file(request: HttpRequest, file: ObservationFile, status: int = 200, **forms) -> HttpResponse:
    policy = current_policy()
    reports = list(file.reports.select_related("recorded_by").order_by("reported_at", "id"))
    names = [w.name for w in windows(policy)]
    end = max(file.planned_end_on, max((r.date for r in reports), default=file.planned_end_on))
    curve = temperature_svg(file.started_on, end, names, [(r.date, r.window_name, r.temperature) for r in reports],
                            policy.fever_threshold_c, _("Temperature curve"))
    qr = url = None
    if file.status == FileStatus.OPEN:
        url = _self_report_url(request, file)
        qr = segno.make(url, error="m").svg_inline(scale=4, border=2)
    today = local_today()
    contact = responsible.contact_of(request.user, file)
    if contact.full and contact.phone and status == 200:
        responsible.record_contacts_shown(request.user, [file], area_code=file.area_code, where=file.resident.name)
    context = {
        "file": file, "resident": file.resident, "crumbs": crumbs_for(request.user, file.area_code),
        "reports": reports, "curve": curve, "qr": qr, "url": url,
        "decisions": file.decisions.select_related("decided_by").order_by("decided_at", "id"),
        "notes": file.notes.select_related("written_by").order_by("written_at", "id"),
        "alerts": file.alerts.select_related("handled_by").order_by("-created_at", "-id"),
        "report_form": forms.get("report_form") or ReportForm(),
        "note_form": forms.get("note_form") or NoteForm(),
        "decision_form": forms.get("decision_form") or DecisionForm(),
        "violation_form": forms.get("violation_form") or ViolationForm(),
        "eligible": eligible_for_release(ObservationFile.objects.filter(pk=file.pk), today).exists(),
        "contact": contact,
        "can_assign": permissions.can_assign_responsible(request.user) and file.status == FileStatus.OPEN,
        "responsible_form": forms.get("responsible_form") or ResponsibleForm(
            workers=_workers(request.user, file.area_code), initial={"responsible": file.responsible_id}),
        "threshold": policy.fever_threshold_c,
    }
    return render(request, "observation/file.html", context, status=status)


@login_required
@require_POST
def report(request: HttpRequest, pk: int) -> HttpResponse:
    file = access_file(request.user, pk)
    form = ReportForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            result = record_worker_report(request.user, file, temperature=data["temperature"],
                                          symptoms=data["symptoms"], client_id=data["client_id"],
                                          how=form.how_taken())
        except FieldErrors as exc:
            add_field_errors(form, exc.errors)
        else:
            if result.escalated:
                messages.warning(request, _("Fever: the person was taken into the four categories as a fever patient."))
            else:
                messages.success(request, _("Report recorded."))
            if result.report.reading_unreliable:  # kept, but a re-take is asked for
                messages.warning(request, _("A forehead reading taken outdoors in this weather is not reliable: please "
                                            "measure again indoors, or at the ear or armpit, and report again."))
            return redirect("observation:file", pk=file.pk)
    return _render_file(request, file, 400, report_form=form)


def _file_action(request: HttpRequest, pk: int, form_class, form_key: str, act, done) -> HttpResponse:
    """A form posted on the file page: validate, run the service, say what happened and go back to the
    file; field errors (from the form or the service) show on the same form with status 400."""
    file = access_file(request.user, pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            act(file, form.cleaned_data)
        except FieldErrors as exc:
            add_field_errors(form, exc.errors)
        else:
            done(request)
            return redirect("observation:file", pk=file.pk)
    return _render_file(request, file, 400, **{form_key: form})


@login_required
@require_POST
def note(request: HttpRequest, pk: int) -> HttpResponse:
    return _file_action(request, pk, NoteForm, "note_form",
                        lambda file, data: add_note(request.user, file, data["note"]),
                        lambda r: messages.success(r, _("Follow-up note saved.")))


@login_required
@require_POST
def decision(request: HttpRequest, pk: int) -> HttpResponse:
    return _file_action(request, pk, DecisionForm, "decision_form",
                        lambda file, data: decide(request.user, file, data["kind"], data["reason"],
                                                  new_end_on=data["new_end_on"]),
                        lambda r: messages.success(r, _("Decision recorded.")))


@login_required
@require_POST
def violation(request: HttpRequest, pk: int) -> HttpResponse:
    return _file_action(request, pk, ViolationForm, "violation_form",
                        lambda file, data: record_violation(request.user, file, data["note"]),
                        lambda r: messages.warning(r, _("Violation recorded: centralised isolation ordered.")))


@login_required
@require_POST
def set_responsible(request: HttpRequest, pk: int) -> HttpResponse:
    file = access_file(request.user, pk, rule=permissions.can_assign_responsible)
    form = ResponsibleForm(request.POST, workers=_workers(request.user, file.area_code))
    if form.is_valid():
        try:
            responsible.assign(request.user, file, form.cleaned_data["responsible"])
        except FieldErrors as exc:
            add_field_errors(form, exc.errors)
        else:
            messages.success(request, _("Responsible worker saved."))
            return redirect("observation:file", pk=file.pk)
    return _render_file(request, file, 400, responsible_form=form)


@login_required
@require_POST
def release(request: HttpRequest, pk: int) -> HttpResponse:
    file = access_file(request.user, pk)
    try:
        release_file(request.user, file)
    except FieldErrors as exc:
        for message in exc.errors.values():
            messages.error(request, message)
        return redirect("observation:file", pk=file.pk)
    messages.success(request, _("Released; the notice can be printed."))
    return redirect("observation:notice", pk=file.pk)


@login_required
@require_POST
def renew_link(request: HttpRequest, pk: int) -> HttpResponse:
    file = access_file(request.user, pk)
    reissue_token(request.user, file)
    messages.success(request, _("A new link was made; the old link and its QR code no longer work."))
    return redirect("observation:file", pk=file.pk)


@login_required
@require_POST
def handle_alert(request: HttpRequest, pk: int) -> HttpResponse:
    alert = access_alert(request.user, pk)
    form = HandleAlertForm(request.POST)
    note_text = form.cleaned_data["note"] if form.is_valid() else ""
    handle_alert_service(request.user, alert, note_text)
    messages.success(request, _("Alert handled."))
    return redirect(safe_next(request, reverse("observation:file", args=[alert.file_id])))


@login_required
def open_file(request: HttpRequest, resident_pk: int) -> HttpResponse:
    """Open an observation file from a resident's page."""
    user = request.user
    resident = access_resident(user, resident_pk)
    existing = ObservationFile.objects.filter(resident=resident, status=FileStatus.OPEN).first()
    if existing is not None and request.method == "GET":
        return redirect("observation:file", pk=existing.pk)
    form = OpenFileForm(request.POST or None, initial={"place": resident.household.address,
                                                      "last_exposure_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            file = open_file_service(user, resident, kind=data["kind"], reason=data["reason"],
                                      last_exposure_on=data["last_exposure_on"], place=data["place"],
                                      responsible=user if user.role else None)
        except FieldErrors as exc:
            add_field_errors(form, exc.errors)
        else:
            messages.success(request, _("Observation file opened."))
            return redirect("observation:file", pk=file.pk)
    return render(request, "observation/open.html", {"resident": resident, "form": form,
                                                     "crumbs": crumbs_for(user, resident.area_code)},
                  status=400 if form.errors else 200)


def _notices(request: HttpRequest, files) -> HttpResponse:
    return render(request, "observation/notices.html", {"files": files, "today": local_today()})


@login_required
def notice(request: HttpRequest, pk: int) -> HttpResponse:
    file = access_file(request.user, pk)
    if file.status != FileStatus.RELEASED:
        messages.error(request, _("Only a released file has a release notice."))
        return redirect("observation:file", pk=file.pk)
    return _notices(request, [file])


@login_required
def area_notices(request: HttpRequest, code: str) -> HttpResponse:
    """All release notices of an area for one day (default today), one per printed page."""
    user = request.user
    area = access_area(user, code)
    try:
        day = dt.date.fromisoformat(request.GET.get("day", "")) if request.GET.get("day") else local_today()
    except ValueError:
        day = local_today()
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    files = (ObservationFile.objects.within(user, area.code).select_related(*FILE_RELATED)
             .filter(status=FileStatus.RELEASED, ended_at__gte=start, ended_at__lt=start + dt.timedelta(days=1))
             .order_by("notice_number"))
    return _notices(request, list(files))

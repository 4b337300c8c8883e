"""Facility screens: the facility board with beds, one facility (admissions, discharges, beds closed for
cleaning), the registry form, the backlog with the placement engine and its review, transfer tracking.

Objects are reached through the access functions (facilities.access, cases.access): the role, then the
scope; every change goes through the services (registry, beds, transfers, runs, appointments).
"""

from __future__ import annotations

import io
from collections import defaultdict
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fangkong.areas.models import Area, Level
from fangkong.cases.access import access_case
from fangkong.cases.models import Case, Placement
from fangkong.cases.services import cure_check
from fangkong.core import permissions
from fangkong.core.dbrouter import use_replica
from fangkong.core.errors import FieldErrors
from fangkong.core.redirects import safe_next
from fangkong.core.tabular import ImportFileError
from fangkong.facilities import appointments, importing, registry
from fangkong.facilities import beds as bed_ops
from fangkong.facilities import runs as run_ops
from fangkong.facilities import transfers as transfer_ops
from fangkong.facilities.access import (
    access_appointment,
    access_clinic,
    access_facility,
    access_facility_work,
    access_import,
    access_proposal,
    access_run,
    access_slot,
    access_stay,
    access_transfer,
    can_open_slots,
    visible_imports,
)
from fangkong.facilities.jobs import FACILITY_IMPORT
from fangkong.facilities.models import (
    ACTIVE_STAYS,
    TRANSFER_STEPS,
    Appointment,
    AppointmentSlot,
    AppointmentStatus,
    BedKind,
    BedPool,
    EndReason,
    Facility,
    FacilityKind,
    PlacementRun,
    Proposal,
    ProposalState,
    RunStatus,
    Stay,
    StayStatus,
    Transfer,
    TransferStatus,
)
from fangkong.facilities.routing import options
from fangkong.jobs.queue import submit
from fangkong.people.import_views import first_errors
from fangkong.policy.services import current_policy

_l = gettext_lazy
PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PEOPLE_RELATED = ("case__resident__household__compound", "case__resident__household__building", "case__resident__household__unit")


def _require_viewer(user) -> None:
    if not permissions.can_manage_cases(user):
        raise PermissionDenied


def _require_commander(user) -> None:
    if not permissions.can_place(user):
        raise PermissionDenied


def _bed_rows(pools) -> dict[int, list[BedPool]]:
    rows: dict[int, list[BedPool]] = defaultdict(list)
    for pool in pools:
        rows[pool.facility_id].append(pool)
    return rows


@login_required
@use_replica
def board(request: HttpRequest) -> HttpResponse:
    """Every facility the user sees, with its beds by kind: capacity, occupied, booked, closed, free."""
    user = request.user
    _require_viewer(user)
    if user.scope.facility_id:
        return redirect("facilities:detail", pk=user.scope.facility_id)
    facilities = list(Facility.objects.restrict(user).select_related("area"))
    beds = _bed_rows(BedPool.objects.restrict(user).order_by("facility_id", "kind"))
    totals: dict[str, dict[str, int]] = {}
    for pools in beds.values():
        for pool in pools:
            t = totals.setdefault(pool.kind, {"capacity": 0, "occupied": 0, "booked": 0, "closed": 0, "free": 0})
            for name in ("capacity", "occupied", "booked", "closed"):
                t[name] += getattr(pool, name)
            t["free"] += pool.free
    kind = request.GET.get("kind", "")
    if kind in FacilityKind.values:
        facilities = [f for f in facilities if f.kind == kind]
    return render(request, "facilities/board.html", {
        "rows": [(f, beds.get(f.pk, [])) for f in facilities], "totals": [(BedKind(k).label, t) for k, t in sorted(totals.items())],
        "kinds": FacilityKind.choices, "kind": kind, "can_register": permissions.can_register_facilities(user),
        "can_place": permissions.can_place(user),
    })


class CloseBedsForm(forms.Form):
    kind = forms.ChoiceField(label=_l("Bed kind"), choices=BedKind.choices)
    count = forms.IntegerField(label=_l("Beds"), min_value=-10000, max_value=10000)


class DischargeForm(forms.Form):
    # No outcome is preselected: the facility states how the person leaves.
    outcome = forms.ChoiceField(label=_l("How the person leaves"), choices=EndReason.choices, widget=forms.RadioSelect)
    note = forms.CharField(label=_l("Note"), max_length=200, required=False,
                           help_text=_l("Where the person goes, the cause of death, or why they leave."))
    cure_override = forms.CharField(label=_l("Discharge as cured without the tests the policy asks for: why"), max_length=200,
                                    required=False, help_text=_l("Only when the tests are missing; recorded in the audit log."))


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    facility = access_facility(user, pk)
    # The people in it are health data: each viewer sees those their own scope covers (its staff: all of them).
    stays = (Stay.objects.restrict(user).filter(facility=facility, status__in=ACTIVE_STAYS)
             .select_related(*PEOPLE_RELATED, "case", "transfer"))
    incoming = [s for s in stays if s.status == StayStatus.BOOKED]
    present = [s for s in stays if s.status == StayStatus.ADMITTED]
    return render(request, "facilities/detail.html", {
        "facility": facility, "beds": BedPool.objects.filter(facility=facility).order_by("kind"),
        "incoming": sorted(incoming, key=lambda s: s.booked_at), "present": sorted(present, key=lambda s: s.admitted_at),
        "can_work": permissions.can_work_in_facilities(user), "close_form": CloseBedsForm(),
        "can_register": permissions.can_register_facilities(user), "now": timezone.now(),
        "is_clinic": facility.kind == FacilityKind.FEVER_CLINIC,
        "slots": _clinic_slots(facility) if facility.kind == FacilityKind.FEVER_CLINIC else [],
        "can_open_slots": can_open_slots(user, facility), "slot_form": SlotForm(),
    })


class SlotForm(forms.Form):
    starts_at = forms.DateTimeField(label=_l("Starts at"), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    minutes = forms.IntegerField(label=_l("Minutes"), initial=30, min_value=5, max_value=480)
    capacity = forms.IntegerField(label=_l("Places"), initial=10, min_value=1, max_value=appointments.MAX_PLACES)


def _clinic_slots(facility: Facility):
    """Today's and later slots of a fever clinic, each with its booked appointments."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    slots = list(AppointmentSlot.objects.filter(facility=facility, starts_at__gte=start).order_by("starts_at")[:100])
    booked: dict[int, list[Appointment]] = defaultdict(list)
    for appointment in Appointment.objects.filter(slot__in=slots, status=AppointmentStatus.BOOKED).select_related("case__resident"):
        booked[appointment.slot_id].append(appointment)
    return [(slot, booked.get(slot.pk, [])) for slot in slots]


@login_required
@require_POST
def slot_new(request: HttpRequest, pk: int) -> HttpResponse:
    facility = access_clinic(request.user, pk)
    form = SlotForm(request.POST)
    if form.is_valid():
        try:
            appointments.open_slot(request.user, facility, **form.cleaned_data)
        except FieldErrors as exc:
            for message in exc.errors.values():
                messages.error(request, message)
        else:
            messages.success(request, _("Appointment slot opened."))
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    return redirect(f"{reverse('facilities:detail', args=[facility.pk])}#slots")


@login_required
@require_POST
def appointment_book(request: HttpRequest, case_pk: int) -> HttpResponse:
    case = access_case(request.user, case_pk, related=())
    slot = access_slot(request.user, request.POST.get("slot") or 0)
    if slot is None:
        messages.error(request, _("Choose a time."))
    else:
        try:
            appointment = appointments.book(request.user, case, slot)
        except FieldErrors as exc:
            for message in exc.errors.values():
                messages.error(request, message)
        else:
            messages.success(request, _("Appointment at %(facility)s, %(time)s.") % {
                "facility": slot.facility.name, "time": timezone.localtime(appointment.slot.starts_at).strftime("%m-%d %H:%M")})
    return redirect(f"{reverse('cases:detail', args=[case.pk])}#appointments")


@login_required
@require_POST
def appointment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = access_appointment(request.user, pk)
    try:
        appointments.cancel(request.user, appointment)
    except FieldErrors as exc:
        for message in exc.errors.values():
            messages.error(request, message)
    else:
        messages.success(request, _("Appointment cancelled."))
    return redirect(safe_next(request, reverse("cases:detail", args=[appointment.case_id])))


@login_required
@require_POST
def close_beds(request: HttpRequest, pk: int) -> HttpResponse:
    facility = access_facility_work(request.user, pk)
    form = CloseBedsForm(request.POST)
    if form.is_valid():
        count = form.cleaned_data["count"]
        if request.POST.get("action") == "reopen":
            count = -abs(count)
        try:
            registry.change_closed_beds(request.user, facility, form.cleaned_data["kind"], count)
        except FieldErrors as exc:
            for message in exc.errors.values():
                messages.error(request, message)
        else:
            messages.success(request, _("Beds updated."))
    else:
        messages.error(request, _("Give a number of beds."))
    return redirect("facilities:detail", pk=facility.pk)


@login_required
@require_POST
def admit(request: HttpRequest, pk: int) -> HttpResponse:
    stay = access_stay(request.user, pk)
    try:
        bed_ops.admit(request.user, stay)
    except FieldErrors as exc:
        for message in exc.errors.values():
            messages.error(request, message)
    else:
        messages.success(request, _("Admitted."))
    return redirect("facilities:detail", pk=stay.facility_id)


@login_required
def discharge(request: HttpRequest, pk: int) -> HttpResponse:
    """The person leaves: choose the outcome, then confirm on a summary; a cure shows the tests the policy asks for."""
    stay = access_stay(request.user, pk)
    if stay.status != StayStatus.ADMITTED:
        messages.error(request, _("Only an admitted person can leave."))
        return redirect("facilities:detail", pk=stay.facility_id)
    case = Case.objects.select_related("resident").get(pk=stay.case_id)
    form = DischargeForm(request.POST or None)
    confirming = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if request.POST.get("confirmed") == "1":
            try:
                bed_ops.discharge(request.user, stay, data["outcome"], note=data["note"], cure_override=data["cure_override"])
            except FieldErrors as exc:
                add_errors(form, exc.errors)
            else:
                messages.success(request, _("%(name)s has left %(facility)s: %(outcome)s.") % {
                    "name": case.resident.name, "facility": stay.facility.name, "outcome": EndReason(data["outcome"]).label})
                return redirect("facilities:detail", pk=stay.facility_id)
        else:
            confirming = True
    cure = cure_check(case)
    return render(request, "facilities/discharge.html", {
        "stay": stay, "case": case, "form": form, "confirming": confirming, "cure": cure,
        "outcome_label": EndReason(form.cleaned_data["outcome"]).label if confirming else "",
    }, status=400 if request.method == "POST" and not confirming else 200)


def add_errors(form: forms.Form, errors: dict[str, str]) -> None:
    for field, message in errors.items():
        form.add_error(field if field in form.fields else None, str(message))


class FacilityForm(forms.ModelForm):
    class Meta:
        model = Facility
        fields = ("name", "kind", "area", "address", "longitude", "latitude", "phone", "is_active")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        areas = Area.objects.restrict(user).filter(level=Level.DISTRICT) if not user.scope.everything else Area.objects.filter(level=Level.DISTRICT)
        self.fields["area"].queryset = areas.order_by("code")
        pools = {p.kind: p.capacity for p in BedPool.objects.filter(facility=self.instance)} if self.instance.pk else {}
        for kind, label in BedKind.choices:
            self.fields[f"beds_{kind}"] = forms.IntegerField(label=label, min_value=0, max_value=100000, initial=pools.get(kind, 0))


@login_required
def edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = request.user
    if not permissions.can_register_facilities(user):
        raise PermissionDenied
    facility = access_facility(user, pk, rule=permissions.can_register_facilities) if pk else None
    form = FacilityForm(request.POST or None, instance=facility, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        values = {name: data[name] for name in FacilityForm.Meta.fields}
        beds = {kind: data[f"beds_{kind}"] for kind in BedKind.values}
        try:
            saved = registry.save_facility(user, values, facility, beds)
        except FieldErrors as exc:
            for field, message in exc.errors.items():
                form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, _("Facility %(name)s saved.") % {"name": saved.name})
            return redirect("facilities:detail", pk=saved.pk)
    return render(request, "facilities/edit.html", {"form": form, "facility": facility})


# --- Backlog and placement -----------------------------------------------------------------------

@login_required
def backlog(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_commander(user)
    waiting = run_ops.backlog(user).select_related("resident__household__compound", "resident__household__building",
                                                    "resident__household__unit").order_by("waiting_since", "id")
    category = request.GET.get("category", "")
    counts = dict(sorted(((c or "", n) for c, n in _count(waiting, "category")), key=lambda x: x[0]))
    if category:
        waiting = waiting.filter(category=category)
    page = Paginator(waiting, PAGE_SIZE).get_page(request.GET.get("page"))
    runs = PlacementRun.objects.restrict(user).select_related("created_by")[:10]
    return render(request, "facilities/backlog.html", {
        "page": page, "counts": [(c, bed_ops.category_label(c), n) for c, n in counts.items()], "category": category,
        "runs": runs, "now": timezone.now(),
    })


def _count(queryset, field: str):
    return queryset.order_by().values_list(field).annotate(n=Count("id"))


@login_required
@require_POST
def run_engine(request: HttpRequest) -> HttpResponse:
    _require_commander(request.user)
    run = run_ops.run_placement(request.user)
    messages.success(request, _("The engine placed %(placed)d of %(people)d people in %(seconds).2f s; review and confirm.")
                     % {"placed": run.placed, "people": run.people, "seconds": run.seconds})
    return redirect("facilities:run", pk=run.pk)


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    run = access_run(user, pk)
    proposals = Proposal.objects.filter(run=run).select_related("facility", "case__resident__household__compound",
                                                                "case__resident__household__building",
                                                                "case__resident__household__unit").order_by("id")
    state = request.GET.get("state", "")
    if state in ProposalState.values:
        proposals = proposals.filter(state=state)
    page = Paginator(proposals, PAGE_SIZE).get_page(request.GET.get("page"))
    policy = current_policy()
    facilities = list(Facility.objects.restrict(user).filter(is_active=True))
    free = {(p.facility_id, p.kind): p.free for p in BedPool.objects.restrict(user)}
    choices: dict[str, list[tuple[str, str]]] = {}
    for proposal in page:
        if proposal.category not in choices:
            fitting = {(o.facility_kind, o.bed_kind) for o in options(policy, proposal.category)}
            choices[proposal.category] = [
                (f"{f.pk}:{bed}", f"{f.name} · {BedKind(bed).label} ({free.get((f.pk, bed), 0)})")
                for f in facilities for bed in BedKind.values if (f.kind, bed) in fitting and (f.pk, bed) in free]
    by_facility: dict[str, int] = defaultdict(int)
    for name, bed in Proposal.objects.filter(run=run, state__in=(ProposalState.PROPOSED, ProposalState.CONFIRMED)).values_list(
            "facility__name", "bed_kind"):
        by_facility[f"{name} · {BedKind(bed).label}"] += 1
    counts = dict(_count(Proposal.objects.filter(run=run), "state"))
    draft = run.status == RunStatus.DRAFT
    return render(request, "facilities/run.html", {
        "run": run, "page": page, "choices": choices, "by_facility": sorted(by_facility.items()), "state": state,
        "counts": [(s, label, counts.get(s, 0)) for s, label in ProposalState.choices], "draft": draft,
        "to_confirm": _to_confirm(run), "confirming": draft and request.GET.get("confirm") == "1",
    })


def _to_confirm(run: PlacementRun) -> int:
    """The bookings a confirmation of the whole plan would make."""
    return Proposal.objects.filter(run=run, state=ProposalState.PROPOSED, facility__isnull=False).count()


@login_required
@require_POST
def run_adjust(request: HttpRequest, pk: int, proposal_pk: int) -> HttpResponse:
    proposal = access_proposal(request.user, pk, proposal_pk)
    target = request.POST.get("target", "")
    facility, bed = None, ""
    if target and ":" in target:
        facility_pk, bed = target.split(":", 1)
        facility = access_facility(request.user, facility_pk, rule=permissions.can_place)
    try:
        run_ops.adjust_proposal(request.user, proposal, facility, bed)
    except FieldErrors as exc:
        for message in exc.errors.values():
            messages.error(request, message)
    else:
        messages.success(request, _("Proposal changed."))
    return redirect(f"{request.path.rsplit('/proposals/', 1)[0]}/?page={request.POST.get('page', 1)}")


@login_required
@require_POST
def run_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    run = access_run(request.user, pk)
    expected = request.POST.get("expected", "")
    pending = _to_confirm(run)
    if expected != str(pending):
        # Confirmed without seeing the count, or the plan changed since: ask again, with today's number.
        messages.warning(request, _("The plan now has %(n)d placements to confirm: check and confirm again.") % {"n": pending})
        return redirect(f"{reverse('facilities:run', args=[run.pk])}?confirm=1")
    try:
        counts = run_ops.confirm_run(request.user, run)
    except FieldErrors as exc:
        for message in exc.errors.values():
            messages.error(request, message)
    else:
        level = messages.success if not counts["refused"] else messages.warning
        level(request, _("%(confirmed)d placements confirmed and transfers ordered; %(refused)d refused (see the reasons).")
              % counts)
    return redirect("facilities:run", pk=run.pk)


@login_required
@require_POST
def run_discard(request: HttpRequest, pk: int) -> HttpResponse:
    run = access_run(request.user, pk)
    run_ops.discard_run(request.user, run)
    messages.info(request, _("Plan discarded."))
    return redirect("facilities:backlog")


# --- Transfers -----------------------------------------------------------------------------------

@login_required
def transfers(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_viewer(user)
    shown = Transfer.objects.restrict(user).select_related("to_facility", "from_facility", "case__resident")
    status = request.GET.get("status", "open")
    if status == "open":
        shown = shown.exclude(status__in=(TransferStatus.ARRIVED, TransferStatus.CANCELLED))
    elif status in TransferStatus.values:
        shown = shown.filter(status=status)
    page = Paginator(shown.order_by("requested_at", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    nexts = {current: (step, TransferStatus(step).label) for current, (step, _field) in TRANSFER_STEPS.items()}
    return render(request, "facilities/transfers.html", {
        "page": page, "status": status, "statuses": TransferStatus.choices, "nexts": nexts, "now": timezone.now(),
        "waiting_people": Case.objects.restrict(user).filter(placement=Placement.WAITING).count(),
    })


@login_required
@require_POST
def transfer_step(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = access_transfer(request.user, pk)
    try:
        transfer_ops.advance_transfer(request.user, transfer, request.POST.get("status", ""), vehicle_label=request.POST.get("vehicle_label", ""))
    except FieldErrors as exc:
        for message in exc.errors.values():
            messages.error(request, message)
    else:
        messages.success(request, _("Transfer updated."))
    return redirect(safe_next(request, reverse("facilities:transfers")))


# --- Importing facilities ------------------------------------------------------------------------

class FacilityFileForm(forms.Form):
    file = forms.FileField(label=_l("Facility file (XLSX or CSV)"), widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in (".xlsx", ".csv"):
            raise forms.ValidationError(_("Only .xlsx and .csv files can be imported."))
        if upload.size > settings.IMPORT_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than %(limit)s.") % {"limit": filesizeformat(settings.IMPORT_MAX_UPLOAD_BYTES)})
        return upload


def _require_registrar(user) -> None:
    if not permissions.can_register_facilities(user):
        raise PermissionDenied


@login_required
def import_upload(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_registrar(user)
    form = FacilityFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        try:
            importing.FACILITY_COLUMNS.check_file(data, upload.name)
        except ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            job = submit(FACILITY_IMPORT, user=user, input_name=upload.name, input_data=data)
            return redirect("jobs:detail", job_id=job.pk)
    return render(request, "facilities/import.html", {"form": form, "recent": visible_imports(user).select_related("user")[:10]})


@login_required
def import_result(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = access_import(request.user, batch_id)
    return render(request, "facilities/import_result.html", {"batch": batch, "errors": first_errors(bytes(batch.report or b""))})


@login_required
def import_report(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = access_import(request.user, batch_id)
    if not batch.report:
        raise Http404
    return FileResponse(io.BytesIO(bytes(batch.report)), as_attachment=True, filename=f"收治场所导入错误报告-{batch.pk}.xlsx",
                        content_type=XLSX)


@login_required
def import_template(request: HttpRequest) -> HttpResponse:
    _require_registrar(request.user)
    return FileResponse(io.BytesIO(importing.template_bytes()), as_attachment=True, filename="收治场所模板.xlsx", content_type=XLSX)

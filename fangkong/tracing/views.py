"""Tracing screens: a case's tracing page (investigation, contacts, match queue, rings, links), the
contact entry form, a contact's match page, chain graphs, clusters and disinfection tasks.

Objects are reached through tracing.access (403 for a role that may not trace; out of scope answers
404, as if absent); changes go through the services. Lists show masked identifiers only.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.areas.models import Household
from fangkong.areas.views import crumbs_for
from fangkong.cases.forms import add_field_errors
from fangkong.cases.models import Case
from fangkong.core import permissions
from fangkong.core.dbrouter import use_replica
from fangkong.core.errors import FieldErrors
from fangkong.core.redirects import safe_next
from fangkong.people.models import Resident
from fangkong.tracing import chains, links, matching
from fangkong.tracing.access import (
    access_area,
    access_case,
    access_contact,
    access_investigation,
    access_task,
)
from fangkong.tracing.contacts import (
    confirm_match,
    mark_outside_registry,
    record_contact,
    register_contact,
    reject_candidates,
    rematch,
)
from fangkong.tracing.forms import ContactForm, InvestigationForm, LinkForm, RegisterForm, TaskDoneForm
from fangkong.tracing.infections import infector_candidates, record_infection_link, suggested_links
from fangkong.tracing.investigations import (
    current_investigation,
    mark_task_done,
    update_investigation,
)
from fangkong.tracing.investigations import open_investigation as open_investigation_service
from fangkong.tracing.models import Contact, DisinfectionTask, Investigation, MatchState, TaskStatus
from fangkong.tracing.rings import rings

PAGE_SIZE = 50
HOUSEHOLD_CHOICES = 300


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if not permissions.can_trace(request.user):
        raise PermissionDenied
    area = request.user.home_area
    if area is None or not request.user.scope.covers_area_code(area.code):
        raise PermissionDenied
    return redirect("tracing:area", code=area.code)


@login_required
def area(request: HttpRequest, code: str) -> HttpResponse:
    """Investigations of an area, newest first, with their contact counts and match queues."""
    user = request.user
    place = access_area(user, code)
    investigations = (Investigation.objects.within(user, place.code).select_related("case__resident")
                      .annotate(n_contacts=Count("contacts"), n_close=Count("contacts", filter=Q(contacts__is_close=True)),
                                n_queue=Count("contacts", filter=Q(contacts__match_state__in=[
                                    MatchState.UNMATCHED, MatchState.CANDIDATES, MatchState.REJECTED], contacts__outside_registry=False)))
                      .order_by("-created_at", "-id"))
    page = Paginator(investigations, PAGE_SIZE).get_page(request.GET.get("page"))
    open_tasks = DisinfectionTask.objects.within(user, place.code).filter(status=TaskStatus.OPEN).count()
    return render(request, "tracing/area.html", {"area": place, "crumbs": crumbs_for(user, place.code, include_self=False),
                                                 "page": page, "open_tasks": open_tasks})


def _case_context(request: HttpRequest, case: Case, **forms) -> dict:
    user = request.user
    investigation = current_investigation(case)
    context = {"case": case, "resident": case.resident, "investigation": investigation,
               "crumbs": crumbs_for(user, case.area_code), "rings": rings(user, case),
               "suggested": suggested_links(user, case),
               "infected_by": case.infected_by.select_related("infector__resident"),
               "infected": case.infected.select_related("infectee__resident"),
               "link_form": forms.get("link_form") or LinkForm()}
    query = request.GET.get("infector_q") or request.POST.get("infector_q") or ""
    context["infector_q"] = query.strip()[:50]
    context["candidates"] = infector_candidates(user, case, context["infector_q"])
    if investigation is not None:
        context["contacts"] = list(investigation.contacts.select_related("resident__case").order_by("id"))
        context["queue"] = [c for c in context["contacts"] if not c.is_matched and not c.outside_registry]
        context["tasks"] = list(investigation.tasks.order_by("kind", "id"))
        context["form"] = forms.get("form") or InvestigationForm(initial={
            "onset_on": investigation.onset_on, "sampled_on": investigation.sampled_on, "notes": investigation.notes,
            "places": "\n".join(investigation.places)})
    return context


@login_required
def case(request: HttpRequest, pk: int) -> HttpResponse:
    """The tracing page of a case."""
    return render(request, "tracing/case.html", _case_context(request, access_case(request.user, pk)))


@login_required
@require_POST
def open_investigation(request: HttpRequest, pk: int) -> HttpResponse:
    case = access_case(request.user, pk)
    open_investigation_service(request.user, case)
    return redirect("tracing:case", pk=case.pk)


@login_required
@require_POST
def edit_investigation(request: HttpRequest, pk: int) -> HttpResponse:
    investigation = access_investigation(request.user, pk)
    form = InvestigationForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            update_investigation(request.user, investigation, onset_on=data["onset_on"], sampled_on=data["sampled_on"],
                                 notes=data["notes"], places=form.place_list())
        except FieldErrors as exc:
            add_field_errors(form, exc.errors)
        else:
            messages.success(request, _("Investigation saved."))
            return redirect("tracing:case", pk=investigation.case_id)
    case = access_case(request.user, investigation.case_id)
    return render(request, "tracing/case.html", _case_context(request, case, form=form), status=400)


@login_required
def new_contact(request: HttpRequest, pk: int) -> HttpResponse:
    """Contact entry (mobile-first). The form carries a client id made when it was shown: a retried
    submission records the contact once."""
    investigation = access_investigation(request.user, pk)
    form = ContactForm(request.POST or None, initial={"client_id": uuid.uuid4().hex, "last_exposure_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        client_id = data.pop("client_id")
        try:
            contact, _created = record_contact(request.user, investigation, data, client_id=client_id)
        except FieldErrors as exc:
            add_field_errors(form, exc.errors)
        else:
            messages.success(request, _("%(name)s recorded: %(state)s.") % {
                "name": contact.name, "state": contact.get_match_state_display()})
            if contact.match_state == MatchState.CANDIDATES:
                return redirect("tracing:contact", pk=contact.pk)
            return redirect("tracing:case", pk=investigation.case_id)
    return render(request, "tracing/contact_form.html", {
        "investigation": investigation, "case": investigation.case, "form": form,
        "crumbs": crumbs_for(request.user, investigation.area_code)}, status=400 if form.errors else 200)


def _households(user, contact: Contact):
    return (Household.objects.restrict(user).select_related("compound", "building", "unit")
            .order_by("area_code", "building_id", "unit_id", "room")[:HOUSEHOLD_CHOICES])


@login_required
def contact(request: HttpRequest, pk: int, register_form: RegisterForm | None = None) -> HttpResponse:
    """A contact's match page: the candidates to confirm, or register them, or mark them outside."""
    item = access_contact(request.user, pk)
    user = request.user
    found = [] if item.is_matched else matching.candidates(user, item.name, item.address, item.phone)
    return render(request, "tracing/contact.html", {
        "contact": item, "case": item.investigation.case, "candidates": found,
        "crumbs": crumbs_for(user, item.area_code), "can_register": permissions.can_edit_residents(user),
        "register_form": register_form or RegisterForm(households=_households(user, item)),
        "observation_file": links.observation_file_of(user, item.resident),
    }, status=400 if register_form is not None else 200)


@login_required
@require_POST
def contact_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    item = access_contact(request.user, pk)
    user = request.user
    try:
        if action == "confirm":
            resident = Resident.objects.get_visible_or_404(user, pk=request.POST.get("resident") or 0)
            confirm_match(user, item, resident)
            messages.success(request, _("Match confirmed."))
        elif action == "reject":
            reject_candidates(user, item)
        elif action == "rematch":
            rematch(user, item)
        elif action == "outside":
            mark_outside_registry(user, item)
        elif action == "register":
            form = RegisterForm(request.POST, households=_households(user, item))
            if not form.is_valid():
                return contact(request, pk, register_form=form)
            try:
                register_contact(user, item, form.cleaned_data["household"], sex=form.cleaned_data["sex"],
                                 birth_date=form.cleaned_data["birth_date"])
            except FieldErrors as exc:
                add_field_errors(form, exc.errors)
                return contact(request, pk, register_form=form)
            messages.success(request, _("Added to the registry."))
        else:
            raise Http404
    except FieldErrors as exc:
        for message in exc.errors.values():
            messages.error(request, message)
    return redirect("tracing:contact", pk=item.pk)


@login_required
@require_POST
def add_link(request: HttpRequest, pk: int) -> HttpResponse:
    infectee = access_case(request.user, pk)
    form = LinkForm(request.POST)
    if form.is_valid():
        infector = Case.objects.restrict(request.user).filter(pk=form.cleaned_data["infector"]).first()
        if infector is None:
            form.add_error("infector", _("No such case in your area."))
        else:
            try:
                record_infection_link(request.user, infector, infectee, form.cleaned_data["evidence"])
            except FieldErrors as exc:
                add_field_errors(form, exc.errors)
            else:
                messages.success(request, _("Infection link recorded."))
                return redirect("tracing:case", pk=infectee.pk)
    return render(request, "tracing/case.html", _case_context(request, infectee, link_form=form), status=400)


@login_required
def case_chain(request: HttpRequest, pk: int) -> HttpResponse:
    item = access_case(request.user, pk)
    return render(request, "tracing/chain.html", {"graph": chains.chain_of(request.user, item), "case": item,
                                                  "crumbs": crumbs_for(request.user, item.area_code)})


@login_required
def area_chains(request: HttpRequest, code: str) -> HttpResponse:
    place = access_area(request.user, code)
    return render(request, "tracing/chain.html", {"graph": chains.chains_in_area(request.user, place.code), "area": place,
                                                  "crumbs": crumbs_for(request.user, place.code)})


@login_required
@use_replica
def clusters(request: HttpRequest, code: str) -> HttpResponse:
    place = access_area(request.user, code)
    return render(request, "tracing/clusters.html", {"area": place, "clusters": chains.clusters(request.user, place.code),
                                                     "crumbs": crumbs_for(request.user, place.code)})


@login_required
def tasks(request: HttpRequest, code: str) -> HttpResponse:
    place = access_area(request.user, code)
    status = request.GET.get("status", TaskStatus.OPEN)
    found = DisinfectionTask.objects.within(request.user, place.code).select_related("investigation__case__resident", "done_by")
    if status in TaskStatus.values:
        found = found.filter(status=status)
    page = Paginator(found.order_by("status", "-created_at", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "tracing/tasks.html", {"area": place, "page": page, "status": status, "statuses": TaskStatus.choices,
                                                  "crumbs": crumbs_for(request.user, place.code), "done_form": TaskDoneForm()})


@login_required
@require_POST
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    task = access_task(request.user, pk)
    form = TaskDoneForm(request.POST)
    try:
        mark_task_done(request.user, task, form.data.get("note", ""))
    except FieldErrors as exc:
        for message in exc.errors.values():
            messages.error(request, message)
    else:
        messages.success(request, _("Disinfection done: %(place)s.") % {"place": task.place})
    return redirect(safe_next(request, reverse("tracing:tasks", args=[task.area_code])))

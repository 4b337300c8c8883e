"""Screening pages for workers and commanders: the day list and the visit form (phone first), the
household's QR code, coverage with its trend and XLSX export, the follow-up queue and campaigns.

Thin views: objects reached through screening.access (a role that may not is 403, out of scope is
404), rules in the services."""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import quote

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.models import User
from fangkong.areas.models import CODE_LENGTH, Area, Household, Level
from fangkong.areas.views import crumbs_for
from fangkong.cases.models import Status as CaseStatus
from fangkong.core import permissions
from fangkong.core.dbrouter import use_replica
from fangkong.core.errors import FieldErrors
from fangkong.core.redirects import safe_next
from fangkong.jobs.exports import start
from fangkong.people.models import Resident
from fangkong.policy.services import current_policy
from fangkong.screening import coverage as cov
from fangkong.screening.access import (
    access_area,
    access_campaign,
    access_campaign_area,
    access_follow_up,
    access_household,
)
from fangkong.screening.campaigns import create_campaign
from fangkong.screening.daylist import day_list
from fangkong.screening.exports import COVERAGE_EXPORT, parse_day, parse_days
from fangkong.screening.followups import FollowUpClosed, dismiss_follow_up, take_follow_up, take_up_categories
from fangkong.screening.forms import CampaignForm, VisitForms
from fangkong.screening.links import link_for, renew_link
from fangkong.screening.models import Campaign, FollowUp, FollowUpStatus, Visit
from fangkong.screening.readings import ambient_range
from fangkong.screening.visits import local_today, record_visit, unreliable_checks

FOLLOW_UPS_PER_PAGE = 50
CAMPAIGNS_PER_PAGE = 20


def _area(request: HttpRequest, code: str | None = None) -> Area:
    """The area of the page (the path's, else `?area=`, else the user's own), for those who screen."""
    return access_area(request.user, code or request.GET.get("area") or "")


def _day(request: HttpRequest) -> dt.date:
    return parse_day(request.GET.get("date"))


def _days(request: HttpRequest) -> int:
    return parse_days(request.GET.get("days"))


# ---------------------------------------------------------------- day list and visits

def _building_id(request: HttpRequest) -> int | None:
    try:
        return int(request.GET["building"])
    except (KeyError, ValueError):
        return None


@login_required
def today(request: HttpRequest) -> HttpResponse:
    user = request.user
    area = _area(request)
    day = local_today()
    todo, query = request.GET.get("todo") == "1", request.GET.get("q", "").strip()
    building_id = _building_id(request)
    listed = day_list(user, area.code, day, todo=todo, query=query, building_id=building_id,
                      page=request.GET.get("page"))
    context = {"area": area, "day": day, "crumbs": crumbs_for(user, area.code, include_self=False),
               "todo": todo, "q": query, "building_id": building_id, "listed": listed}
    if listed is None:  # too many households for one list: pick a sub-area
        context["groups"] = None
        context["children"] = Area.objects.restrict(user).filter(parent=area).order_by("code")
    else:
        context.update(groups=listed.groups, page=listed.page, done=listed.done, total=listed.total,
                       filtered=bool(todo or query or building_id is not None))
    return render(request, "screening/today.html", context)


def _back(request: HttpRequest, household: Household) -> str:
    return safe_next(request, reverse("screening:today")) + f"#h{household.pk}"


@login_required
@require_http_methods(["GET", "POST"])
def visit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    household = access_household(user, pk)
    residents = list(Resident.objects.restrict(user).filter(household=household).order_by("id"))
    forms = VisitForms(request.POST or None, residents)
    status = 200
    if request.method == "POST":
        status = 400
        if forms.is_valid():
            try:
                result = record_visit(user, household, forms.visit_input())
            except FieldErrors as exc:
                forms.add_errors(exc)
            else:
                text = _("Recorded: %(address)s.") if result.created else _("Already recorded: %(address)s.")
                messages.success(request, text % {"address": household.address})
                unreliable = unreliable_checks(result.visit)
                if unreliable:  # the readings are kept; the form comes back for a re-take
                    low, high = ambient_range(current_policy())
                    messages.warning(request, _(
                        "Forehead reading outdoors outside the thermometer's range (%(low)s–%(high)s °C), marked "
                        "unreliable: %(names)s. Measure again indoors, or at the ear or armpit.") % {
                        "low": low, "high": high, "names": "、".join(c.resident.name for c in unreliable)})
                    return redirect(reverse("screening:visit", args=[household.pk])
                                    + (f"?next={quote(forms_next)}" if (forms_next := request.POST.get("next")) else ""))
                return redirect(_back(request, household))
    last = Visit.objects.filter(household=household).select_related("recorded_by").prefetch_related("checks").first()
    context = {
        "household": household, "forms": forms, "last": last,
        "crumbs": crumbs_for(user, household.area_code),
        "next": request.POST.get("next") or request.GET.get("next") or "",
        "can_add_residents": permissions.can_edit_residents(user),
    }
    return render(request, "screening/visit.html", context, status=status)


# ---------------------------------------------------------------- the household's QR code

def _qr(request: HttpRequest, household: Household):
    link = link_for(request.user, household)
    url = request.build_absolute_uri(reverse("selfreport:report", args=[link.token]))
    return link, url, segno.make(url, error="m")


@login_required
@require_http_methods(["GET", "POST"])
def household_qr(request: HttpRequest, pk: int) -> HttpResponse:
    household = access_household(request.user, pk)
    if request.method == "POST":
        renew_link(request.user, household)
        messages.success(request, _("A new link was made; the old link and its QR code no longer work."))
        return redirect("screening:qr", pk=household.pk)
    _link, url, qr = _qr(request, household)
    svg = qr.svg_inline(scale=6, border=2)
    response = render(request, "screening/qr.html", {
        "household": household, "url": url, "svg": svg, "crumbs": crumbs_for(request.user, household.area_code)})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def household_qr_png(request: HttpRequest, pk: int) -> HttpResponse:
    household = access_household(request.user, pk)
    _link, _url, qr = _qr(request, household)
    handle = io.BytesIO()
    qr.save(handle, kind="png", scale=10, border=2)
    handle.seek(0)
    response = FileResponse(handle, content_type="image/png", as_attachment=request.GET.get("download") == "1",
                            filename=f"household-{household.pk}.png")
    response["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------- coverage

@login_required
@require_GET
@use_replica
def coverage(request: HttpRequest, code: str) -> HttpResponse:
    user = request.user
    area = _area(request, code)
    day, days = _day(request), _days(request)
    table = cov.coverage(area, day, days)
    missing = cov.missing_households(user, area.code, day, days) if area.level == Level.GRID else None
    peak = max([p.households for p in table.trend] + [1])
    return render(request, "screening/coverage.html", {
        "area": area, "cov": table, "missing": missing, "peak": peak, "day": day, "days": days,
        "today": local_today(), "crumbs": crumbs_for(user, area.code, include_self=False),
        "day_options": (1, 3, 7, 14),
    })


@login_required
@require_http_methods(["GET", "POST"])
def coverage_export(request: HttpRequest, code: str) -> HttpResponse:
    """The coverage report as XLSX, made by a background job (POST: the coverage page's button, with its day
    and window); the job page offers the file. A GET starts nothing: it leads to the coverage page."""
    area = _area(request, code)
    data = request.POST if request.method == "POST" else request.GET
    day, days = parse_day(data.get("date")), parse_days(data.get("days"))
    if request.method != "POST":
        return redirect(reverse("screening:coverage", args=[area.code]) + f"?date={day.isoformat()}&days={days}")
    return start(request, COVERAGE_EXPORT, {"code": area.code, "date": day.isoformat(), "days": days})


# ---------------------------------------------------------------- follow-up queue

@login_required
@require_GET
def follow_ups(request: HttpRequest) -> HttpResponse:
    user = request.user
    area = _area(request)
    status = request.GET.get("status", FollowUpStatus.OPEN)
    items = (FollowUp.objects.within(user, area.code)
             .select_related("resident", "visit", "visit__recorded_by", "person_check", "handled_by",
                             "visit__household__unit", "visit__household__building", "visit__household__compound"))
    if status in FollowUpStatus.values:
        items = items.filter(status=status)
    page = Paginator(items.order_by("-created_at", "-id"), FOLLOW_UPS_PER_PAGE).get_page(request.GET.get("page"))
    for item in page:  # the categories each item may be taken up into (四类人员), the default first
        item.take_choices = [(c, CaseStatus(c).label) for c in take_up_categories(item)]
    return render(request, "screening/follow_ups.html", {
        "area": area, "page": page, "status": status, "statuses": FollowUpStatus.choices,
        "can_handle": permissions.can_handle_follow_ups(user), "crumbs": crumbs_for(user, area.code, include_self=False),
    })


@login_required
@require_POST
def follow_up_handle(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user = request.user
    item = access_follow_up(user, pk)
    note = request.POST.get("note", "")
    try:
        if action == "dismiss":
            dismiss_follow_up(user, item, note)
            messages.success(request, _("Dismissed: %(name)s.") % {"name": item.resident.name})
        else:
            take_follow_up(user, item, note, request.POST.get("category", ""))
            messages.success(request, _("Taken up: %(name)s.") % {"name": item.resident.name})
    except FieldErrors as exc:
        messages.error(request, " ".join(str(m) for m in exc.errors.values()))
    except FollowUpClosed as exc:
        messages.warning(request, str(exc))
    return redirect(safe_next(request, reverse("screening:follow_ups")))


# ---------------------------------------------------------------- campaigns

def _campaign_area(user: User, campaign: Campaign) -> Area:
    """The part of the campaign the user sees: the campaign's area, or the user's own inside it."""
    scope = user.scope
    code = campaign.area_code
    if scope.area_code and scope.area_code.startswith(code):
        code = scope.area_code
    return Area.objects.get(code=code)


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not permissions.can_record(user):
        raise PermissionDenied
    campaigns = Campaign.objects.restrict(user).select_related("area", "created_by")
    page = Paginator(campaigns, CAMPAIGNS_PER_PAGE).get_page(request.GET.get("page"))
    today = local_today()
    rows = []
    for campaign in page.object_list:  # a page of campaigns: two grouped queries each
        total, _rows = cov.campaign_progress(_campaign_area(user, campaign), campaign.start_date,
                                             min(campaign.end_date, today))
        rows.append((campaign, total))
    return render(request, "screening/campaigns.html", {
        "page": page, "rows": rows, "today": today, "can_create": permissions.can_manage_campaigns(user)})


def _campaign_areas(user: User) -> list[Area]:
    """The user's area and its sub-areas down to two levels (communities for a street commander)."""
    home = user.home_area
    if home is None:
        return []
    depth = len(home.code) + (CODE_LENGTH[Level.STREET] - CODE_LENGTH[Level.DISTRICT]) * 2 + 1
    return [a for a in Area.objects.restrict(user).filter(code__startswith=home.code).order_by("code")
            if len(a.code) < depth]


@login_required
@require_http_methods(["GET", "POST"])
def campaign_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not permissions.can_manage_campaigns(user):
        raise PermissionDenied
    today = local_today()
    form = CampaignForm(request.POST or None, areas=_campaign_areas(user),
                        initial={"start_date": today, "end_date": today + dt.timedelta(days=2)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        area = access_campaign_area(user, data["area"])
        try:
            campaign = create_campaign(user, area, data["name"], data["start_date"], data["end_date"],
                                       data["note"])
        except FieldErrors as exc:
            form.add_field_errors(exc)
        else:
            messages.success(request, _("Campaign %(name)s created.") % {"name": campaign.name})
            return redirect("screening:campaign", pk=campaign.pk)
    return render(request, "screening/campaign_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    campaign = access_campaign(user, pk)
    area = _campaign_area(user, campaign)
    today = local_today()
    last = min(campaign.end_date, today)
    total, rows = cov.campaign_progress(area, campaign.start_date, last)
    trend = cov.trend(area.code, campaign.start_date, last) if last >= campaign.start_date else []
    peak = max([p.households for p in trend] + [1])
    return render(request, "screening/campaign_detail.html", {
        "campaign": campaign, "area": area, "total": total, "rows": rows, "trend": trend, "peak": peak,
        "today": today, "started": campaign.start_date <= today,
    })

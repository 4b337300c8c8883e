"""Policy pages: everyone reads the policy in force; city commanders change it (a new version)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from pydantic import ValidationError

from fangkong.core import permissions
from fangkong.policy.forms import SECTIONS, PolicyForm
from fangkong.policy.labels import (
    BED_KIND_LABELS,
    CATEGORY_LABELS,
    FACILITY_KIND_LABELS,
    PLACEMENT_FLAGS,
    PROTECTION_LABELS,
    WINDOW_NAME_LABELS,
)
from fangkong.policy.models import PolicyVersion
from fangkong.policy.schema import BED_KINDS, FACILITY_KINDS, ROUTED_CATEGORIES
from fangkong.policy.services import change_policy, current_policy, current_version

HISTORY_LENGTH = 50


def _display(value) -> str:
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):  # the protections that still count as exposure
        return "、".join(str(PROTECTION_LABELS.get(v, v)) for v in value)
    return str(value)


@login_required
def detail(request: HttpRequest) -> HttpResponse:
    policy = current_policy()
    values = policy.model_dump()
    sections = [(title, [(info.label, _display(values[info.name]), info.unit) for info in infos]) for title, infos in SECTIONS]
    windows = [(WINDOW_NAME_LABELS.get(w.name, w.name), w.start, w.end) for w in policy.home_report_windows]
    # One row per category; each cell holds the kind's label and rank (1 = preferred) or None.
    routing = []
    for category in ROUTED_CATEGORIES:
        kinds = policy.routing.get(category, [])
        routing.append((CATEGORY_LABELS[category], [(FACILITY_KIND_LABELS[k], kinds.index(k) + 1 if k in kinds else None) for k in FACILITY_KINDS]))
    placement = []
    for category in ROUTED_CATEGORIES:
        beds = policy.bed_kinds.get(category, [])
        cells = [beds.index(k) + 1 if k in beds else None for k in BED_KINDS]
        cells += [category in getattr(policy, name) for name in PLACEMENT_FLAGS]
        placement.append((CATEGORY_LABELS[category], cells))
    history = PolicyVersion.objects.select_related("created_by").only(
        "version", "note", "created_at", "created_by__username", "created_by__first_name", "created_by__last_name")[:HISTORY_LENGTH]
    return render(request, "policy/detail.html", {
        "sections": sections,
        "windows": windows,
        "routing": routing,
        "kind_labels": [FACILITY_KIND_LABELS[k] for k in FACILITY_KINDS],
        "placement": placement,
        "placement_labels": [BED_KIND_LABELS[k] for k in BED_KINDS] + list(PLACEMENT_FLAGS.values()),
        "version": current_version(),
        "history": history,
        "can_edit": permissions.can_change_policy(request.user),
    })


@login_required
def edit(request: HttpRequest) -> HttpResponse:
    if not permissions.can_change_policy(request.user):
        raise PermissionDenied
    policy = current_policy()
    form = PolicyForm(request.POST or None, policy=policy)
    if request.method == "POST" and form.is_valid():
        try:
            version = change_policy(request.user, form.policy_values, note=form.cleaned_data["note"])
        except ValidationError:  # the form checked the same schema; only a race could land here
            form.add_error(None, _("The policy could not be saved; please check the values."))
        else:
            if version is None:
                messages.info(request, _("Nothing changed: the policy in force stays as it was."))
            else:
                messages.success(request, _("Policy version %(version)s is now in force.") % {"version": version.version})
            return redirect("policy:detail")
    return render(request, "policy/edit.html", {"form": form, "version": current_version()})

"""The audit log browser: commanders see the entries of their own subtree, filtered and paginated."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.audit import labels
from fangkong.audit.models import Action, AuditLog
from fangkong.core import permissions
from fangkong.core.masking import mask_document, mask_phone
from fangkong.core.widgets import DateInput

PAGE_SIZE = 50
# Personal identifiers stay masked here too: the full values are only shown through an audited reveal.
MASKS = {"doc_number": mask_document, "phone": mask_phone}


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), required=False, choices=[("", _("All actions")), *Action.choices])
    username = forms.CharField(label=_("User"), required=False, max_length=150)
    object_type = forms.ChoiceField(label=_("Object type"), required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("Until"), required=False, widget=DateInput())

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = [("", _("All kinds")), *labels.audited_models()]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def apply(self, entries: QuerySet[AuditLog]) -> QuerySet[AuditLog]:
        data = self.cleaned_data
        if data.get("action"):
            entries = entries.filter(action=data["action"])
        if data.get("username"):
            entries = entries.filter(username__iexact=data["username"].strip())
        if data.get("object_type"):
            entries = entries.filter(object_type__in=labels.object_types_for(labels.resolve_model(data["object_type"])))
        # Dates are local calendar days; compare against their UTC bounds so the time index is used.
        if data.get("date_from"):
            entries = entries.filter(time__gte=_start_of(data["date_from"]))
        if data.get("date_to"):
            entries = entries.filter(time__lt=_start_of(data["date_to"] + dt.timedelta(days=1)))
        return entries


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def change_lines(changes: dict[str, Any], object_type: str = "") -> list[tuple[str, Any, Any, bool]]:
    """(label, before, after, is_change) per entry of `changes`: {field: [before, after]} or other notes,
    in words (field labels, choice names, 是/否), identifiers masked."""
    model = labels.resolve_model(object_type)
    lines = []
    for key, value in (changes or {}).items():
        label = labels.field_label(model, key)
        mask = MASKS.get(key)
        if key == "revealed" and isinstance(value, list):
            lines.append((label, "、".join(labels.field_label(model, str(v)) for v in value), None, False))
        elif isinstance(value, list) and len(value) == 2:
            before, after = (labels.value_label(model, key, v, mask) for v in value)
            lines.append((label, before, after, True))
        else:
            lines.append((label, labels.value_label(model, key, value, mask), None, False))
    return lines


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    if not permissions.can_browse_audit(request.user):
        raise PermissionDenied
    form = AuditFilterForm(request.GET or None)
    entries = AuditLog.objects.restrict(request.user)
    if form.is_bound:
        entries = form.apply(entries) if form.is_valid() else entries.none()
    page = Paginator(entries.only(
        "time", "username", "action", "object_type", "object_id", "object_repr", "changes", "ip_address"
    ), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for entry in page.object_list:
        entry.kind = labels.model_label(entry.object_type)  # the model's name, not its label
        rows.append((entry, change_lines(entry.changes, entry.object_type)))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audit/list.html", {"form": form, "page": page, "rows": rows, "query": query.urlencode()})

"""The observation board of an area: due now, missed, fever and symptom alerts, ending today and
eligible for release. Each section is one indexed query over the area's prefix (a count and the
first rows), never a walk over files."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.observation.models import (
    Alert,
    AlertKind,
    AlertStatus,
    FileStatus,
    HealthReport,
    ObservationFile,
)
from fangkong.observation.release import eligible_for_release
from fangkong.observation.responsible import contact_of, record_contacts_shown
from fangkong.observation.windows import current_window, local_today, window_for, window_label

SHOWN = 50


@dataclass
class Section:
    key: str
    count: int
    rows: list


def _section(user: User, key: str, rows: QuerySet) -> Section:
    shown = list(rows[:SHOWN])
    for row in shown:  # full name and phone for the responsible worker and the revealing roles in scope
        row.contact = contact_of(user, row.file if isinstance(row, Alert) else row)
    return Section(key, rows.count(), shown)


def due_files(files: QuerySet, today: dt.date, window: str) -> QuerySet:
    """Open files in their period with no report yet for `window` today."""
    reported = HealthReport.objects.filter(file=OuterRef("pk"), date=today, window_name=window)
    return files.filter(status=FileStatus.OPEN, started_on__lte=today, planned_end_on__gte=today).exclude(Exists(reported))


def area_board(user: User, code: str, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    today = local_today(now)
    files = ObservationFile.objects.within(user, code).select_related("resident", "responsible")
    alerts = Alert.objects.within(user, code).filter(status=AlertStatus.OPEN).select_related("file__resident", "file__responsible")
    window = current_window(now)
    day, next_window = window_for(now)
    due_window = window.name if window else next_window
    sections = [
        _section(user, "due", due_files(files, today, due_window).order_by("planned_end_on", "id")),
        _section(user, "missed", alerts.filter(kind=AlertKind.MISSED).order_by("-created_at", "-id")),
        _section(user, "fever", alerts.exclude(kind=AlertKind.MISSED).order_by("-created_at", "-id")),
        _section(user, "ending", files.filter(status=FileStatus.OPEN, planned_end_on=today).order_by("id")),
        _section(user, "eligible", eligible_for_release(files, today).order_by("planned_end_on", "id")),
    ]
    revealed = [row.file if isinstance(row, Alert) else row for s in sections for row in s.rows if row.contact.full]
    record_contacts_shown(user, revealed, area_code=code, where=_("Observation board"))
    return {"sections": sections, "open_count": files.filter(status=FileStatus.OPEN).count(),
            "due_window": due_window, "due_window_label": window_label(due_window), "window_open": window is not None, "today": today}

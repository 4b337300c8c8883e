"""The coverage tables as XLSX, laid out like the daily report a street office forwards upward:
a title, the reporting unit and date, one row per sub-area with a total row, then the trend and
(for a grid) the households still to reach. No personal data: addresses and counts only."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from fangkong.accounts.models import User
from fangkong.areas.models import Level
from fangkong.jobs.exports import Export, ExportFile
from fangkong.screening import coverage as cov
from fangkong.screening.access import access_area
from fangkong.screening.coverage import Coverage, Row
from fangkong.screening.visits import local_today

COVERAGE_EXPORT = "export-coverage"
DEFAULT_DAYS = 7
EARLIEST = dt.date(2000, 1, 1)


def parse_day(value: str | None) -> dt.date:
    """The report's day from a form or address (today when missing or unreadable; never in the future)."""
    today = local_today()
    try:
        day = dt.date.fromisoformat(value or "")
    except ValueError:
        return today
    return min(max(day, EARLIEST), today)


def parse_days(value: Any) -> int:
    try:
        return max(1, min(int(value if value not in (None, "") else DEFAULT_DAYS), cov.MAX_DAYS))
    except (TypeError, ValueError):
        return DEFAULT_DAYS

THIN = Side(style="thin", color="999999")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="E3F1EE")
PERCENT = "0.0%"


def _table(sheet, start_row: int, headers: list[str], rows: list[list], percent_columns: set[int],
           total: list | None = None) -> int:
    for col, header in enumerate(headers, 1):
        cell = sheet.cell(start_row, col, header)
        cell.font, cell.fill, cell.border = Font(bold=True), HEAD_FILL, BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    r = start_row
    for values in rows + ([total] if total else []):
        r += 1
        for col, value in enumerate(values, 1):
            cell = sheet.cell(r, col, value)
            cell.border = BOX
            if col in percent_columns:
                cell.number_format = PERCENT
            if total is not None and values is total:
                cell.font = Font(bold=True)
    return r


def _title(sheet, title: str, subtitle: str, width: int) -> None:
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.cell(1, 1, title).font = Font(bold=True, size=14)
    sheet.cell(1, 1).alignment = Alignment(horizontal="center")
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    sheet.cell(2, 1, subtitle)


def _row_values(n: int | str, row: Row) -> list:
    return [n, row.label, row.households, row.screened, row.rate, row.not_reached, row.phone_only,
            row.persons, row.reached, row.person_rate, row.missed]


def coverage_workbook(cov: Coverage, user: User, missing: list[Any] | None = None) -> io.BytesIO:
    # `missing`: households annotated with screened_days and screened_today (coverage.missing_households)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Coverage")[:31]
    headers = [_("No."), _("Area") if cov.by == "area" else _("Building"), _("Households"), _("Households screened"),
               _("Screened rate"), _("Households not reached"), _("Reached only by phone"), _("Residents"),
               _("Persons reached"), _("Persons reached rate"),
               _("Missed on any of the last %(n)d days") % {"n": cov.days}]
    now = timezone.localtime()
    reporter = user.get_full_name() or user.username
    _title(sheet, _("Dragnet screening daily report: %(area)s") % {"area": cov.area.name},
           _("Reporting unit: %(area)s (%(code)s)    Date: %(date)s    Made: %(made)s by %(user)s") % {
               "area": cov.area.name, "code": cov.area.code, "date": cov.day.isoformat(),
               "made": now.strftime("%Y-%m-%d %H:%M"), "user": reporter}, len(headers))
    rows = [_row_values(i, row) for i, row in enumerate(cov.rows, 1)]
    _table(sheet, 4, headers, rows, {5, 10}, total=_row_values("", _total(cov.total)))
    for col, width in enumerate([6, 24, 10, 12, 10, 12, 12, 10, 12, 12, 16], 1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    sheet.freeze_panes = "C5"

    trend = workbook.create_sheet(_("Trend")[:31])
    trend_headers = [_("Date"), _("Households"), _("Households screened"), _("Screened rate"), _("Persons reached")]
    _title(trend, _("Screening over the last %(n)d days: %(area)s") % {"n": cov.days, "area": cov.area.name},
           cov.area.code, len(trend_headers))
    _table(trend, 4, trend_headers,
           [[p.date.isoformat(), p.households, p.screened, p.rate, p.reached] for p in cov.trend], {4})
    for col, width in enumerate([12, 10, 12, 10, 12], 1):
        trend.column_dimensions[get_column_letter(col)].width = width

    if missing is not None:
        chase = workbook.create_sheet(_("To reach")[:31])
        chase_headers = [_("No."), _("Compound"), _("Building"), _("Unit"), _("Room"),
                         _("Days screened of %(n)d") % {"n": cov.days}, _("Screened today")]
        _title(chase, _("Households still to reach: %(area)s") % {"area": cov.area.name}, cov.day.isoformat(),
               len(chase_headers))
        _table(chase, 4, chase_headers, [
            [i, h.compound.name, h.building.name, h.unit.name, h.room, h.screened_days,
             _("Yes") if h.screened_today else _("No")] for i, h in enumerate(missing, 1)], set())
        for col, width in enumerate([6, 18, 10, 10, 8, 14, 10], 1):
            chase.column_dimensions[get_column_letter(col)].width = width

    handle = io.BytesIO()
    workbook.save(handle)
    handle.seek(0)
    return handle


def _total(total: Row) -> Row:
    return Row(key=total.key, label=_("Total"), households=total.households, screened=total.screened,
               phone_only=total.phone_only, persons=total.persons, reached=total.reached, missed=total.missed)


def build_coverage_export(user: User, params: dict[str, Any]) -> ExportFile:
    """The coverage report of an area for a day (the background job of screening.views.coverage_export)."""
    area = access_area(user, params["code"])
    day, days = parse_day(params.get("date")), parse_days(params.get("days"))
    table = cov.coverage(area, day, days)
    missing = cov.missing_households(user, area.code, day, days) if area.level == Level.GRID else None
    handle = coverage_workbook(table, user, missing)
    return ExportFile(f"screening-{area.code}-{day.isoformat()}.xlsx", handle.getvalue(),
                      len(table.rows) + len(missing or []), area,
                      {"report": "screening coverage", "date": day.isoformat(), "days": days, "format": "xlsx"})


EXPORT = Export(COVERAGE_EXPORT, gettext_lazy("Screening coverage export"), build_coverage_export,
                url_name="screening:coverage_export",
                back=lambda params: reverse("screening:coverage", args=[params["code"]])
                + f"?date={params.get('date', '')}&days={params.get('days', '')}")

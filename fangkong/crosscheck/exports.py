"""The to-do list as XLSX (write-only openpyxl): one row per to-do, in the reader's language;
returnees' document numbers and phones masked."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from fangkong.core.masking import mask_identifiers
from fangkong.crosscheck import services
from fangkong.crosscheck.access import access_area
from fangkong.crosscheck.models import Kind, Status, ToDo
from fangkong.jobs.exports import Export, ExportFile

TODOS_EXPORT = "export-todos"
EXPORT_MAX_ROWS = 20_000


def parse_filters(data: Any) -> dict[str, str]:
    """The list's filters from an address, a form or a job's params (unknown values: the defaults)."""
    kind, status = data.get("kind") or "", data.get("status") or Status.OPEN
    return {
        "kind": kind if kind in Kind.values else "",
        "status": status if status in (*Status.values, "all") else Status.OPEN,
        "q": (data.get("q") or "").strip()[:50],
    }


def todos_workbook(todos) -> tuple[io.BytesIO, int]:
    """(XLSX rewound to the start, row count)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("To-dos")[:31])
    sheet.freeze_panes = "A2"
    for column, width in zip("ABCDEFGHIJK", (8, 26, 30, 36, 22, 14, 16, 8, 16, 16, 24), strict=True):
        sheet.column_dimensions[column].width = width
    headers = [_("No."), _("Kind"), _("Subject"), _("Evidence"), _("Document number"), _("Phone"), _("Opened"),
               _("Status"), _("Outcome"), _("Closed"), _("Note")]
    header = []
    for title in headers:
        cell = WriteOnlyCell(sheet, value=str(title))
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    count = 0
    for count, todo in enumerate(todos, start=1):
        sheet.append(_row(count, todo))
    handle = io.BytesIO()
    workbook.save(handle)
    handle.seek(0)
    return handle, count


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _row(number: int, todo: ToDo) -> list:
    returnee = todo.returnee
    subject = todo.subject
    if returnee is not None and todo.household_id:
        subject = f"{returnee.name}（{todo.household.address}）"
    return [
        number, str(todo.get_kind_display()), subject, todo.detail,
        returnee.masked_doc_number if returnee else "", returnee.masked_phone if returnee else "",
        _local(todo.created_at), str(todo.get_status_display()), str(todo.get_outcome_display()) if todo.outcome else "",
        _local(todo.closed_at), todo.note,
    ]


def build_todos_export(user: Any, params: dict[str, Any]) -> ExportFile:
    """The listed to-dos of an area, masked (the background job of crosscheck.views.todo_export)."""
    area = access_area(user, params["code"])
    filters = parse_filters(params)
    handle, rows = todos_workbook(services.todos_in(user, area.code, **filters)[:EXPORT_MAX_ROWS])
    # The search term is kept as typed but for the ID numbers and phones in it: the audit log is no place for them.
    logged = {**filters, "q": mask_identifiers(filters["q"])}
    return ExportFile(f"crosscheck-{area.code}.xlsx", handle.getvalue(), rows, area,
                      {"report": "cross-check to-dos", **logged, "rows": rows, "masked": True, "format": "xlsx"})


def _back(params: dict[str, Any]) -> str:
    return reverse("crosscheck:todos") + "?" + urlencode({"area": params["code"], **parse_filters(params)})


EXPORT = Export(TODOS_EXPORT, gettext_lazy("To-do export"), build_todos_export, url_name="crosscheck:export", back=_back)

"""The to-do list as XLSX (write-only openpyxl): one row per to-do, in the reader's language;
returnees' document numbers and phones masked."""

from __future__ import annotations

import io

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from fangkong.crosscheck.models import ToDo


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

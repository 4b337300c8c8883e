"""Import templates and the error report, all XLSX."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from fangkong.core.identity import make_id_number
from fangkong.core.masking import mask_document, mask_phone
from fangkong.core.tabular import ROSTER, ColumnSet, cell_text, iter_file_rows
from fangkong.people.validation import DOC_TYPE_LABEL, RELATION_LABEL, SPECIAL_GROUP_LABEL

REPORT_HEADER = ("行号", "列", "原因")
ROWS_SHEET, DETAIL_SHEET, MASK_SHEET = "错误行", "错误明细", "掩码列"
ROW_NUMBER_HEADER, REASON_HEADER = "原行号", "错误原因"
EXAMPLE_ROW = (
    "张伟", "男", "居民身份证", "420102198503020112", "1985-03-02", "13800138000", "江岸区", "大智街道", "青和居社区",
    "青和居小区", "1栋", "1单元", "101", "户主", "孤寡老人、独居", "湖北省武汉市江岸区", "", "",
)


@dataclass(frozen=True)
class ReportSource:
    """The imported file, read again for the error report: its rows with errors are copied whole."""

    data: bytes
    filename: str
    documents: tuple[int, ...] = ()  # 0-based columns holding document numbers: masked when shown
    phones: tuple[int, ...] = ()  # and phones

    @property
    def sensitive(self) -> tuple[int, ...]:
        return (*self.documents, *self.phones)


def write_error_report(errors: list, out: str | Path | IO[bytes], source: ReportSource | None = None) -> None:
    """The error report. With the imported file (`source`), its first sheet (错误行) holds each row
    with errors as it was in the file (same header, same cells) plus its row number and reasons: a
    worker corrects the cells there and imports this very file, the two extra columns are ignored.
    The second sheet (错误明细) lists one line per error: row (header = row 1), column, reason.

    The cells are kept unmasked in the file: a masked ID number could not be imported again, and the
    file goes back to the one who uploaded those very cells (anyone else downloads a masked copy,
    see `masked_report`); pages show them masked (`shown_errors`)."""
    ordered = sorted(errors, key=lambda e: e.row)
    workbook = Workbook()
    detail = workbook.active
    detail.title = DETAIL_SHEET
    if source is not None:
        rows = workbook.create_sheet(ROWS_SHEET, 0)
        _copy_error_rows(rows, ordered, source)
        mask = workbook.create_sheet(MASK_SHEET)
        mask.append(["document", *[index + 1 for index in source.documents]])
        mask.append(["phone", *[index + 1 for index in source.phones]])
        mask.sheet_state = "hidden"
        workbook.active = 0
    detail.append(list(REPORT_HEADER))
    for error in ordered:
        detail.append([error.row, error.column, error.message])
    workbook.save(out)


def _copy_error_rows(sheet, errors: list, source: ReportSource) -> None:
    reasons: dict[int, list[str]] = {}
    for error in errors:
        reasons.setdefault(error.row, []).append(_("%(column)s: %(reason)s") % {"column": error.column, "reason": error.message})
    last = max(reasons, default=0)
    header: list[Any] = []
    for number, cells in enumerate(iter_file_rows(io.BytesIO(source.data), source.filename), start=1):
        if number == 1:
            header = list(cells)
            while header and header[-1] in (None, ""):
                header.pop()
            sheet.append([*header, ROW_NUMBER_HEADER, REASON_HEADER])
            continue
        if number > last:
            break
        if number in reasons:
            values = (list(cells) + [None] * len(header))[:len(header)]
            sheet.append([*values, number, "；".join(reasons[number])])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index in source.sensitive:
        if index < len(header):
            for cell in sheet[cell_letter(index)]:
                cell.number_format = "@"  # text: the corrected number must not become a float again


def error_report_bytes(errors: list, source: ReportSource | None = None) -> bytes:
    buffer = io.BytesIO()
    write_error_report(errors, buffer, source)
    return buffer.getvalue()


def _mask(value: Any, column: int, masked: dict[int, str]) -> str:
    text = cell_text(value)
    kind = masked.get(column)
    if not text or kind is None:
        return text
    return mask_phone(text) if kind == "phone" else mask_document(text)


def _mask_columns(workbook) -> dict[int, str]:
    """0-based column → "phone" or "document", read from the report's hidden sheet."""
    if MASK_SHEET not in workbook.sheetnames:
        return {}
    found: dict[int, str] = {}
    for kind, *indexes in workbook[MASK_SHEET].iter_rows(max_row=2, values_only=True):
        found.update({int(index) - 1: str(kind) for index in indexes if index})
    return found


def shown_errors(report: bytes, limit: int) -> list[tuple[Any, Any, Any, str]]:
    """(row, column, reason, the row's cells as one line with ID numbers and phones masked) of the
    first errors of a stored report; older reports without the row sheet give an empty last item."""
    if not report:
        return []
    workbook = load_workbook(io.BytesIO(report), read_only=True)
    try:
        detail = workbook[DETAIL_SHEET] if DETAIL_SHEET in workbook.sheetnames else workbook.worksheets[0]
        errors = [tuple(row[:3]) for row in detail.iter_rows(min_row=2, max_row=limit + 1, max_col=3, values_only=True)
                  if any(cell is not None for cell in row)]
        originals: dict[Any, str] = {}
        if ROWS_SHEET in workbook.sheetnames:
            masked = _mask_columns(workbook)
            wanted = {error[0] for error in errors}
            rows = workbook[ROWS_SHEET].iter_rows(values_only=True)
            header = list(next(rows, ()))[:-2]
            for cells in rows:
                number = cells[len(header)] if len(cells) > len(header) else None
                if number in wanted:
                    originals[number] = " · ".join(
                        f"{cell_text(header[i])}：{_mask(value, i, masked)}" for i, value in enumerate(cells[:len(header)])
                        if cell_text(value))
                if len(originals) == len(wanted):
                    break
        return [(*error, originals.get(error[0], "")) for error in errors]
    finally:
        workbook.close()


def masked_report(report: bytes) -> bytes:
    """A copy of a stored report with the ID numbers and phones of its rows masked: what anyone but
    the uploader downloads. Its rows cannot be imported again as they are (the masked cells say so)."""
    workbook = load_workbook(io.BytesIO(report))
    if ROWS_SHEET not in workbook.sheetnames:
        return report
    masked = _mask_columns(workbook)
    for row in workbook[ROWS_SHEET].iter_rows(min_row=2):
        for index, cell in enumerate(row):
            if index in masked and cell.value not in (None, ""):
                cell.value = _mask(cell.value, index, masked)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_workbook(title: str, columns: ColumnSet, examples: list[list], help_text: dict[str, Any],
                      notes: list[Any], text_columns: tuple[str, ...] = (), wide_columns: tuple[str, ...] = ()) -> bytes:
    """An import template: the header row, example rows, and a sheet of instructions (填写说明)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append([zh for _key, zh in columns.columns])
    for example in examples:
        sheet.append(example)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, (key, _zh) in enumerate(columns.columns):
        letter = cell_letter(index)
        sheet.column_dimensions[letter].width = 20 if key in wide_columns else 12
        if key in text_columns:
            for cell in sheet[letter]:
                cell.number_format = "@"  # text: long numbers must not become floats

    sheet_notes = workbook.create_sheet("填写说明")
    sheet_notes.append([_("Column"), _("Required"), _("What to enter")])
    for cell in sheet_notes[1]:
        cell.font = Font(bold=True)
    for key, zh in columns.columns:
        sheet_notes.append([zh, _("Yes") if key in columns.required else _("No"), str(help_text[key])])
    sheet_notes.append([])
    for note in notes:
        sheet_notes.append([str(note)])
    sheet_notes.column_dimensions["A"].width = 14
    sheet_notes.column_dimensions["B"].width = 8
    sheet_notes.column_dimensions["C"].width = 100
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def place_help() -> dict[str, str]:
    """What to enter in the place columns, shared by every template."""
    return {
        "district": _("Name of the district, as in the area tree."),
        "street": _("Name of the street or township within the district."),
        "community": _("Name of the community or village within the street."),
        "compound": _("Name of the residential compound as registered; a new one is created only when new housing is allowed."),
        "building": _("Building, e.g. 1栋 (1号楼, 一栋 and 1幢 mean the same); created only when new housing is allowed."),
        "unit": _("Unit, e.g. 1单元 (一单元 means the same); created only when new housing is allowed."),
        "room": _("Room number, e.g. 101; the household is created if new."),
    }


def roster_template() -> bytes:
    """Header row with the 18 columns, one example row, and a sheet of instructions."""
    example = list(EXAMPLE_ROW)
    example[3] = make_id_number("420102", dt.date(1985, 3, 2), 11)  # a valid number, computed not typed
    help_text = {
        "name": _("Full name, at most 50 characters."),
        "sex": _("One of: %(values)s. May be left empty for a resident ID card (read from the number).")
        % {"values": "男、女"},
        "doc_type": _("One of: %(values)s. Empty means resident ID card.") % {"values": "、".join(DOC_TYPE_LABEL.values())},
        "doc_number": _("Resident ID numbers have 18 characters (15-digit old numbers are converted); other documents 5–20 letters or digits. Format the column as text."),
        "birth_date": _("Dates such as 1985-03-02, 1985/3/2, 19850302, 1985年3月2日 or an Excel date cell. May be left empty for a resident ID card."),
        "phone": _("Mainland mobile number, 11 digits; +86, spaces and dashes are accepted."),
        **place_help(),
        "relation": _("One of: %(values)s. Empty means head of household.") % {"values": "、".join(RELATION_LABEL.values())},
        "special_groups": _("Any of: %(values)s, separated by 、 or commas.") % {"values": "、".join(SPECIAL_GROUP_LABEL.values())},
        "registered_address": _("Registered residence (户籍地址), at most 200 characters."),
        "note": _("Free text, at most 200 characters."),
        "grid": _("Optional: the grid (its name or code) of the household's building, which is assigned to it. Empty keeps the building's grid; a new building goes to the community's default grid."),
    }
    notes = [
        _("Rows are matched on document type and number: importing a file again updates changed residents and creates nothing twice."),
        _("Rows with errors are not imported; they are listed in the error report with their row number."),
    ]
    return template_workbook("居民名单", ROSTER, [example], help_text, notes, text_columns=("doc_number", "phone"),
                             wide_columns=("doc_number", "registered_address"))


def cell_letter(index: int) -> str:
    return get_column_letter(index + 1)

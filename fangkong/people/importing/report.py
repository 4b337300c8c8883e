"""Import templates and the error report, all XLSX."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import IO, Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from fangkong.people.identity import make_id_number
from fangkong.people.importing.reading import ROSTER, ColumnSet
from fangkong.people.validation import DOC_TYPE_LABEL, RELATION_LABEL, SPECIAL_GROUP_LABEL

REPORT_HEADER = ("行号", "列", "原因")
EXAMPLE_ROW = (
    "张伟", "男", "居民身份证", "420102198503020112", "1985-03-02", "13800138000", "江岸区", "大智街道", "青和居社区",
    "青和居小区", "1栋", "1单元", "101", "户主", "孤寡老人、独居", "湖北省武汉市江岸区", "",
)


def write_error_report(errors: list, out: str | Path | IO[bytes]) -> None:
    """One line per error: the row number as in the file (header = row 1), the column, the reason."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("错误报告")
    sheet.append(list(REPORT_HEADER))
    for error in sorted(errors, key=lambda e: e.row):
        sheet.append([error.row, error.column, error.message])
    workbook.save(out)


def error_report_bytes(errors: list) -> bytes:
    buffer = io.BytesIO()
    write_error_report(errors, buffer)
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
    """Header row with the 17 columns, one example row, and a sheet of instructions."""
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
    }
    notes = [
        _("Rows are matched on document type and number: importing a file again updates changed residents and creates nothing twice."),
        _("Rows with errors are not imported; they are listed in the error report with their row number."),
    ]
    return template_workbook("居民名单", ROSTER, [example], help_text, notes, text_columns=("doc_number", "phone"),
                             wide_columns=("doc_number", "registered_address"))


def cell_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)

"""XLSX export of residents, masked. openpyxl's write-only mode keeps memory flat; rows come from
the database in chunks, so a street of hundreds of thousands of residents exports without loading
them all. Headers are the Chinese words of the import template (data words, not UI strings)."""

from __future__ import annotations

import tempfile
from typing import IO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from fangkong.people.validation import DOC_TYPE_LABEL, RELATION_LABEL, SEX_LABEL, SPECIAL_GROUP_LABEL

HEADERS = ["姓名", "性别", "出生日期", "证件类型", "证件号码", "联系电话", "与户主关系", "现住址", "户籍地址", "特殊人群", "备注"]
CHUNK = 2000


def _groups(mask: int) -> str:
    return "、".join(word for bit, word in SPECIAL_GROUP_LABEL.items() if mask & bit)


def resident_rows(residents):
    """One tuple per resident; document numbers and phones masked."""
    qs = residents.select_related("household__unit", "household__building", "household__compound").order_by("area_code", "household_id", "id")
    for r in qs.iterator(chunk_size=CHUNK):
        yield (
            r.name, SEX_LABEL.get(r.sex, r.sex), r.birth_date, DOC_TYPE_LABEL.get(r.doc_type, r.doc_type),
            r.masked_doc_number, r.masked_phone, RELATION_LABEL.get(r.relation, r.relation),
            r.household.address, r.registered_address, _groups(r.special_groups), r.note,
        )


def export_residents(residents) -> tuple[IO[bytes], int]:
    """Write the residents to a temporary XLSX file; returns (file rewound to the start, row count)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("居民")
    sheet.freeze_panes = "A2"
    for column, width in zip("ABCDEFGHIJK", (10, 5, 12, 12, 22, 14, 10, 30, 30, 16, 20), strict=True):
        sheet.column_dimensions[column].width = width
    header = []
    for title in HEADERS:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in resident_rows(residents):
        sheet.append(row)
        count += 1
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    workbook.save(handle)
    handle.seek(0)
    return handle, count

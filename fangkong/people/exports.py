"""XLSX export of residents, masked. openpyxl's write-only mode keeps memory flat; rows come from
the database in chunks, so a street of hundreds of thousands of residents exports without loading
them all. Headers are the Chinese words of the import template (data words, not UI strings)."""

from __future__ import annotations

import tempfile
from typing import IO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from fangkong.core.masking import mask_document, mask_phone
from fangkong.people.validation import DOC_TYPE_LABEL, RELATION_LABEL, SEX_LABEL, SPECIAL_GROUP_LABEL

HEADERS = ["姓名", "性别", "出生日期", "证件类型", "证件号码", "联系电话", "与户主关系", "现住址", "户籍地址", "特殊人群", "备注"]
CHUNK = 2000


def _groups(mask: int) -> str:
    return "、".join(word for bit, word in SPECIAL_GROUP_LABEL.items() if mask & bit)


COLUMNS = ("name", "sex", "birth_date", "doc_type", "doc_number", "phone", "relation", "household__compound__name",
           "household__building__name", "household__unit__name", "household__room", "registered_address",
           "special_groups", "note")


def resident_rows(residents):
    """One tuple per resident; document numbers and phones masked. Plain value tuples, not model
    instances: the export is bounded by openpyxl, not by the ORM."""
    qs = residents.order_by("area_code", "household_id", "id").values_list(*COLUMNS)
    for (name, sex, birth, doc_type, doc_number, phone, relation, compound, building, unit, room,
         registered, groups, note) in qs.iterator(chunk_size=CHUNK):
        yield (
            name, SEX_LABEL.get(sex, sex), birth, DOC_TYPE_LABEL.get(doc_type, doc_type), mask_document(doc_number),
            mask_phone(phone), RELATION_LABEL.get(relation, relation), f"{compound}{building}{unit}{room}",
            registered, _groups(groups), note,
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

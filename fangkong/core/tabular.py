"""Reading import files (XLSX, CSV) into rows of cells, and mapping their headers to fields."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from django.utils import translation
from django.utils.translation import gettext as _


class ImportFileError(Exception):
    """The file cannot be read or lacks required columns; str(e) is a user-facing message."""


# Place columns share their spellings across every kind of file (rosters, evidence lists).
PLACE_ALIASES = {"区县": "district", "县区": "district", "乡镇": "street", "街道乡镇": "street", "村": "community",
                 "社区村": "community", "房间号": "room", "门牌号": "room", "楼号": "building", "单元号": "unit"}


class ColumnSet:
    """The columns of one kind of import file: (field key, Chinese header) in template order, the
    required keys and extra spellings. The Chinese header and the key (the English alias) both map."""

    def __init__(self, columns: list[tuple[str, str]], required: tuple[str, ...], aliases: dict[str, str] | None = None):
        self.columns = columns
        self.required = required
        self.label = dict(columns)
        self.aliases = {**{zh: key for key, zh in columns}, **{key: key for key, _zh in columns}}
        self.aliases.update({text: key for text, key in (aliases or {}).items() if key in self.label})

    def key_of(self, cell: Any) -> str | None:
        text = unicodedata.normalize("NFKC", str(cell or "")).strip().lstrip("\ufeff").strip("*").strip()
        return self.aliases.get(text) or self.aliases.get(text.lower().replace(" ", "_"))

    def check_file(self, data: bytes, filename: str) -> None:
        """The file's kind and header row, checked before an import job is queued (ImportFileError names
        the problem in Chinese, as the import would), so the upload form answers at once."""
        with translation.override("zh-hans"):
            header = next(iter(iter_file_rows(io.BytesIO(data), filename)), None)
            if header is None:
                raise ImportFileError(_("The file is empty."))
            self.map_header(list(header))

    def map_header(self, header: list[Any]) -> tuple[dict[str, int], dict[str, str]]:
        """Field key → column index, and field key → the header text as written in the file."""
        index: dict[str, int] = {}
        labels: dict[str, str] = {}
        for i, cell in enumerate(header):
            key = self.key_of(cell)
            if key and key not in index:
                index[key] = i
                labels[key] = str(cell).strip()
        missing = [self.label[key] for key in self.required if key not in index]
        if missing:
            raise ImportFileError(_("The file lacks required columns: %(columns)s. Use the header row of the template.")
                                  % {"columns": "、".join(missing)})
        return index, labels


# The roster: (field key, Chinese header) in template order; the key doubles as the English header alias.
COLUMNS: list[tuple[str, str]] = [
    ("name", "姓名"), ("sex", "性别"), ("doc_type", "证件类型"), ("doc_number", "证件号码"),
    ("birth_date", "出生日期"), ("phone", "联系电话"), ("district", "区"), ("street", "街道"),
    ("community", "社区"), ("compound", "小区"), ("building", "楼栋"), ("unit", "单元"), ("room", "房号"),
    ("relation", "与户主关系"), ("special_groups", "特殊人群"), ("registered_address", "户籍地址"), ("note", "备注"),
    ("grid", "网格"),
]
HEADER_LABEL = dict(COLUMNS)
REQUIRED = ("name", "doc_number", "district", "street", "community", "compound", "building", "unit", "room")
PERSON_ALIASES = {"手机": "phone", "手机号": "phone", "电话": "phone", "身份证号": "doc_number", "身份证号码": "doc_number"}
GRID_ALIASES = {"所属网格": "grid", "网格名称": "grid", "网格编码": "grid"}
ROSTER = ColumnSet(COLUMNS, REQUIRED, {**PLACE_ALIASES, **PERSON_ALIASES, **GRID_ALIASES})


def map_header(header: list[Any], columns: ColumnSet = ROSTER) -> tuple[dict[str, int], dict[str, str]]:
    """Field key → column index, and field key → the header text as written in the file."""
    return columns.map_header(header)


def cell_text(value: Any) -> str:
    """A cell as clean text: whole floats without ".0", full-width folded (NFKC), inner spaces single."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return " ".join(text.split())


def read_source(source: str | Path | IO[bytes]) -> bytes:
    """The whole file (an import reads it twice: once to import, once for the rows of the error report)."""
    return _read_bytes(source)


def _read_bytes(source: str | Path | IO[bytes]) -> bytes:
    if isinstance(source, str | Path):
        try:
            return Path(source).read_bytes()
        except OSError as exc:
            raise ImportFileError(_("The file cannot be read.")) from exc
    data = source.read()
    return data.encode() if isinstance(data, str) else data


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK and GB2312)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ImportFileError(_("The CSV file is neither UTF-8 nor GBK/GB18030 encoded.")) from exc


def iter_csv(data: bytes) -> Iterator[list[Any]]:
    text = _decode(data)
    try:
        yield from csv.reader(io.StringIO(text, newline=""))
    except csv.Error as exc:
        raise ImportFileError(_("The CSV file is malformed: %(error)s") % {"error": exc}) from exc


def iter_xlsx(data: bytes) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors all mean "not a readable workbook"
        raise ImportFileError(_("The file is not a readable XLSX workbook.")) from exc
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    finally:
        workbook.close()


def estimate_data_rows(data: bytes, filename: str) -> int | None:
    """About how many data rows the file holds (for a progress bar), cheaply: a CSV's line breaks, an XLSX
    sheet's recorded dimension. None when it cannot tell (the bar then shows activity, not a share)."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        return max(0, data.count(b"\n") - 1) or None
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True)
            try:
                rows = workbook.worksheets[0].max_row
            finally:
                workbook.close()
        except Exception:  # an unreadable workbook is the import's error to report, not this estimate's
            return None
        return max(0, rows - 1) if rows else None
    return None


def iter_file_rows(source: str | Path | IO[bytes], filename: str) -> Iterator[list[Any]]:
    """All rows of the file's first sheet (row 1 = header), as lists of cell values."""
    suffix = Path(filename).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ImportFileError(_("Only .xlsx and .csv files can be imported."))
    data = _read_bytes(source)
    if not data:
        raise ImportFileError(_("The file is empty."))
    return iter_csv(data) if suffix == ".csv" else iter_xlsx(data)

"""Lab result import (核酸检测结果导入): a lab's XLSX or CSV in, results entered, a per-row report out.

Columns (Chinese headers, English aliases): 样本编号 sample number, 证件号码 document number, 检测结果
result (阳性/阴性/可疑 or positive/negative/inconclusive), 报告时间 result time. Each row is matched on
the sample number among the tests the user may see, and the document number must be the person's:
a swapped tube is refused rather than entered against the wrong person. Every valid row goes through
`samples.record_result` (the same path as entering one by one: history, audit, automatic status
changes); rows with errors are listed in an XLSX report with their row number, column and reason.
Importing the same file again enters nothing twice.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.cases.models import NucleicAcidTest, Result, ResultImport
from fangkong.cases.samples import record_result
from fangkong.core import permissions
from fangkong.core.errors import FieldErrors, actor
from fangkong.core.tabular import ColumnSet, ImportFileError, cell_text, iter_file_rows
from fangkong.people.importer import RowError
from fangkong.people.importing.report import error_report_bytes

COLUMNS: list[tuple[str, str]] = [("sample_number", "样本编号"), ("doc_number", "证件号码"), ("result", "检测结果"),
                                  ("result_at", "报告时间"), ("lab", "检测机构")]
HEADER_LABEL = dict(COLUMNS)
REQUIRED = ("sample_number", "doc_number", "result", "result_at")
LAB_COLUMNS = ColumnSet(COLUMNS, REQUIRED, {
    "样本号": "sample_number", "标本编号": "sample_number", "条码号": "sample_number", "样本条码": "sample_number",
    "sample": "sample_number", "sample_no": "sample_number",
    "身份证号": "doc_number", "身份证号码": "doc_number", "证件号": "doc_number", "document": "doc_number",
    "document_number": "doc_number",
    "结果": "result", "核酸结果": "result", "检测时间": "result_at", "结果时间": "result_at", "时间": "result_at",
    "time": "result_at", "result_time": "result_at", "report_time": "result_at", "实验室": "lab", "检测单位": "lab",
    "laboratory": "lab",
})
RESULT_WORDS = {
    "阳性": Result.POSITIVE, "阳": Result.POSITIVE, "+": Result.POSITIVE, "positive": Result.POSITIVE, "pos": Result.POSITIVE,
    "阴性": Result.NEGATIVE, "阴": Result.NEGATIVE, "-": Result.NEGATIVE, "negative": Result.NEGATIVE, "neg": Result.NEGATIVE,
    "可疑": Result.INCONCLUSIVE, "不确定": Result.INCONCLUSIVE, "待复核": Result.INCONCLUSIVE,
    "inconclusive": Result.INCONCLUSIVE,
}
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%dT%H:%M", "%Y%m%d %H%M", "%Y%m%d%H%M%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日%H时%M分")


@dataclass
class LabImportResult:
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    batch_id: int | None = None

    @property
    def error_rows(self) -> int:
        return len({e.row for e in self.errors})

    def summary(self) -> dict[str, int]:
        return {"updated": self.updated, "unchanged": self.unchanged, "errors": self.error_rows}


def parse_time(value: Any) -> dt.datetime | None:
    """A lab time (Excel cell or text, Beijing time) as an aware datetime, or None."""
    if isinstance(value, dt.datetime):
        moment = value
    else:
        text = cell_text(value).replace("：", ":")
        moment = None
        for fmt in TIME_FORMATS:
            try:
                moment = dt.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if moment is None:
            return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return moment


def template_bytes() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "核酸检测结果"
    sheet.append([zh for _key, zh in COLUMNS])
    sheet.append(["S20200205-0001", "420102198503020112", "阴性", "2020-02-05 14:30", "武汉市疾控中心"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column in "ABCDE":
        sheet.column_dimensions[column].width = 22
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def import_results(source: str | Path | IO[bytes], *, filename: str, user: User) -> LabImportResult:
    if not permissions.can_manage_cases(user):
        raise PermissionDenied
    rows = iter(iter_file_rows(source, filename))
    header = next(rows, None)
    if header is None:
        raise ImportFileError(_("The file is empty."))
    index, labels = LAB_COLUMNS.map_header(list(header))
    label = {key: labels.get(key, HEADER_LABEL[key]) for key in HEADER_LABEL}
    result = LabImportResult()
    parsed: list[tuple[int, str, str, str, dt.datetime, str]] = []
    seen: dict[str, int] = {}
    width = max(index.values()) + 1
    for number, cells in enumerate(rows, start=2):
        cells = list(cells) + [None] * (width - len(cells))
        if all(cell_text(c) == "" for c in cells):
            continue
        values = {key: cells[i] for key, i in index.items()}
        errors: list[RowError] = []
        sample = cell_text(values.get("sample_number")).replace(" ", "").upper()
        doc = cell_text(values.get("doc_number")).replace(" ", "").upper()
        outcome = RESULT_WORDS.get(cell_text(values.get("result")).lower())
        moment = parse_time(values.get("result_at"))
        lab = cell_text(values.get("lab"))[:100]
        for key, value in (("sample_number", sample), ("doc_number", doc)):
            if not value:
                errors.append(RowError(number, label[key], _("This column is required.")))
        if outcome is None:
            errors.append(RowError(number, label["result"], _("Write 阳性, 阴性 or 可疑 (positive, negative, inconclusive).")))
        if moment is None:
            errors.append(RowError(number, label["result_at"], _("Write a time such as 2020-02-05 14:30.")))
        if sample and not errors:
            if sample in seen:
                errors.append(RowError(number, label["sample_number"], _("This sample number already appears in row %(row)d.") % {"row": seen[sample]}))
            seen.setdefault(sample, number)
        if errors:
            result.errors.extend(errors)
            continue
        parsed.append((number, sample, doc, outcome, moment, lab))

    with transaction.atomic():
        tests = {t.sample_number: t for t in NucleicAcidTest.objects.restrict(user).filter(
            sample_number__in=[p[1] for p in parsed]).select_related("case__resident")}
        for number, sample, doc, outcome, moment, lab in parsed:
            test = tests.get(sample)
            if test is None:
                result.errors.append(RowError(number, label["sample_number"], _("No sample with this number in your area of responsibility.")))
                continue
            if test.case.resident.doc_number.upper() != doc:
                result.errors.append(RowError(number, label["doc_number"], _("This document number is not the one of the person sampled.")))
                continue
            try:
                with transaction.atomic():
                    changed = record_result(user, test, outcome, result_at=moment, lab=lab)
            except FieldErrors as exc:
                for key, message in exc.errors.items():
                    result.errors.append(RowError(number, label.get(key, label["result"]), str(message)))
                continue
            if changed:
                result.updated += 1
            else:
                result.unchanged += 1
        result.errors.sort(key=lambda e: e.row)
        scope = user.scope
        batch = ResultImport.objects.create(
            user=actor(user), filename=filename[:255], updated=result.updated,
            unchanged=result.unchanged, error_rows=result.error_rows, area_code=scope.area_code or "",
            facility_id_scope=scope.facility_id, report=error_report_bytes(result.errors) if result.errors else b"")
        result.batch_id = batch.pk
        record(user, Action.IMPORT, batch, object_type="cases.resultimport", object_repr=filename[:200],
               area_code=scope.area_code or "", changes={"file": filename, **result.summary()})
    return result

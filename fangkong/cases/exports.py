"""XLSX export of an area's targets: the 100%s and 三清零 per sub-area, the people behind each zero
(identifiers masked), and the time in each link. Headers are Chinese data words, like the roster's."""

from __future__ import annotations

import io
from typing import Any

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font

from fangkong.accounts.models import User
from fangkong.areas.models import CODE_LENGTH, Area, Level
from fangkong.cases.targets import LINKS, area_counts, area_links, zero_lists
from fangkong.core import permissions
from fangkong.jobs.exports import Export, ExportFile

TARGETS_EXPORT = "export-targets"

TARGET_HEADERS = ["区域", "代码", "确诊", "确诊已收治", "确诊收治率%", "疑似", "疑似已检测", "疑似检测率%", "发热病人", "发热已检测",
                  "发热检测率%", "密接", "密接已隔离", "密接隔离率%", "危重症待收治", "疑似待隔离", "待检测"]
ZERO_SHEETS = {"critical_waiting": "危重症待收治", "suspected_waiting": "疑似待隔离", "awaiting_test": "待检测"}
LINK_HEADERS = {"screening": "发现→接收(小时)", "testing": "接收→采样", "turnaround": "采样→结果", "waiting": "等待床位",
                "transfer": "转运", "admission": "到达→收治", "total": "发现→收治"}


def _bold(sheet) -> None:
    for cell in sheet[1]:
        cell.font = Font(bold=True)


def _row(name: str, code: str, counts) -> list:
    values = [name, code]
    for _key, _label, done, total, rate in counts.rates:
        values += [total, done, rate if rate is not None else "—"]
    return values + [counts.critical_waiting, counts.suspected_waiting, counts.awaiting_test]


def targets_workbook(user: User, area: Area) -> tuple[bytes, int]:
    width = CODE_LENGTH[Level(area.child_level)] if area.child_level else None
    total, children = area_counts(user, area.code, width)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "目标"
    sheet.append(TARGET_HEADERS)
    _bold(sheet)
    rows = 0
    sheet.append(_row(f"{area.name}（合计）", area.code, total))
    for child in (list(Area.objects.filter(parent=area).order_by("code")) if width else []):
        if child.code in children:
            sheet.append(_row(child.name, child.code, children[child.code]))
            rows += 1
    sheet.append([])
    sheet.append([f"导出时间 {timezone.localtime():%Y-%m-%d %H:%M}"])
    for key, people in zero_lists(user, area.code).items():
        zero = workbook.create_sheet(ZERO_SHEETS[key])
        zero.append(["姓名", "证件号码", "联系电话", "现住址", "状态", "等待起始"])
        _bold(zero)
        for case in people:
            resident = case.resident
            since = case.waiting_since or case.status_since
            zero.append([resident.name, resident.masked_doc_number, resident.masked_phone, resident.household.address,
                         case.status_label, timezone.localtime(since).strftime("%Y-%m-%d %H:%M") if since else ""])
            rows += 1
    links, by_prefix = area_links(user, area.code, width)
    link_sheet = workbook.create_sheet("环节用时")
    link_sheet.append(["区域", *[LINK_HEADERS[key] for key, _label in LINKS]])
    _bold(link_sheet)
    link_sheet.append([f"{area.name}（合计，中位数）", *[m if m is not None else "—" for _k, m, _n in links.medians()]])
    for child in (list(Area.objects.filter(parent=area).order_by("code")) if width else []):
        if child.code in by_prefix:
            link_sheet.append([child.name, *[m if m is not None else "—" for _k, m, _n in by_prefix[child.code].medians()]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), rows


def export_area(user: Any, code: str) -> Area:
    """The area whose targets `user` may export: those who manage cases (403), within their scope (404)."""
    if not permissions.can_manage_cases(user):
        raise PermissionDenied
    return Area.objects.get_visible_or_404(user, code=code)


def build_targets_export(user: Any, params: dict[str, Any]) -> ExportFile:
    """The background job of cases.views.export."""
    area = export_area(user, params["code"])
    data, rows = targets_workbook(user, area)
    return ExportFile(f"targets-{area.code}.xlsx", data, rows, area,
                      {"targets": True, "rows": rows, "masked": True, "format": "xlsx"})


EXPORT = Export(TARGETS_EXPORT, gettext_lazy("Targets export"), build_targets_export, url_name="cases:export",
                back=lambda params: reverse("cases:board", args=[params["code"]]))

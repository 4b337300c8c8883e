"""A demo roster file (XLSX) to try the import screen with, optionally with a few deliberate errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from openpyxl import Workbook

from fangkong.demo.generator import ROSTER_HEADERS, roster_rows


def _flip_check_digit(number: str) -> str:
    last = number[-1]
    return number[:-1] + ("0" if last in "X9" else str(int(last) + 1))


def with_errors(rows: Iterator[dict[str, str]]) -> Iterator[dict[str, str]]:
    """Spoil four rows near the top, one error of each kind, marked in 备注 so people can find them."""
    first: dict[str, str] = {}
    for i, row in enumerate(rows):
        if i == 0:
            first = {key: row[key] for key in ("姓名", "性别", "证件号码", "出生日期")}
        kind = {3: "bad_checksum", 7: "bad_date", 11: "short_phone", 15: "duplicate_document"}.get(i)
        if kind == "bad_checksum":
            row = {**row, "证件号码": _flip_check_digit(row["证件号码"]), "备注": "示例错误：证件号码校验位错误"}
        elif kind == "bad_date":
            row = {**row, "出生日期": f"{row['出生日期'][:4]}-02-30", "备注": "示例错误：出生日期不存在"}
        elif kind == "short_phone":
            row = {**row, "联系电话": "1380013", "备注": "示例错误：手机号位数不足"}
        elif kind == "duplicate_document":
            # The first person listed a second time, in another household: valid alone, a duplicate together.
            row = {**row, **first, "备注": "示例错误：与第一行是同一证件号码"}
        yield row


def write_roster(path: str | Path, residents: int, seed: int, errors: bool = False) -> int:
    """Write the roster to an XLSX file (streamed, write-only workbook); returns the number of people."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("居民名册")
    sheet.append(list(ROSTER_HEADERS))
    rows: Iterator[dict[str, str]] = roster_rows(residents, seed)
    if errors:
        rows = with_errors(rows)
    count = 0
    for row in rows:
        sheet.append([row[h] for h in ROSTER_HEADERS])
        count += 1
    workbook.save(path)
    return count

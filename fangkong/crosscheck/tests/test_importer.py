"""Evidence import: valid rows stored, invalid rows reported per row and column, the same file twice
creates nothing twice, missing dwellings created, the area path and the user's scope enforced."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from openpyxl import Workbook, load_workbook

from fangkong.areas.models import Building, Household
from fangkong.audit.models import Action, AuditLog
from fangkong.core.identity import make_id_number
from fangkong.crosscheck.evidence import SPECS, evidence_template
from fangkong.crosscheck.importer import ImportFileError, import_evidence
from fangkong.crosscheck.models import Kind, LitCount, MeterReading, Returnee, ToDo
from fangkong.crosscheck.tests.conftest import csv_bytes, day
from fangkong.people.models import ImportBatch

pytestmark = pytest.mark.django_db

METER_HEADER = ["区", "街道", "社区", "小区", "楼栋", "单元", "房号", "日期", "用电量(千瓦时)"]
LIT_HEADER = ["区", "街道", "社区", "小区", "楼栋", "日期", "亮灯数"]
RETURNEE_HEADER = ["姓名", "证件类型", "证件号码", "联系电话", "出发地", "抵达日期", "目的地址",
                   "区", "街道", "社区", "小区", "楼栋", "单元", "房号"]
QINGHE = ["江岸区", "大智街道", "青和居社区", "青和居小区"]


def meter_row(room: str, days_ago: int, kwh, building: str = "1栋") -> list:
    return [*QINGHE, building, "1单元", room, day(days_ago).isoformat(), kwh]


def run(kind: str, content: bytes, user=None, filename: str = "evidence.csv"):
    return import_evidence(kind, io.BytesIO(content), filename=filename, user=user)


def test_meter_readings_are_imported_and_the_missing_household_is_created_and_found(city):
    content = csv_bytes(METER_HEADER, meter_row("101", 1, "3.5"), meter_row("103", 1, "5.2"), meter_row("103", 0, "5.0"))
    result = run("meter", content, city.users["community"])
    assert (result.created, result.updated, result.unchanged, result.error_rows) == (3, 0, 0, 0)
    room_103 = Household.objects.get(building=city.buildings["a1"], room="103")  # what the roster missed
    assert room_103.area_code == city.areas["grid_a"].code
    assert MeterReading.objects.get(household=room_103, date=day(1)).kwh == Decimal("5.20")
    assert result.todos[Kind.POWERED] == 1
    assert ToDo.objects.get(kind=Kind.POWERED).household == room_103
    batch = ImportBatch.objects.get(pk=result.batch_id)
    assert (batch.kind, batch.created, batch.area_code) == ("meter", 3, city.areas["qinghe"].code)
    assert AuditLog.objects.filter(action=Action.IMPORT, object_id=str(batch.pk)).exists()


def test_reimporting_the_same_file_creates_nothing_twice_and_a_changed_value_updates(city):
    content = csv_bytes(METER_HEADER, meter_row("103", 1, "5.2"), meter_row("103", 0, "5.0"))
    run("meter", content, city.users["community"])
    again = run("meter", content, city.users["community"])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert again.todos[Kind.POWERED] == 0
    changed = run("meter", csv_bytes(METER_HEADER, meter_row("103", 1, "6.1")), city.users["community"])
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 0)
    assert MeterReading.objects.count() == 2 and Household.objects.filter(room="103").count() == 1
    assert MeterReading.objects.get(date=day(1)).kwh == Decimal("6.10")
    assert ToDo.objects.count() == 1


def test_bad_rows_are_reported_with_row_column_and_reason_and_good_rows_imported(city, tmp_path):
    content = csv_bytes(
        METER_HEADER,
        meter_row("101", 1, "3.5"),  # row 2: fine
        meter_row("101", 1, "3.6"),  # row 3: the same household and day again
        meter_row("102", 1, "abc"),  # row 4: not a number
        meter_row("102", 1, "-1"),  # row 5: negative
        [*QINGHE, "1栋", "1单元", "102", "2020-13-40", "1"],  # row 6: not a date
        [*QINGHE, "1栋", "1单元", "102", (day(0) + dt.timedelta(days=2)).isoformat(), "1"],  # row 7: the future
        ["江岸区", "大智街道", "没有这个社区", "某小区", "1栋", "1单元", "101", day(1).isoformat(), "1"],  # row 8
        [*QINGHE, "1栋", "", "102", day(1).isoformat(), "1"],  # row 9: no unit
        ["", "", "", "", "", "", "", "", ""],  # blank rows are skipped
        [*QINGHE, "1栋", "1单元", "102", day(1).isoformat(), "2000"],  # row 11: implausible
    )
    result = run("meter", content, city.users["community"])
    assert result.created == 1
    found = {(e.row, e.column) for e in result.errors}
    assert found == {(3, "日期"), (4, "用电量(千瓦时)"), (5, "用电量(千瓦时)"), (6, "日期"), (7, "日期"), (8, "社区"),
                     (9, "单元"), (11, "用电量(千瓦时)")}
    messages = {e.row: e.message for e in result.errors}
    assert messages[3] == "此行与第 2 行重复。"
    assert "没有这个社区" in messages[8]
    assert all(not e.message.isascii() for e in result.errors)  # reasons in Chinese
    report = load_workbook(io.BytesIO(ImportBatch.objects.get(pk=result.batch_id).report))
    rows = list(report["错误明细"].iter_rows(values_only=True))
    assert rows[0] == ("行号", "列", "原因") and rows[1][0] == 3 and len(rows) == 9


def test_a_community_worker_cannot_import_outside_the_community(city):
    content = csv_bytes(METER_HEADER, ["武昌区", "紫阳街道", "紫阳社区", "紫阳小区", "1栋", "1单元", "301", day(1).isoformat(), "5"],
                        meter_row("101", 1, "1"))
    result = run("meter", content, city.users["community"])
    assert result.created == 1
    [error] = result.errors
    assert (error.row, error.column) == (2, "社区") and "管辖范围" in error.message
    assert not MeterReading.objects.filter(household__building=city.buildings["z1"]).exists()


@pytest.mark.parametrize("persona", ["grid_a", "volunteer", "guard"])
def test_roles_without_import_rights_are_refused(city, persona):
    with pytest.raises(PermissionDenied):
        run("meter", csv_bytes(METER_HEADER, meter_row("101", 1, "1")), city.users[persona])


@pytest.mark.parametrize(("filename", "content"), [
    ("evidence.txt", b"whatever"),
    ("evidence.csv", b""),
    ("evidence.csv", "区,街道\n江岸区,大智街道\n".encode()),  # required columns missing
    ("evidence.xlsx", b"not a zip file"),
    ("evidence.csv", b"\xff\xfe\x00garbage\x81"),
])
def test_an_unreadable_file_is_refused_as_a_whole(city, filename, content):
    with pytest.raises(ImportFileError):
        run("meter", content, city.users["community"], filename=filename)
    assert not ImportBatch.objects.exists()


def test_english_headers_and_an_xlsx_file_work_too(city):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["district", "street", "community", "compound", "building", "date", "lit_windows"])
    sheet.append([*QINGHE, "1栋", dt.datetime.combine(day(1), dt.time()), 5.0])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = run("lit_windows", buffer.getvalue(), city.users["community"], filename="lit.xlsx")
    assert (result.created, result.error_rows) == (1, 0)
    assert LitCount.objects.get().lit == 5
    assert result.todos[Kind.LIT] == 1  # 5 lit, 2 occupied households


def test_lit_counts_create_a_missing_building_only_when_asked_and_in_the_default_grid(city):
    content = csv_bytes(LIT_HEADER, [*QINGHE, "9栋", day(1).isoformat(), "3"], [*QINGHE, "1栋", day(1).isoformat(), "1.5"])
    refused = run("lit_windows", content, city.users["community"])
    assert refused.created == 0 and [(e.row, e.column) for e in refused.errors] == [(2, "楼栋"), (3, "亮灯数")]
    assert "9栋" in refused.errors[0].message and not Building.objects.filter(name="9栋").exists()
    result = import_evidence("lit_windows", io.BytesIO(content), filename="lit.csv", user=city.users["community"],
                             create_housing=True)
    assert result.created == 1 and [(e.row, e.column) for e in result.errors] == [(3, "亮灯数")]
    building = Building.objects.get(name="9栋")
    assert building.grid == city.areas["grid_a"] and building.area_code == city.areas["grid_a"].code
    assert building.compound == city.compounds["qinghe"]
    assert ToDo.objects.get(kind=Kind.LIT).building == building


@pytest.mark.parametrize(("building", "unit", "room"), [("1 栋", "1单元", "103"), ("一栋", "一单元", "103室"), ("１号楼", "1 单元", "０１０３")])
def test_meter_readings_in_any_notation_reach_the_existing_building(city, building, unit, room):
    content = csv_bytes(METER_HEADER, [*QINGHE, building, unit, room, day(1).isoformat(), "5"],
                        [*QINGHE, "1栋", "1单元", "101", day(1).isoformat(), "2"])
    before = Building.objects.count()
    result = run("meter", content, city.users["community"])
    assert (result.created, result.error_rows) == (2, 0) and Building.objects.count() == before
    assert MeterReading.objects.get(kwh=Decimal("5")).household.building == city.buildings["a1"]
    assert Household.objects.get(building=city.buildings["a1"], room="103")  # the new room, written canonically


def test_meter_readings_for_a_compound_with_a_typo_are_a_row_error_with_the_nearest_name(city):
    content = csv_bytes(METER_HEADER, ["江岸区", "大智街道", "青和居社区", "青和居小去", "1栋", "1单元", "101", day(1).isoformat(), "2"],
                        [*QINGHE, "1栋", "9单元", "101", day(1).isoformat(), "2"])
    result = run("meter", content, city.users["community"])
    assert result.created == 0 and [(e.row, e.column) for e in result.errors] == [(2, "小区"), (3, "单元")]
    assert "青和居小区" in result.errors[0].message and "1单元" in result.errors[1].message


def test_returnees_are_checked_like_the_roster_and_located_when_the_room_is_given(city):
    stranger = make_id_number("420111", dt.date(1990, 5, 1), 23)
    valid = make_id_number("420102", dt.date(1985, 3, 2), 13)
    wrong_check_digit = valid[:-1] + ("0" if valid[-1] != "0" else "1")
    content = csv_bytes(
        RETURNEE_HEADER,
        ["李明", "居民身份证", stranger, "+86 138-1234-5678", "孝感", day(1).isoformat(), "青和居1栋102", *QINGHE, "1栋", "1单元", "102"],
        ["王芳", "", city.residents["wangfang"].doc_number, "", "黄冈", day(2).isoformat(), "", "", "", "", "", "", "", ""],
        ["坏号", "", wrong_check_digit, "123", "", day(1).isoformat(), "", "", "", "", "", "", "", ""],  # row 4
        ["无日期", "护照", "E12345678", "", "", "", "", "", "", "", "", "", "", ""],  # row 5
        ["半地址", "护照", "E87654321", "", "", day(1).isoformat(), "", *QINGHE, "", "", ""],  # row 6
        ["李明", "", stranger, "", "", day(1).isoformat(), "", "", "", "", "", "", "", ""],  # row 7: repeats row 2
    )
    result = run("returnees", content, city.users["community"])
    assert result.created == 2
    assert {(e.row, e.column) for e in result.errors} == {
        (4, "证件号码"), (4, "联系电话"), (5, "抵达日期"), (6, "楼栋"), (6, "单元"), (6, "房号"), (7, "证件号码")}
    li = Returnee.objects.get(name="李明")
    assert (li.phone, li.household, li.area_code) == ("13812345678", city.households["a102"], city.areas["grid_a"].code)
    wang = Returnee.objects.get(name="王芳")
    assert wang.household is None and wang.area_code == city.areas["qinghe"].code  # the importer's community
    assert (result.todos[Kind.RETURNEE_UNREGISTERED], result.todos[Kind.RETURNEE_UNSCREENED]) == (1, 1)
    again = run("returnees", content, city.users["community"])
    assert (again.created, again.unchanged, sum(again.todos[k] for k in Kind.values)) == (0, 2, 0)


def test_the_command_line_imports_with_full_rights_and_prints_counts_last(city, tmp_path, capsys):
    path = tmp_path / "meter.csv"
    path.write_bytes(csv_bytes(METER_HEADER, meter_row("103", 1, "5"), meter_row("103", 1, "x"),
                               ["武昌区", "紫阳街道", "紫阳社区", "紫阳小区", "1栋", "1单元", "302", day(1).isoformat(), "2"]))
    report = tmp_path / "errors.xlsx"
    call_command("import-evidence", "meter", str(path), "--report", str(report))
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(last) == {"created": 2, "updated": 0, "unchanged": 0, "errors": 1, "todos_opened": 2}
    assert load_workbook(report)["错误明细"].cell(2, 1).value == 3


def test_the_crosscheck_command_prints_its_counts_last(city, capsys):
    call_command("crosscheck")
    counts = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert counts == {"powered_unregistered": 0, "lit_windows": 0, "returnee_unregistered": 0, "returnee_unscreened": 0,
                      "closed": 0, "vacancies_cleared": 0}


@pytest.mark.parametrize("kind", list(SPECS))
def test_each_template_has_the_headers_and_its_example_rows_import_cleanly(city, kind, tmp_path):
    content = evidence_template(kind)
    workbook = load_workbook(io.BytesIO(content))
    assert [c.value for c in workbook.worksheets[0][1]] == [zh for _key, zh in SPECS[kind].columns.columns]
    assert workbook.sheetnames[1] == "填写说明"
    result = import_evidence(kind, io.BytesIO(content), filename="template.xlsx", user=None)
    assert result.error_rows == 0 and result.created >= 1

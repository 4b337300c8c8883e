"""Roster import: files in, residents created or updated, errors reported, nothing half-written."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation
from django.utils.translation import gettext
from openpyxl import Workbook, load_workbook

from fangkong.areas.housing import create_default_grid
from fangkong.areas.models import Area, Building, Compound, Household, Unit
from fangkong.audit.models import Action, AuditLog
from fangkong.core.identity import make_id_number
from fangkong.core.tabular import COLUMNS
from fangkong.people import importer
from fangkong.people.importer import ImportFileError, import_roster, roster_template, write_error_report
from fangkong.people.models import ImportBatch, Resident

HEADERS = [zh for _key, zh in COLUMNS]
PLACE = {"区": "江岸区", "街道": "大智街道", "社区": "青和居社区", "小区": "青和居小区", "楼栋": "3栋", "单元": "1单元"}


def person(seq: int, room: str = "301", **overrides) -> dict[str, object]:
    birth = dt.date(1960 + seq % 40, 1 + seq % 12, 1 + seq % 28)
    row: dict[str, object] = {"姓名": f"居民{seq}", "证件号码": make_id_number("420102", birth, 100 + seq),
                              "联系电话": f"139{seq:08d}", "房号": room, **PLACE}
    row.update(overrides)
    return row


def write_csv(path, rows, encoding: str = "utf-8-sig", headers=HEADERS):
    with open(path, "w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([row.get(h, "") for h in headers])
    return path


def write_xlsx(path, rows, headers=HEADERS):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h) for h in headers])
    workbook.save(path)
    return path


def run(path, **kwargs):
    # Most rows here live in 3栋, a building the test city lacks: allow new housing unless a test says not.
    kwargs.setdefault("create_housing", True)
    return import_roster(path, filename=path.name, **kwargs)


def report_rows(result) -> list[tuple]:
    buffer = io.BytesIO()
    write_error_report(result.errors, buffer)
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).active
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def test_a_csv_roster_creates_residents_and_the_places_they_live_in(city, tmp_path):
    result = run(write_csv(tmp_path / "roster.csv", [person(1), person(2), person(3, room="302")]))
    assert result.summary() == {"created": 3, "updated": 0, "unchanged": 0, "errors": 0}
    building = Building.objects.get(compound=city.compounds["qinghe"], name="3栋")
    # A new building is in the community's default grid (its lowest-coded), so it is in a day list.
    assert building.grid == city.areas["grid_a"] and building.area_code == city.areas["grid_a"].code
    households = Household.objects.filter(building=building)
    assert sorted(h.room for h in households) == ["301", "302"]
    assert {h.area_code for h in households} == {"420102001001001"}
    resident = Resident.objects.get(name="居民1")
    assert resident.household.room == "301" and resident.area_code == "420102001001001"
    assert resident.phone == "13900000001" and resident.sex in ("M", "F")


def test_an_xlsx_roster_with_real_date_cells_is_imported(city, tmp_path):
    row = person(5)
    row["出生日期"] = dt.datetime(1965, 6, 6)
    row["证件号码"] = make_id_number("420102", dt.date(1965, 6, 6), 105)
    row["楼栋"] = "1栋"
    result = run(write_xlsx(tmp_path / "roster.xlsx", [row]))
    assert result.summary()["created"] == 1
    resident = Resident.objects.get(name="居民5")
    assert resident.birth_date == dt.date(1965, 6, 6)
    # 1栋 exists with grid A: the new household takes the grid's code.
    assert resident.area_code == city.areas["grid_a"].code


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_files_in_utf8_or_gbk_are_read(city, tmp_path, encoding):
    result = run(write_csv(tmp_path / "roster.csv", [person(1)], encoding=encoding))
    assert result.created == 1 and Resident.objects.get(name="居民1")


def test_english_headers_are_accepted(city, tmp_path):
    keys = [key for key, _zh in COLUMNS]
    zh_to_key = dict((zh, key) for key, zh in COLUMNS)
    rows = [{zh_to_key[k]: v for k, v in person(7).items()}]
    result = run(write_csv(tmp_path / "en.csv", rows, headers=keys))
    assert result.created == 1


def test_invalid_rows_are_reported_in_chinese_with_row_and_column_and_valid_rows_imported(city, tmp_path):
    rows = [
        person(1),
        person(2, 证件号码="420102196002030011"),  # bad check digit: row 3
        {},  # empty: skipped, but still counts as row 4 of the file
        person(4, 出生日期="1985/13/40"),  # row 5
        person(5, 联系电话="12345"),  # row 6
    ]
    result = run(write_csv(tmp_path / "roster.csv", rows))
    assert result.summary() == {"created": 1, "updated": 0, "unchanged": 0, "errors": 3}
    lines = report_rows(result)
    assert lines[0] == ("行号", "列", "原因")
    assert [(row, column) for row, column, _reason in lines[1:]] == [(3, "证件号码"), (5, "出生日期"), (6, "联系电话")]
    with translation.override("zh-hans"):  # reasons are produced in Chinese whatever the caller's language
        expected = gettext("The check digit of the ID number is wrong.")
    assert lines[1][2] == expected
    batch = ImportBatch.objects.get(pk=result.batch_id)
    assert (batch.created, batch.error_rows) == (1, 3) and bytes(batch.report)[:2] == b"PK"


def test_a_document_repeated_in_the_file_is_an_error_on_the_later_row(city, tmp_path):
    first = person(1)
    again = person(2, 证件号码=str(first["证件号码"]).lower())
    result = run(write_csv(tmp_path / "roster.csv", [first, again]))
    assert result.created == 1
    assert [(e.row, e.column) for e in result.errors] == [(3, "证件号码")]
    assert "2" in result.errors[0].message


def test_missing_required_columns_is_one_file_level_error(city, tmp_path):
    path = write_csv(tmp_path / "roster.csv", [person(1)], headers=["姓名", "证件号码"])
    with pytest.raises(ImportFileError) as excinfo:
        run(path)
    assert "社区" in str(excinfo.value) and "房号" in str(excinfo.value)


def test_an_unreadable_file_is_a_file_error(city, tmp_path):
    path = tmp_path / "roster.xlsx"
    path.write_bytes(b"not a workbook")
    with pytest.raises(ImportFileError):
        run(path)


def test_importing_the_same_file_again_changes_nothing(city, tmp_path):
    path = write_csv(tmp_path / "roster.csv", [person(i) for i in range(1, 6)])
    assert run(path).summary()["created"] == 5
    counts = (Household.objects.count(), Unit.objects.count(), Building.objects.count(), Compound.objects.count())
    second = run(path)
    assert second.summary() == {"created": 0, "updated": 0, "unchanged": 5, "errors": 0}
    assert (Household.objects.count(), Unit.objects.count(), Building.objects.count(), Compound.objects.count()) == counts
    assert Resident.objects.count() == 5 + 5


def test_a_changed_field_updates_the_resident_and_moves_household_with_an_audit_entry(city, tmp_path):
    run(write_csv(tmp_path / "roster.csv", [person(1), person(2)]))
    resident = Resident.objects.get(name="居民1")
    result = run(write_csv(tmp_path / "roster2.csv", [person(1, room="999", 联系电话="13700000000"), person(2)]))
    assert result.summary() == {"created": 0, "updated": 1, "unchanged": 1, "errors": 0}
    resident.refresh_from_db()
    assert resident.household.room == "999" and resident.phone == "13700000000"
    entry = AuditLog.objects.get(action=Action.UPDATE, object_id=str(resident.pk))
    assert entry.changes["phone"] == ["13900000001", "13700000000"]
    assert entry.changes["household_id"][1] == resident.household_id
    summary = AuditLog.objects.filter(action=Action.IMPORT).order_by("id").last()
    assert summary.changes["updated"] == 1 and summary.changes["file"] == "roster2.csv"


def test_an_existing_resident_is_matched_by_document(city, tmp_path):
    zhang = city.residents["zhangwei"]
    row = person(1, 姓名="张伟", 证件号码=zhang.doc_number, 联系电话=zhang.phone, 楼栋="1栋", 房号="101")
    result = run(write_csv(tmp_path / "roster.csv", [row]))
    assert result.summary() == {"created": 0, "updated": 0, "unchanged": 1, "errors": 0}


def test_an_unknown_community_is_a_row_error_unless_areas_may_be_created(city, tmp_path):
    rows = [person(1, 社区="新建社区"), person(2, 区="新区", 街道="新街道", 社区="新社区")]
    path = write_csv(tmp_path / "roster.csv", rows)
    result = run(path)
    assert result.created == 0
    assert [(e.row, e.column) for e in result.errors] == [(2, "社区"), (3, "区")]
    assert "不存在" in result.errors[0].message or "新建社区" in result.errors[0].message

    result = run(path, create_areas=True)
    assert result.created == 2
    community = Area.objects.get(name="新建社区")
    assert community.code == "420102001002" and community.parent == city.areas["dazhi"]
    district = Area.objects.get(name="新区")
    assert district.code == "420107" and len(Area.objects.get(name="新社区").code) == 12


def test_a_web_user_may_only_import_into_their_scope(city, tmp_path):
    rows = [person(1), person(2, 区="武昌区", 街道="紫阳街道", 社区="紫阳社区", 小区="紫阳小区")]
    result = run(write_csv(tmp_path / "roster.csv", rows), user=city.users["community"], create_areas=True)
    assert result.created == 1
    assert [(e.row, e.column) for e in result.errors] == [(3, "社区")]
    assert ImportBatch.objects.get(pk=result.batch_id).area_code == "420102001001"


def test_a_web_user_cannot_move_a_resident_registered_outside_their_scope(city, tmp_path):
    liu = city.residents["liuyang"]  # lives in 紫阳社区
    row = person(1, 姓名="刘洋改名", 证件号码=liu.doc_number)
    result = run(write_csv(tmp_path / "roster.csv", [row]), user=city.users["community"])
    assert result.summary()["errors"] == 1
    message = result.errors[0].message
    assert liu.name not in message and "紫阳" not in message
    liu.refresh_from_db()
    assert liu.name == "刘洋" and liu.household == city.households["z301"]


def test_users_without_import_rights_are_refused(city, tmp_path):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        run(write_csv(tmp_path / "roster.csv", [person(1)]), user=city.users["grid_a"])


def test_a_crash_during_the_write_phase_leaves_nothing(city, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer, "update_changed", boom)
    with pytest.raises(RuntimeError):
        run(write_csv(tmp_path / "roster.csv", [person(1)]))
    assert not Resident.objects.filter(name="居民1").exists()
    assert not Building.objects.filter(name="3栋").exists()
    assert not ImportBatch.objects.exists()


def test_the_template_has_the_headers_an_example_and_instructions(city, tmp_path):
    workbook = load_workbook(io.BytesIO(roster_template()))
    roster, notes = workbook.worksheets
    assert [c.value for c in roster[1]] == HEADERS
    assert roster.max_row == 2 and notes.max_row > 17
    (tmp_path / "template.xlsx").write_bytes(roster_template())
    result = run(tmp_path / "template.xlsx")  # the example row is valid (it is 张伟 of the test city)
    assert result.errors == [] and result.created + result.updated == 1


def test_the_command_prints_the_counts_as_its_last_json_line(city, tmp_path, capsys):
    path = write_csv(tmp_path / "roster.csv", [person(1), person(2, 联系电话="bad")])
    report = tmp_path / "errors.xlsx"
    call_command("import-residents", str(path), "--create-housing", "--report", str(report))
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(last) == {"created": 1, "updated": 0, "unchanged": 0, "errors": 1}
    assert load_workbook(report).active.max_row == 2


def test_the_command_fails_on_an_unreadable_file(city, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(CommandError):
        call_command("import-residents", str(path))


def test_a_roster_longer_than_a_chunk_is_written_chunk_by_chunk_with_the_same_result(city, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "CHUNK_ROWS", 3)
    rows = [person(seq, room=f"{300 + seq % 4}") for seq in range(1, 11)]
    rows.insert(7, person(2, 姓名="重复"))  # row 9 of the file repeats row 3's document, two chunks later
    rows.insert(4, person(90, 联系电话="12345"))  # row 6: a bad phone in the second chunk
    result = run(write_csv(tmp_path / "roster.csv", rows))
    assert result.summary() == {"created": 10, "updated": 0, "unchanged": 0, "errors": 2}
    assert [(e.row, e.column) for e in result.errors] == [(6, "联系电话"), (10, "证件号码")]
    assert Resident.objects.filter(name__startswith="居民").count() == 10
    assert Household.objects.filter(building__name="3栋").count() == 4
    again = run(write_csv(tmp_path / "roster.csv", rows))
    assert again.summary() == {"created": 0, "updated": 0, "unchanged": 10, "errors": 2}


def test_a_crash_in_a_later_chunk_leaves_nothing_of_the_earlier_ones(city, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "CHUNK_ROWS", 2)
    real_insert = importer.insert_new
    calls = []

    def insert_then_fail(rows, now):
        calls.append(len(rows))
        if len(calls) == 3:
            raise RuntimeError("connection lost")
        return real_insert(rows, now)

    monkeypatch.setattr(importer, "insert_new", insert_then_fail)
    with pytest.raises(RuntimeError):
        run(write_csv(tmp_path / "roster.csv", [person(seq) for seq in range(1, 7)]))
    assert calls == [2, 2, 2]
    assert not Resident.objects.filter(name__startswith="居民").exists()
    assert not Building.objects.filter(name="3栋").exists() and not ImportBatch.objects.exists()


def test_a_file_that_breaks_while_being_read_is_a_file_error_and_writes_nothing(city, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "CHUNK_ROWS", 2)
    real_rows = importer.iter_file_rows

    def rows_then_broken(source, filename):
        yield from real_rows(source, filename)
        raise ImportFileError("The CSV file is malformed")  # after three chunks were read and written

    monkeypatch.setattr(importer, "iter_file_rows", rows_then_broken)
    with pytest.raises(ImportFileError):
        run(write_csv(tmp_path / "roster.csv", [person(seq) for seq in range(1, 7)]))
    assert not Resident.objects.filter(name__startswith="居民").exists() and not ImportBatch.objects.exists()


# ---------------------------------------------------------------- typos never become housing (defect 4)

def at_building_one(seq: int, **place) -> dict[str, object]:
    return person(seq, room="101", **{"楼栋": "1栋", **place})


@pytest.mark.parametrize("written", ["1 栋", "一栋", "１号楼", "1幢", "第一栋", "1"])
@pytest.mark.parametrize("create_housing", [False, True])
def test_every_spelling_of_an_existing_building_finds_it(city, tmp_path, written, create_housing):
    before = Building.objects.count(), Unit.objects.count(), Household.objects.count()
    rows = [at_building_one(1, 楼栋=written, 单元="一单元"), at_building_one(2, 楼栋=written, 单元="1 单元", 房号="101室")]
    result = run(write_csv(tmp_path / "roster.csv", rows), create_housing=create_housing)
    assert result.summary() == {"created": 2, "updated": 0, "unchanged": 0, "errors": 0}
    assert (Building.objects.count(), Unit.objects.count(), Household.objects.count()) == before
    assert {r.household for r in Resident.objects.filter(name__in=["居民1", "居民2"])} == {city.households["a101"]}


def test_an_unknown_building_unit_or_compound_is_a_row_error_with_the_nearest_name(city, tmp_path):
    rows = [
        at_building_one(1, 楼栋="99栋"),  # row 2: no such building
        at_building_one(2, 楼栋="12栋"),  # row 3: no such building either (1栋 and 2栋 are near)
        at_building_one(3, 单元="9单元"),  # row 4: no such unit
        at_building_one(4, 小区="青和居小去"),  # row 5: one wrong character
        at_building_one(5, 社区="青和居社去"),  # row 6: the community, one wrong character
        at_building_one(6),  # row 7: fine
    ]
    before = Compound.objects.count(), Building.objects.count(), Unit.objects.count()
    result = run(write_csv(tmp_path / "roster.csv", rows), create_housing=False)
    assert result.created == 1
    assert [(e.row, e.column) for e in result.errors] == [(2, "楼栋"), (3, "楼栋"), (4, "单元"), (5, "小区"), (6, "社区")]
    messages = [e.message for e in result.errors]
    assert "99栋" in messages[0]
    assert "1栋" in messages[1] or "2栋" in messages[1]
    assert "1单元" in messages[2]
    assert "青和居小区" in messages[3] and "青和居社区" in messages[4]
    assert (Compound.objects.count(), Building.objects.count(), Unit.objects.count()) == before


def test_new_housing_is_created_only_when_asked_and_always_in_a_grid(city, tmp_path):
    rows = [person(1, 小区="长江华庭", 楼栋="一栋"), person(2, 区="武昌区", 街道="紫阳街道", 社区="紫阳社区", 小区="紫阳小区", 楼栋="5号楼")]
    path = write_csv(tmp_path / "roster.csv", rows)
    assert run(path, create_housing=False).created == 0
    result = run(path, create_housing=True)
    assert result.created == 2
    new_compound = Building.objects.get(compound__name="长江华庭")
    assert new_compound.name == "1栋" and new_compound.grid == city.areas["grid_a"]
    # 紫阳社区 had no grid: it gets its default grid, and the new building is in it.
    ziyang = Building.objects.get(compound=city.compounds["ziyang"], name="5栋")
    assert ziyang.grid is not None and ziyang.grid.parent == city.areas["ziyangc"]
    assert ziyang.grid.code == "420106001001001"
    assert Resident.objects.get(name="居民2").area_code == ziyang.grid.code


# ---------------------------------------------------------------- IDs Excel stored as numbers (defect 11)

def test_an_id_number_excel_stored_as_a_number_is_explained_as_such_not_as_a_bad_check_digit(city, tmp_path):
    valid = make_id_number("420102", dt.date(1985, 3, 2), 19)
    rounded = int(valid[:15] + "000")  # what Excel keeps: 15 significant digits
    rows = [person(1, 证件号码=float(valid)), person(2, 证件号码=rounded)]
    xlsx_result = run(write_xlsx(tmp_path / "roster.xlsx", rows))
    csv_rows = [person(3, 证件号码="4.20102198503021E+17"), person(4, 证件号码=str(rounded)),
                person(5, 证件号码=valid[:-1] + ("1" if valid[-1] != "1" else "2"))]
    csv_result = run(write_csv(tmp_path / "roster.csv", csv_rows))
    assert xlsx_result.created == 0 and csv_result.created == 0
    with translation.override("zh-hans"):
        check = gettext("The check digit of the ID number is wrong.")
    messages = [e.message for e in xlsx_result.errors + csv_result.errors]
    assert [e.column for e in xlsx_result.errors + csv_result.errors] == ["证件号码"] * 5
    assert all("Excel" in m for m in messages[:4]), messages
    assert messages[4] == check


# ---------------------------------------------------------------- the optional 网格 column

def test_the_grid_column_assigns_the_households_building_to_the_grid(city, tmp_path):
    headers = [*HEADERS]
    assert headers[-1] == "网格"
    wang = city.residents["wangfang"]  # lives in 2栋 (grid B), not in the file
    rows = [
        at_building_one(1, 楼栋="2栋", 网格="第一网格"),  # row 2: 2栋 moves from grid B to grid A (by name)
        at_building_one(2, 楼栋="2栋", 网格="420102001001001"),  # row 3: the same grid, by its code
        at_building_one(3, 楼栋="2栋", 网格="第二网格"),  # row 4: contradicts row 2
        at_building_one(4, 网格="第三网格"),  # row 5: no such grid
        at_building_one(5, 网格="第一网格"),  # row 6: 1栋 is already in grid A
        person(6, 小区="新小区", 楼栋="1栋", 网格="第二网格"),  # row 7: a new building goes to the given grid
    ]
    result = run(write_csv(tmp_path / "roster.csv", rows))
    assert [(e.row, e.column) for e in result.errors] == [(4, "网格"), (5, "网格")]
    assert "2" in result.errors[0].message
    assert "第一网格" in result.errors[1].message or "第二网格" in result.errors[1].message  # the nearest name
    assert result.created == 4
    b2 = Building.objects.get(pk=city.buildings["b2"].pk)
    assert b2.grid == city.areas["grid_a"] and b2.area_code == city.areas["grid_a"].code
    assert set(Household.objects.filter(building=b2).values_list("area_code", flat=True)) == {city.areas["grid_a"].code}
    wang.refresh_from_db()
    assert wang.area_code == city.areas["grid_a"].code  # everyone in the building follows it
    assert Building.objects.get(compound__name="新小区").grid == city.areas["grid_b"]
    assert AuditLog.objects.filter(object_type="areas.building", object_id=str(b2.pk), action=Action.UPDATE).exists()
    again = run(write_csv(tmp_path / "roster.csv", rows))
    assert (again.created, again.updated) == (0, 0)


def test_a_grid_of_another_community_is_unknown_here(city, tmp_path):
    create_default_grid(city.areas["ziyangc"])  # 紫阳社区's 第一网格, named like 青和居's
    other = Area.objects.get(parent=city.areas["ziyangc"], level="grid")
    result = run(write_csv(tmp_path / "roster.csv", [at_building_one(1, 网格=other.code)]))
    assert [(e.row, e.column) for e in result.errors] == [(2, "网格")]

"""Area tree import (统计用区划代码): a city set up from the official code list, idempotent, renames
as updates, per-row errors, each new community with its default grid; then the roster import works
on an empty database."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from fangkong.areas.models import Area, Building, Level
from fangkong.audit.models import Action, AuditLog
from fangkong.core.identity import make_id_number
from fangkong.core.tabular import COLUMNS
from fangkong.people.importing.areas import import_areas, parse_code
from fangkong.people.models import ImportBatch, Resident

pytestmark = pytest.mark.django_db

OFFICIAL = [
    ("420000000000", "湖北省"),
    ("420100000000", "武汉市"),
    ("420101000000", "市辖区"),
    ("420102000000", "江岸区"),
    ("420102001000", "大智街道"),
    ("420102001001", "青和居社区"),
    ("420102001002", "长江社区"),
    ("420106000000", "武昌区"),
    ("420106001000", "紫阳街道"),
    ("420106001001", "紫阳社区"),
]


def write_csv(path, rows, header=("统计用区划代码", "名称")):
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run(path, **kwargs):
    return import_areas(path, filename=path.name, **kwargs)


@pytest.mark.parametrize(("official", "expected"), [
    ("420100000000", ("4201", Level.CITY)), ("420102000000", ("420102", Level.DISTRICT)),
    ("420102001000", ("420102001", Level.STREET)), ("420102001001", ("420102001001", Level.COMMUNITY)),
    ("420102", ("420102", Level.DISTRICT)), (420102001001.0, ("420102001001", Level.COMMUNITY)),
    ("420000000000", ("", "province")), ("4201020", None), ("42ab", None), ("420002", None),
])
def test_official_codes_are_read_as_fangkong_codes(official, expected):
    assert parse_code(official) == expected


def test_an_empty_database_gets_its_city_from_the_official_list_and_a_reimport_changes_nothing(db, tmp_path):
    path = write_csv(tmp_path / "areas.csv", OFFICIAL)
    result = run(path)
    assert result.summary() == {"created": 8, "updated": 0, "unchanged": 0, "errors": 0}  # no province, no 市辖区
    assert list(Area.objects.filter(level=Level.CITY).values_list("code", "name")) == [("4201", "武汉市")]
    community = Area.objects.get(code="420102001001")
    assert (community.name, community.level, community.parent.code) == ("青和居社区", Level.COMMUNITY, "420102001")
    assert Area.objects.get(code="420106").parent.code == "4201"
    # Every new community has its default grid.
    grids = Area.objects.filter(level=Level.GRID)
    assert sorted(g.code for g in grids) == ["420102001001001", "420102001002001", "420106001001001"]
    assert ImportBatch.objects.get(pk=result.batch_id).kind == "areas"
    assert AuditLog.objects.filter(action=Action.IMPORT, object_id=str(result.batch_id)).exists()

    again = run(path)
    assert again.summary() == {"created": 0, "updated": 0, "unchanged": 8, "errors": 0}
    assert Area.objects.count() == 11


def test_a_rename_is_an_update_and_bad_rows_are_reported_per_row(db, tmp_path):
    run(write_csv(tmp_path / "areas.csv", OFFICIAL))
    rows = [
        ("420102001001", "青和居社区（新）"),  # row 2: renamed
        ("420102001003", ""),  # row 3: no name
        ("4201020010", "坏代码"),  # row 4: not a code
        ("420107001000", "无主街道"),  # row 5: its district is nowhere
        ("420102001004", "长江社区"),  # row 6: the name of a sibling
        ("420102001001", "重复"),  # row 7: the code again
        ("420102001005", "新社区"),  # row 8: created
    ]
    result = run(write_csv(tmp_path / "changes.csv", rows))
    assert result.summary() == {"created": 1, "updated": 1, "unchanged": 0, "errors": 5}
    assert [(e.row, e.column) for e in result.errors] == [
        (3, "名称"), (4, "统计用区划代码"), (5, "统计用区划代码"), (6, "名称"), (7, "统计用区划代码")]
    assert Area.objects.get(code="420102001001").name == "青和居社区(新)"  # full-width folded
    assert AuditLog.objects.filter(action=Action.UPDATE, object_id=str(Area.objects.get(code="420102001001").pk)).exists()
    assert Area.objects.filter(parent__code="420102001005", level=Level.GRID).count() == 1


def test_an_xlsx_file_with_numeric_code_cells_and_extra_columns_is_read(db, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["统计用区划代码", "城乡分类代码", "名称"])
    for code, name in OFFICIAL:
        sheet.append([int(code), 111 if code.endswith("001") else None, name])
    workbook.save(tmp_path / "areas.xlsx")
    assert run(tmp_path / "areas.xlsx").summary()["created"] == 8


def test_only_a_city_commander_may_import_areas_and_only_in_their_city(city, tmp_path):
    path = write_csv(tmp_path / "areas.csv", [("420102001009", "新社区"), ("420300000000", "十堰市")])
    for persona in ("district", "community", "grid_a"):
        with pytest.raises(PermissionDenied):
            run(path, user=city.users[persona])
    result = run(path, user=city.users["city"])
    assert result.created == 1 and [(e.row, e.column) for e in result.errors] == [(3, "统计用区划代码")]
    assert ImportBatch.objects.get(pk=result.batch_id).area_code == "4201"


def test_the_command_prints_its_counts_last_and_the_roster_import_then_works_on_an_empty_database(db, tmp_path, capsys):
    roster = tmp_path / "roster.csv"
    with open(roster, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow([zh for _key, zh in COLUMNS])
        place = {"district": "江岸区", "street": "大智街道", "community": "长江社区", "compound": "长江华庭",
                 "building": "1栋", "unit": "1单元", "room": "101", "name": "张三",
                 "doc_number": make_id_number("420102", dt.date(1980, 1, 1), 7)}
        writer.writerow([place.get(key, "") for key, _zh in COLUMNS])
    with pytest.raises(CommandError):  # no city yet: the roster cannot guess one
        call_command("import-residents", str(roster), "--create-areas")

    call_command("import-areas", str(write_csv(tmp_path / "areas.csv", OFFICIAL)))
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {
        "created": 8, "updated": 0, "unchanged": 0, "errors": 0}
    call_command("import-residents", str(roster), "--create-areas")
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {
        "created": 1, "updated": 0, "unchanged": 0, "errors": 0}
    building = Building.objects.get(compound__name="长江华庭")
    assert building.grid.code == "420102001002001"  # the default grid of the imported community
    assert Resident.objects.get(name="张三").area_code == "420102001002001"


def test_the_area_import_screen_is_for_city_commanders_and_linked_from_the_import_page(city, login, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    assert login(city.users["district"]).get("/import/areas/").status_code == 403
    assert "/import/areas/" not in login(city.users["district"]).get("/import/").content.decode()
    client = login(city.users["city"])
    assert "/import/areas/" in client.get("/import/").content.decode()
    assert client.get("/import/areas/").status_code == 200
    content = "统计用区划代码,名称\n420102001009,新社区\n420102001010,\n".encode()
    response = client.post("/import/areas/", {"file": SimpleUploadedFile("areas.csv", content)})
    assert response.status_code == 302
    page = client.get(response["Location"], follow=True)  # the job's page, then its result
    assert page.status_code == 200 and "/report/" in page.content.decode()
    batch = ImportBatch.objects.get(kind="areas")
    assert (batch.created, batch.error_rows) == (1, 1)
    assert client.get(f"/import/{batch.pk}/report/").status_code == 200
    bad = client.post("/import/areas/", {"file": SimpleUploadedFile("areas.txt", b"x")})
    assert bad.status_code == 400

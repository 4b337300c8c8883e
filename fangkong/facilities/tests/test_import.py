"""Facilities with their beds from a file: created, updated where the file differs, unchanged on a second
run; per-row errors in a report; the command prints its counts as one JSON line last; the screen is for
city and district commanders, within their area."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from openpyxl import Workbook, load_workbook

from fangkong.facilities.importing import import_facilities
from fangkong.facilities.models import BedPool, Facility, FacilityImport

pytestmark = pytest.mark.django_db

HEADER = "名称,类型,区,地址,经度,纬度,重症监护床位,普通床位,单间,电话"


def csv_file(*rows: str) -> io.BytesIO:
    return io.BytesIO("\n".join([HEADER, *rows]).encode("utf-8"))


def beds(name: str) -> dict[str, int]:
    return dict(BedPool.objects.filter(facility__name=name).values_list("kind", "capacity"))


def test_a_file_creates_then_updates_then_changes_nothing(city):
    rows = ("火神山医院,定点医院,420102,知音湖大道,114.09,30.53,30,970,,027-1", "江岸区新方舱,方舱医院,江岸区,会展中心,114.31,30.62,,800,,")
    first = import_facilities(csv_file(*rows), filename="f.csv")
    assert first.summary() == {"created": 2, "updated": 0, "unchanged": 0, "errors": 0}
    hospital = Facility.objects.get(name="火神山医院")
    assert (hospital.kind, hospital.area.code, str(hospital.longitude)) == ("designated_hospital", "420102", "114.090000")
    assert beds("火神山医院") == {"icu": 30, "ordinary": 970} and beds("江岸区新方舱") == {"ordinary": 800}
    assert import_facilities(csv_file(*rows), filename="f.csv").summary() == {"created": 0, "updated": 0, "unchanged": 2, "errors": 0}
    changed = ("火神山医院,定点医院,420102,知音湖大道,114.09,30.53,30,1000,,027-1", rows[1])
    assert import_facilities(csv_file(*changed), filename="f.csv").summary() == {"created": 0, "updated": 1, "unchanged": 1, "errors": 0}
    assert beds("火神山医院")["ordinary"] == 1000


def test_bad_rows_are_reported_per_column_and_the_others_imported(city):
    result = import_facilities(csv_file(
        "好医院,医院,420102,,114.1,30.5,,10,,",  # unknown kind
        "远医院,定点医院,999999,,114.1,30.5,,10,,",  # unknown district code
        "偏医院,定点医院,江岸区,,214.1,30.5,,10,,",  # longitude out of range
        "多医院,定点医院,江岸区,,114.1,30.5,,十张,,",  # beds not a number
        ",定点医院,江岸区,,114.1,30.5,,10,,",  # no name
        "对医院,定点医院,江岸区,,114.1,30.5,,10,,",
        "对医院,定点医院,江岸区,,114.1,30.5,,12,,",  # the same name twice
    ), filename="bad.csv")
    assert result.summary() == {"created": 1, "updated": 0, "unchanged": 0, "errors": 6}
    assert [(e.row, e.column) for e in result.errors] == [(2, "类型"), (3, "区"), (4, "经度"), (5, "普通床位"), (6, "名称"), (8, "名称")]
    report = load_workbook(io.BytesIO(bytes(FacilityImport.objects.get(pk=result.batch_id).report)))
    assert report.worksheets[0].max_row == 7  # the header and one line per error


def test_a_capacity_below_the_beds_in_use_is_refused(city):
    BedPool.objects.filter(facility=city.facilities["shelter"], kind="ordinary").update(occupied=6)
    result = import_facilities(csv_file("江岸方舱医院,方舱医院,420102,,114.31,30.62,,5,,"), filename="f.csv")
    assert result.summary()["errors"] == 1 and "6 beds of this kind are in use" in result.errors[0].message
    assert beds("江岸方舱医院")["ordinary"] == 10


def test_the_command_prints_one_json_line_last(city, tmp_path, capsys):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    sheet.append(["雷神山医院", "定点医院", "420102", "", 114.2, 30.4, 48, 1552, None, None])
    sheet.append(["坏行", "定点医院", "420102", "", "东经", 30.4, None, 1, None, None])
    path = tmp_path / "facilities.xlsx"
    workbook.save(path)
    call_command("import-facilities", str(path), "--report", str(tmp_path / "errors.xlsx"))
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(last) == {"created": 1, "updated": 0, "unchanged": 0, "errors": 1}
    assert (tmp_path / "errors.xlsx").exists() and beds("雷神山医院") == {"icu": 48, "ordinary": 1552}


def test_the_screen_is_for_commanders_and_keeps_to_their_area(city, login):
    upload = SimpleUploadedFile("f.csv", "\n".join([HEADER, "新隔离点,集中隔离点,江岸区,,114.3,30.6,,,50,",
                                                    "武昌隔离点,集中隔离点,武昌区,,114.3,30.5,,,50,"]).encode())
    assert login(city.users["community"]).get("/facilities/import/").status_code == 403
    client = login(city.users["district"])  # 江岸区
    assert "/facilities/import/" in client.get("/facilities/").content.decode()
    response = client.post("/facilities/import/", {"file": upload})
    assert response.status_code == 302
    page = client.get(response.url, follow=True).content.decode()  # the job's page, then its result
    assert 'id="count-created"><b>1</b>' in page and "This district is not in your area of responsibility." in page
    assert Facility.objects.filter(name="新隔离点").exists() and not Facility.objects.filter(name="武昌隔离点").exists()
    bad = client.post("/facilities/import/", {"file": SimpleUploadedFile("f.txt", b"x")})
    assert bad.status_code == 200 and "Only .xlsx and .csv files can be imported." in bad.content.decode()
    assert client.get("/facilities/import/template/").status_code == 200

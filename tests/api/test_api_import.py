"""Roster import through the API: a multipart upload, counts and row errors back, scope respected."""

import csv
import datetime as dt
import io

import pytest

from fangkong.core.identity import make_id_number
from fangkong.people.models import ImportBatch, Resident

HEADER = ["姓名", "证件号码", "联系电话", "区", "街道", "社区", "小区", "楼栋", "单元", "房号"]
PLACE = ["江岸区", "大智街道", "青和居社区", "青和居小区", "1栋", "1单元", "301"]


def roster(*rows: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def good_row(seq: int) -> list[str]:
    return [f"居民{seq}", make_id_number("420102", dt.date(1970, 1, seq), 100 + seq), f"139{seq:08d}", *PLACE]


def test_a_community_worker_imports_a_roster_and_gets_counts_and_row_errors(city, api):
    content = roster(good_row(1), good_row(2), ["坏人", "123", "", *PLACE])
    response = api("community").upload("/api/imports/residents", "roster.csv", content)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["created"], body["updated"], body["error_rows"]) == (2, 0, 1)
    assert body["errors"][0]["row"] == 4 and body["errors"][0]["column"] == "证件号码"
    assert not body["errors_truncated"]
    assert ImportBatch.objects.filter(pk=body["batch_id"]).exists()
    assert Resident.objects.filter(name__startswith="居民").count() == 2


def test_a_building_that_does_not_exist_is_created_only_when_asked(city, api):
    content = roster([*good_row(1)[:3], *PLACE[:4], "9栋", "1单元", "101"])
    refused = api("community").upload("/api/imports/residents", "roster.csv", content).json()
    assert (refused["created"], refused["errors"][0]["column"]) == (0, "楼栋")
    allowed = api("community").upload("/api/imports/residents?create_housing=true", "roster.csv", content).json()
    assert allowed["created"] == 1


@pytest.mark.parametrize("persona", ["grid_a", "volunteer", "guard"])
def test_roles_without_import_rights_get_403(city, api, persona):
    response = api(persona).upload("/api/imports/residents", "roster.csv", roster(good_row(1)))
    assert response.status_code == 403
    assert not Resident.objects.filter(name="居民1").exists()


@pytest.mark.parametrize(("filename", "content"), [
    ("roster.txt", b"whatever"),
    ("roster.csv", b""),
    ("roster.csv", "姓名,备注\n张三,x\n".encode()),  # required columns missing
    ("roster.xlsx", b"not a zip file"),
])
def test_an_unreadable_file_is_a_field_error_on_file(city, api, filename, content):
    response = api("community").upload("/api/imports/residents", filename, content)
    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["loc"] == ["body", "file"]


def test_an_upload_over_the_limit_is_refused(city, api, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 10
    response = api("community").upload("/api/imports/residents", "roster.csv", roster(good_row(1)))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]


def test_a_missing_file_is_a_422(city, api):
    response = api("community").post("/api/imports/residents")
    assert response.status_code == 422

"""The roster import screens: who may import, form errors, the result page and the error report."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from django.utils.translation import gettext
from openpyxl import Workbook, load_workbook

from fangkong.accounts.models import Role, User
from fangkong.areas.models import Household
from fangkong.audit.models import Action, AuditLog
from fangkong.core.identity import make_id_number
from fangkong.core.tabular import COLUMNS
from fangkong.jobs.models import Job
from fangkong.people.models import ImportBatch, Resident

pytestmark = pytest.mark.django_db

HEADERS = [zh for _key, zh in COLUMNS]
QINGHE = {"区": "江岸区", "街道": "大智街道", "社区": "青和居社区", "小区": "青和居小区", "楼栋": "1栋", "单元": "1单元", "房号": "103"}
ZIYANG = {"区": "武昌区", "街道": "紫阳街道", "社区": "紫阳社区", "小区": "紫阳小区", "楼栋": "1栋", "单元": "1单元", "房号": "302"}


def person(seq: int, place: dict, **overrides) -> dict:
    birth = dt.date(1970 + seq, 5, 1 + seq)
    return {"姓名": f"居民{seq}", "证件号码": make_id_number("420102", birth, 200 + seq), "联系电话": f"1390000{seq:04d}",
            **place, **overrides}


def xlsx(rows: list[dict], headers=HEADERS, name: str = "名册.xlsx") -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h) for h in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def upload(client, file):
    return client.post("/import/", {"file": file})


@pytest.fixture
def batch(city, login):
    """The 青和居 community worker imports one good row and one row for 紫阳社区, outside his scope."""
    response = upload(login(city.users["community"]), xlsx([person(1, QINGHE), person(2, ZIYANG)]))
    assert response.status_code == 302
    return ImportBatch.objects.get()


def test_only_importers_see_the_import_page(city, login):
    assert login(city.users["grid_a"]).get("/import/").status_code == 403
    assert login(city.users["volunteer"]).get("/import/").status_code == 403
    page = login(city.users["community"]).get("/import/")
    assert page.status_code == 200
    assert "/import/template/" in page.content.decode()


def test_the_template_downloads_as_an_xlsx_with_the_headers(city, login):
    response = login(city.users["community"]).get("/import/template/")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"] and "xlsx" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [cell.value for cell in sheet[1]] == HEADERS


def test_a_file_that_is_not_xlsx_or_csv_is_a_form_error(city, login):
    response = upload(login(city.users["community"]), SimpleUploadedFile("名册.xls", b"old excel"))
    assert response.status_code == 200
    assert "file" in response.context["form"].errors
    assert not ImportBatch.objects.exists()


def test_a_file_over_the_size_limit_is_a_form_error(city, login, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    response = upload(login(city.users["community"]), xlsx([person(1, QINGHE)]))
    assert "file" in response.context["form"].errors
    assert not ImportBatch.objects.exists()


def test_a_file_without_the_required_columns_is_a_form_error(city, login):
    response = upload(login(city.users["community"]), xlsx([{"姓名": "张三"}], headers=["姓名", "电话"]))
    assert response.status_code == 200
    assert "证件号码" in response.context["form"].errors["file"][0]
    assert not ImportBatch.objects.exists()


def test_a_row_outside_the_workers_community_is_a_row_error(city, login, batch):
    assert (batch.created, batch.error_rows) == (1, 1)
    assert Resident.objects.filter(name="居民1").exists() and not Resident.objects.filter(name="居民2").exists()
    response = login(city.users["community"]).get(f"/import/{batch.pk}/")
    assert response.status_code == 200
    with translation.override("zh-hans"):
        reason = gettext("This community is outside your area of responsibility.")
    [(row, column, shown_reason, original)] = response.context["errors"]
    assert (row, column, shown_reason) == (3, "社区", reason)
    # The row's cells are shown with the ID number and phone masked.
    number = person(2, ZIYANG)["证件号码"]
    assert "姓名：居民2" in original and "紫阳小区" in original
    assert number not in original and f"证件号码：{number[:4]}**********{number[-4:]}" in original
    assert "联系电话：139****0002" in original
    page = response.content.decode()
    assert reason in page and f"/import/{batch.pk}/report/" in page and number not in page


def test_the_uploader_and_covering_commanders_download_the_report(city, login, batch):
    number = person(2, ZIYANG)["证件号码"]
    for who in ("community", "district", "city", "root"):
        response = login(city.users[who]).get(f"/import/{batch.pk}/report/")
        assert response.status_code == 200, who
        workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
        assert list(workbook["错误明细"].iter_rows(min_row=2, values_only=True))[0][:2] == (3, "社区")
        row = dict(zip(HEADERS + ["原行号", "错误原因"], next(workbook.active.iter_rows(min_row=2, values_only=True)), strict=True))
        assert row["原行号"] == 3 and row["错误原因"].startswith("社区")
        # Only the uploader gets the cells as uploaded; the others a masked copy.
        assert (row["证件号码"] == number) is (who == "community"), who
        assert (row["联系电话"] == "13900000002") is (who == "community"), who
    assert AuditLog.objects.filter(action=Action.EXPORT, object_id=str(batch.pk)).count() == 4


def test_the_uploader_corrects_the_rows_in_the_report_and_imports_the_report_itself(city, login):
    client = login(city.users["community"])
    good = person(1, QINGHE)
    bad_phone = person(3, QINGHE, 联系电话="12345", 房号="104")
    typo = person(4, {**QINGHE, "楼栋": "一号搂"}, 房号="105")  # 搂: one wrong character
    assert upload(client, xlsx([good, bad_phone, typo])).status_code == 302
    batch = ImportBatch.objects.latest("pk")
    assert (batch.created, batch.error_rows) == (1, 2)
    report = b"".join(client.get(f"/import/{batch.pk}/report/").streaming_content)
    workbook = load_workbook(io.BytesIO(report))
    sheet = workbook.active
    header = [c.value for c in sheet[1]]
    for cells in sheet.iter_rows(min_row=2):
        row = dict(zip(header, cells, strict=True))
        if row["原行号"].value == 3:
            row["联系电话"].value = "13900000003"
        else:
            row["楼栋"].value = "1栋"
    fixed = io.BytesIO()
    workbook.save(fixed)
    response = upload(client, SimpleUploadedFile("导入错误报告.xlsx", fixed.getvalue()))
    assert response.status_code == 302
    again = ImportBatch.objects.latest("pk")
    assert (again.created, again.error_rows) == (2, 0)
    assert Resident.objects.get(name="居民3").phone == "13900000003"
    assert Resident.objects.get(name="居民4").household == Household.objects.get(building=city.buildings["a1"], room="105")


def test_another_community_worker_gets_404_for_the_batch(city, login, batch):
    client = login(city.users["other_community"])
    assert client.get(f"/import/{batch.pk}/").status_code == 404
    assert client.get(f"/import/{batch.pk}/report/").status_code == 404
    assert f"/import/{batch.pk}/" not in client.get("/import/").content.decode()


def test_a_commander_of_another_district_gets_404(city, login, batch):
    wuchang = User.objects.create_user("wuchang", role=Role.DISTRICT_COMMANDER, area=city.areas["wuchang"])
    assert login(wuchang).get(f"/import/{batch.pk}/report/").status_code == 404


def test_users_who_cannot_import_get_403_for_batches(city, login, batch):
    assert login(city.users["grid_a"]).get(f"/import/{batch.pk}/").status_code == 403


def test_a_clean_file_has_no_report_link(city, login):
    client = login(city.users["community"])
    response = upload(client, xlsx([person(3, QINGHE)]))
    batch = ImportBatch.objects.get()
    job = Job.objects.get()  # the upload became a background job; its page sends its owner on to the result
    assert response["Location"] == f"/jobs/{job.pk}/"
    result = client.get(response["Location"])
    assert result["Location"] == f"/import/{batch.pk}/"
    page = client.get(result["Location"]).content.decode()
    assert "/report/" not in page
    assert client.get(f"/import/{batch.pk}/report/").status_code == 404
    assert batch.filename in client.get("/import/").content.decode()


def test_a_csv_roster_in_gbk_is_imported_too(city, login):
    row = person(4, QINGHE)
    text = ",".join(HEADERS) + "\r\n" + ",".join(str(row.get(h, "")) for h in HEADERS) + "\r\n"
    response = upload(login(city.users["community"]), SimpleUploadedFile("名册.CSV", text.encode("gbk")))
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    assert (batch.created, batch.error_rows, batch.user) == (1, 0, city.users["community"])


def test_new_buildings_need_the_box_ticked_on_the_upload_page(city, login):
    client = login(city.users["community"])
    assert 'name="create_housing"' in client.get("/import/").content.decode()
    file = lambda: xlsx([person(1, {**QINGHE, "楼栋": "8号楼"})])  # noqa: E731
    assert client.post("/import/", {"file": file()}).status_code == 302
    assert ImportBatch.objects.latest("pk").created == 0 and not Resident.objects.filter(name="居民1").exists()
    assert client.post("/import/", {"file": file(), "create_housing": "on"}).status_code == 302
    resident = Resident.objects.get(name="居民1")
    assert resident.household.building.name == "8栋" and resident.household.building.grid == city.areas["grid_a"]

"""Accounts in bulk: the import (screen and command), its idempotence and errors, the password sheet, and
the forced password change at the first log-in."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from fangkong.accounts import services
from fangkong.accounts.importer import error_report, import_accounts
from fangkong.accounts.models import ApiToken, Role, User
from fangkong.areas.models import Area, Level
from fangkong.audit.models import Action, AuditLog
from fangkong.core.tabular import ImportFileError

pytestmark = pytest.mark.django_db

HEADER = "用户名,姓名,手机,角色,区域,小区,机构\n"
GOOD = ("wangxm,王小明,13800138001,网格员,420102001001001,,\n"
        "lisi,李四,,志愿者,青和居社区,,\n"
        "menggang,门岗甲,,门岗值守员,,青和居小区,\n")


def _csv(text: str) -> io.BytesIO:
    return io.BytesIO((HEADER + text).encode())


def _import(user, text: str, **kwargs):
    return import_accounts(user, _csv(text), filename="accounts.csv", **kwargs)


def test_a_community_worker_imports_accounts_with_generated_passwords(city):
    result = _import(city.users["community"], GOOD)
    assert result.summary() == {"created": 3, "updated": 0, "unchanged": 0, "errors": 0}
    wang = User.objects.get(username="wangxm")
    assert (wang.role, wang.area.code, wang.phone, wang.first_name) == (Role.GRID_WORKER, "420102001001001",
                                                                         "13800138001", "王小明")
    assert User.objects.get(username="menggang").compound == city.compounds["qinghe"]
    assert User.objects.get(username="lisi").area == city.areas["qinghe"]
    issued = {row.username: row for row in result.issued}
    assert set(issued) == {"wangxm", "lisi", "menggang"}
    assert wang.check_password(issued["wangxm"].password) and wang.must_change_password
    assert issued["wangxm"].role == "Grid worker" and issued["wangxm"].scope.endswith("青和居社区 › 第一网格")
    # The plain password is nowhere in the database, the audit log included.
    assert not AuditLog.objects.filter(changes__icontains=issued["wangxm"].password).exists()
    assert AuditLog.objects.filter(action=Action.CREATE, object_type="accounts.user").count() == 3
    assert AuditLog.objects.get(action=Action.IMPORT, object_type="accounts.user").changes["created"] == 3


def test_importing_again_changes_nothing_and_hands_out_no_new_password(city):
    _import(city.users["community"], GOOD)
    before = dict(User.objects.filter(username__in=["wangxm", "lisi", "menggang"]).values_list("username", "password"))
    result = _import(city.users["community"], GOOD)
    assert result.summary() == {"created": 0, "updated": 0, "unchanged": 3, "errors": 0}
    assert result.issued == []
    changed = GOOD.replace("王小明", "王晓明").replace("420102001001001", "第二网格")
    result = _import(city.users["community"], changed)
    assert result.summary() == {"created": 0, "updated": 1, "unchanged": 2, "errors": 0} and result.issued == []
    wang = User.objects.get(username="wangxm")
    assert (wang.first_name, wang.area.code) == ("王晓明", "420102001001002")
    after = dict(User.objects.filter(username__in=before).values_list("username", "password"))
    assert after == before


def test_every_bad_row_is_reported_and_the_good_ones_are_imported(city):
    rows = GOOD + ("bad1,坏甲,99,网格员,不存在网格,,\n"
                   "bad2,坏乙,,队长,青和居社区,,\n"
                   "bad3,坏丙,,区指挥部,江岸区,,\n"
                   "district,冒名,,网格员,第一网格,,\n"
                   "WANGXM,重复,,网格员,第一网格,,\n"
                   "bad4,,,网格员,,,\n")
    result = _import(city.users["community"], rows)
    assert result.created == 3
    by_row = {}
    for error in result.errors:
        by_row.setdefault(error.row, []).append((error.column, error.message))
    assert set(by_row) == {5, 6, 7, 8, 9, 10}
    assert any(c == "手机" for c, _m in by_row[5])
    assert any(c == "区域" and "不存在网格" in m for c, m in by_row[5])
    assert any(c == "角色" and "Unknown role 队长" in m for c, m in by_row[6])
    assert by_row[7] == [("角色", "You may not grant this role.")]
    assert by_row[8] == [("用户名", "This username is already taken.")]
    assert by_row[9] == [("用户名", "This username is already on row 2 of the file.")]
    assert {c for c, _m in by_row[10]} == {"姓名", "区域"}
    assert result.summary()["errors"] == 6
    assert not User.objects.filter(username__startswith="bad").exists()
    assert User.objects.get(username="district").role == Role.DISTRICT_COMMANDER


def test_a_repeated_area_name_needs_its_path(city):
    Area.objects.create(code="420106001001001", name="第一网格", level=Level.GRID, parent=city.areas["ziyangc"])
    result = _import(city.users["city"], "a1,甲,,网格员,第一网格,,\na2,乙,,网格员,紫阳社区 › 第一网格,,\n")
    assert result.created == 1 and User.objects.get(username="a2").area.code == "420106001001001"
    assert "Several areas are named 第一网格" in result.errors[0].message


def test_facility_staff_are_bound_by_the_facility_name(city):
    result = _import(city.users["city"], "doc1,医生甲,,机构工作人员,,,金银潭医院\n")
    assert result.created == 1
    assert User.objects.get(username="doc1").facility == city.facilities["hospital"]


def test_the_error_report_carries_the_rows_as_written_with_phones_masked(city, login):
    result = _import(city.users["community"], "bad1,坏甲,13912345678,队长,青和居社区,,\n")
    sheet = load_workbook(io.BytesIO(error_report(result))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("用户名", "姓名", "手机", "角色") and rows[0][-2:] == ("Row", "Reason")
    assert rows[1][:4] == ("bad1", "坏甲", "139****5678", "队长") and rows[1][-2] == 2 and "队长" in rows[1][-1]


def test_an_unreadable_file_or_missing_columns_is_refused(city):
    with pytest.raises(ImportFileError):
        import_accounts(city.users["community"], io.BytesIO(b"name,phone\nx,y\n"), filename="a.csv")
    with pytest.raises(ImportFileError):
        import_accounts(city.users["grid_a"], _csv(GOOD), filename="a.csv")
    with pytest.raises(ImportFileError):
        _import(city.users["community"], GOOD, max_rows=2)
    assert not User.objects.filter(username="wangxm").exists()


# --- The command -------------------------------------------------------------------------------------

def test_the_command_prints_the_sheet_then_one_json_line(city, tmp_path, capsys):
    path = tmp_path / "accounts.csv"
    path.write_text(HEADER + GOOD + "bad2,坏乙,,队长,青和居社区,,\n", encoding="utf-8")
    report = tmp_path / "errors.xlsx"
    call_command("import-accounts", str(path), "--report", str(report))
    lines = capsys.readouterr().out.strip().splitlines()
    assert json.loads(lines[-1]) == {"created": 3, "updated": 0, "unchanged": 0, "errors": 1}
    wang = next(line.split("\t") for line in lines if line.startswith("wangxm\t"))
    assert User.objects.get(username="wangxm").check_password(wang[1])
    assert report.exists()
    call_command("import-accounts", str(path), "--as", "community", "--sheet", str(tmp_path / "sheet.html"))
    out = capsys.readouterr().out.strip().splitlines()
    assert out == ['{"created": 0, "updated": 0, "unchanged": 3, "errors": 1}']
    assert not (tmp_path / "sheet.html").exists()  # nothing new: no sheet


def test_the_command_writes_a_printable_sheet(city, tmp_path, capsys):
    path = tmp_path / "accounts.csv"
    path.write_text(HEADER + GOOD, encoding="utf-8")
    sheet = tmp_path / "sheet.html"
    call_command("import-accounts", str(path), "--sheet", str(sheet))
    assert capsys.readouterr().out.strip().splitlines() == ['{"created": 3, "updated": 0, "unchanged": 0, "errors": 0}']
    html = sheet.read_text()
    assert "wangxm" in html and 'class="password"' in html and (sheet.stat().st_mode & 0o077) == 0


# --- The screen --------------------------------------------------------------------------------------

def test_the_import_screen_shows_the_sheet_once_and_stores_no_password(city, login):
    client = login(city.users["community"])
    assert client.get(reverse("manage:list")).content.decode().count(reverse("manage:import")) == 1
    assert client.get(reverse("manage:import")).status_code == 200
    upload = _csv(GOOD + "bad2,坏乙,,队长,青和居社区,,\n")
    upload.name = "accounts.csv"
    response = client.post(reverse("manage:import"), {"file": upload})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert 'id="password-sheet"' in page and "wangxm" in page and 'id="error-report"' in page
    assert response.context["summary"] == {"created": 3, "updated": 0, "unchanged": 0, "errors": 1}
    password = next(r.password for r in response.context["issued"] if r.username == "wangxm")
    assert password not in client.get(reverse("manage:list")).content.decode()
    template = client.get(reverse("manage:import_template"))
    assert load_workbook(io.BytesIO(b"".join(template.streaming_content))).active["A1"].value == "用户名"


def test_the_import_screen_refuses_other_files_and_other_roles(city, login):
    client = login(city.users["community"])
    upload = io.BytesIO(b"x")
    upload.name = "accounts.txt"
    response = client.post(reverse("manage:import"), {"file": upload})
    assert response.status_code == 400 and "file" in response.context["form"].errors
    assert login(city.users["grid_a"]).get(reverse("manage:import")).status_code == 403


# --- The first log-in --------------------------------------------------------------------------------

def _log_in(client, username: str, password: str) -> None:
    response = client.post(reverse("accounts:login"), {"username": username, "password": password})
    assert response.status_code == 302

def test_a_handed_out_password_must_be_changed_before_anything_else(city, client):
    account, password = services.create_account(city.users["community"], services.AccountInput(
        username="newbie", full_name="新人", role=Role.GRID_WORKER, area_code="420102001001001"))
    _log_in(client, "newbie", password)
    change = reverse("accounts:password_change")
    for path in ("/", reverse("areas:detail", args=["420102001001001"]), "/screening/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == change, path
    assert client.get(change).status_code == 200
    response = client.post(change, {"old_password": password, "new_password1": "Newbie-own-2020",
                                    "new_password2": "Newbie-own-2020"})
    assert response.status_code == 302 and response["Location"] == reverse("areas:home")
    account.refresh_from_db()
    assert not account.must_change_password
    assert client.get("/").status_code == 302 and client.get("/")["Location"] != change


def test_a_reset_password_must_be_changed_too_and_api_tokens_are_unaffected(city, client):
    grid_a = city.users["grid_a"]
    password = services.reset_password(city.users["community"], grid_a)
    grid_a.refresh_from_db()
    assert grid_a.must_change_password
    _token, key = ApiToken.issue(grid_a, "phone")
    response = client.get("/api/areas/420102001001001", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    _log_in(client, "grid_a", password)
    assert client.get("/")["Location"] == reverse("accounts:password_change")


def test_a_password_set_in_the_admin_must_be_changed_too(city, login):
    grid_a = city.users["grid_a"]
    response = login(city.users["root"]).post(f"/admin/accounts/user/{grid_a.pk}/password/", {
        "password1": "Admin-set-2020-x", "password2": "Admin-set-2020-x", "usable_password": "true"})
    assert response.status_code == 302
    grid_a.refresh_from_db()
    assert grid_a.check_password("Admin-set-2020-x") and grid_a.must_change_password

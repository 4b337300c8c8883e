"""The area's resident export (people's, linked from the area page): masked, audit-logged, scoped, and
for the roles that may reveal."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from fangkong.audit.models import Action, AuditLog

pytestmark = pytest.mark.django_db


def _rows(response) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return list(workbook.active.iter_rows(values_only=True))


def test_grid_a_exports_only_grid_a_residents_masked_and_logged(city, login):
    response = login(city.users["grid_a"]).get(reverse("people:area_export", args=["420102001001001"]))
    assert response.status_code == 200
    rows = _rows(response)
    assert rows[0][:5] == ("姓名", "性别", "出生日期", "证件类型", "证件号码")
    names = sorted(row[0] for row in rows[1:])
    assert names == sorted(["张伟", "李娜", "王建国"])
    zhang = city.residents["zhangwei"]
    flat = " ".join(str(cell) for row in rows for cell in row)
    assert zhang.doc_number not in flat and zhang.phone not in flat
    assert zhang.masked_doc_number in flat and zhang.masked_phone in flat
    entry = AuditLog.objects.get(action=Action.EXPORT)
    assert entry.user == city.users["grid_a"] and entry.area_code == "420102001001001" and entry.changes["rows"] == 3


def test_export_outside_scope_is_404_and_for_volunteers_403(city, login):
    assert login(city.users["grid_b"]).get(reverse("people:area_export", args=["420102001001001"])).status_code == 404
    assert login(city.users["volunteer"]).get(reverse("people:area_export", args=["420102001001"])).status_code == 403
    assert not AuditLog.objects.filter(action=Action.EXPORT).exists()


def test_district_export_covers_the_district_only(city, login):
    rows = _rows(login(city.users["district"]).get(reverse("people:area_export", args=["420102"])))
    assert len(rows) - 1 == 4 and "刘洋" not in {row[0] for row in rows}


def test_an_export_too_big_for_one_file_is_refused_with_a_message(city, login, settings):
    settings.EXPORT_MAX_ROWS = 3
    client = login(city.users["community"])
    response = client.get(reverse("people:area_export", args=["420102001001"]))
    assert response.status_code == 302 and response["Location"] == reverse("areas:detail", args=["420102001001"])
    assert "at most 3" in client.get(response["Location"]).content.decode()
    assert not AuditLog.objects.filter(action=Action.EXPORT).exists()
    assert client.get(reverse("people:area_export", args=["420102001001001"])).status_code == 200

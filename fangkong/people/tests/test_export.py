"""The area's resident export (people's, linked from the area page): masked, audit-logged, scoped, and
for the roles that may reveal."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from fangkong.audit.models import Action, AuditLog
from fangkong.jobs.models import Job
from fangkong.testing import run_export

pytestmark = pytest.mark.django_db


def _rows(response) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return list(workbook.active.iter_rows(values_only=True))


def test_grid_a_exports_only_grid_a_residents_masked_and_logged(city, login):
    response = run_export(login(city.users["grid_a"]), reverse("people:area_export", args=["420102001001001"]))
    assert response.status_code == 200 and response["Content-Disposition"].endswith('filename="residents-420102001001001.xlsx"')
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
    assert entry.object_type == "areas.area" and entry.object_id == str(city.areas["grid_a"].pk)
    assert entry.changes == {"rows": 3, "masked": True, "format": "xlsx", "file": "residents-420102001001001.xlsx"}


def test_export_outside_scope_is_404_and_for_volunteers_403(city, login):
    for method in ("get", "post"):
        assert getattr(login(city.users["grid_b"]), method)(reverse("people:area_export", args=["420102001001001"])).status_code == 404
        assert getattr(login(city.users["volunteer"]), method)(reverse("people:area_export", args=["420102001001"])).status_code == 403
    assert not AuditLog.objects.filter(action=Action.EXPORT).exists() and not Job.objects.exists()


def test_a_get_starts_nothing_and_leads_to_the_area_page_with_the_button(city, login):
    client = login(city.users["grid_a"])
    response = client.get(reverse("people:area_export", args=["420102001001001"]))
    assert response.status_code == 302 and response["Location"] == reverse("areas:detail", args=["420102001001001"])
    assert not Job.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert f'<form method="post" action="{reverse("people:area_export", args=["420102001001001"])}"' in page


def test_district_export_covers_the_district_only(city, login):
    rows = _rows(run_export(login(city.users["district"]), reverse("people:area_export", args=["420102"])))
    assert len(rows) - 1 == 4 and "刘洋" not in {row[0] for row in rows}


def test_an_export_too_big_for_one_file_is_refused_with_a_message(city, login, settings):
    settings.EXPORT_MAX_ROWS = 3
    client = login(city.users["community"])
    response = client.post(reverse("people:area_export", args=["420102001001"]))
    assert response.status_code == 302 and response["Location"] == reverse("areas:detail", args=["420102001001"])
    assert "at most 3" in client.get(response["Location"]).content.decode()
    assert not AuditLog.objects.filter(action=Action.EXPORT).exists() and not Job.objects.exists()
    assert run_export(client, reverse("people:area_export", args=["420102001001001"])).status_code == 200

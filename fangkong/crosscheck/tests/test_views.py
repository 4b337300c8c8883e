"""Cross-check pages: the list and a to-do for the grid's worker, nothing for the neighbouring grid
(list, page, forms, export, search), closing through the forms, and the evidence import screens."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from fangkong.audit.models import Action, AuditLog
from fangkong.core.identity import make_id_number
from fangkong.crosscheck.models import Kind, ToDo
from fangkong.crosscheck.services import run_crosscheck
from fangkong.crosscheck.tests.conftest import csv_bytes, day, empty_household, lit, readings, returnee
from fangkong.crosscheck.tests.test_importer import METER_HEADER, meter_row
from fangkong.people.models import ImportBatch, Resident
from fangkong.testing import run_export

pytestmark = pytest.mark.django_db

NEWCOMER = {"name": "赵敏", "doc_type": "id_card", "doc_number": make_id_number("420103", day(11000), 24),
            "relation": "tenant", "phone": "13912345678"}


@pytest.fixture
def todos(city) -> dict[str, ToDo]:
    """A powered empty household in grid A, a lit building in grid B, an unlocated returnee filed under grid A."""
    readings(empty_household(city), 5, 5, 5)
    lit(city.buildings["b2"], 4)
    ret = returnee(make_id_number("420111", day(9000), 35), area_code=city.areas["grid_a"].code)
    ret.phone = "13812345678"
    ret.save()
    run_crosscheck()
    return {t.kind: t for t in ToDo.objects.all()}


def test_the_grid_worker_sees_the_grids_to_dos_with_counts_per_kind(city, login, todos):
    response = login(city.users["grid_a"]).get("/crosscheck/")
    assert response.status_code == 200
    page = response.content.decode()
    assert {t.pk for t in response.context["page"].object_list} == {todos[Kind.POWERED].pk, todos[Kind.RETURNEE_UNREGISTERED].pk}
    assert dict((k, n) for k, _label, n in response.context["counts"]) == {
        Kind.POWERED: 1, Kind.LIT: 0, Kind.RETURNEE_UNREGISTERED: 1, Kind.RETURNEE_UNSCREENED: 0}
    assert "3-day average 5.0 kWh a day, nobody registered" in page
    assert "13812345678" not in page and "138****5678" not in page  # phones are not in the list
    returnee_number = todos[Kind.RETURNEE_UNREGISTERED].returnee.doc_number
    assert returnee_number not in page and returnee_number[-4:] in page  # masked


def test_filters_by_kind_status_and_text(city, login, todos):
    client = login(city.users["community"])
    assert [t.kind for t in client.get("/crosscheck/?kind=lit_windows").context["page"].object_list] == [Kind.LIT]
    assert not client.get("/crosscheck/?status=closed").context["page"].object_list
    assert len(client.get("/crosscheck/?status=all").context["page"].object_list) == 3
    assert [t.kind for t in client.get("/crosscheck/", {"q": "李明"}).context["page"].object_list] == [Kind.RETURNEE_UNREGISTERED]
    assert client.get("/crosscheck/?kind=nonsense&status=nonsense&page=x").status_code == 200


def test_grid_worker_b_sees_nothing_of_grid_a(city, login, todos):
    client = login(city.users["grid_b"])
    listed = client.get("/crosscheck/").context["page"].object_list
    assert [t.kind for t in listed] == [Kind.LIT]  # only grid B's own building
    assert [t.kind for t in client.get("/crosscheck/", {"q": "青和居"}).context["page"].object_list] == [Kind.LIT]
    assert not client.get("/crosscheck/", {"q": "李明"}).context["page"].object_list
    assert client.get(f"/crosscheck/?area={city.areas['grid_a'].code}").status_code == 404
    for todo in (todos[Kind.POWERED], todos[Kind.RETURNEE_UNREGISTERED]):
        assert client.get(f"/crosscheck/{todo.pk}/").status_code == 404
        assert client.post(f"/crosscheck/{todo.pk}/close/", {"close-outcome": "vacant"}).status_code == 404
        assert client.post(f"/crosscheck/{todo.pk}/register/", NEWCOMER).status_code == 404
    assert client.post("/crosscheck/export/", {"area": city.areas["grid_a"].code, "status": "all"}).status_code == 404
    download = run_export(client, "/crosscheck/export/", {"status": "all"})
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content))).worksheets[0]
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["More lit windows than occupied households"]
    assert ToDo.objects.filter(status="open").count() == 3 and not Resident.objects.filter(name="赵敏").exists()


def test_an_export_logs_the_search_term_with_its_id_number_and_phone_masked(city, login, todos):
    client = login(city.users["community"])
    number = make_id_number("420102", dt.date(1985, 3, 12), 7)
    assert run_export(client, "/crosscheck/export/", {"status": "all", "q": f"李明 {number} 13800138000"}).status_code == 200
    entry = AuditLog.objects.filter(action=Action.EXPORT).latest("id")
    assert entry.changes["q"] == f"李明 {number[:4]}{'*' * 10}{number[-4:]} 138****8000"
    assert number not in str(entry.changes) and "13800138000" not in str(entry.changes)


@pytest.mark.parametrize("persona", ["volunteer", "guard", "facility"])
def test_roles_that_do_not_handle_personal_data_are_refused(city, login, todos, persona):
    client = login(city.users[persona])
    assert client.get("/crosscheck/").status_code == 403
    assert client.get(f"/crosscheck/{todos[Kind.POWERED].pk}/").status_code == 403


def test_the_to_do_page_shows_the_readings_and_the_forms(city, login, todos):
    todo = todos[Kind.POWERED]
    response = login(city.users["grid_a"]).get(f"/crosscheck/{todo.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert todo.household.address in page and day(0).isoformat() in page and "5.00" in page
    assert response.context["register_form"] is not None
    assert [value for value, _label in response.context["close_form"].fields["outcome"].choices] == [
        "registered", "vacant", "false_alarm"]


def test_registering_then_closing_through_the_forms(city, login, todos):
    todo = todos[Kind.POWERED]
    client = login(city.users["grid_a"])
    response = client.post(f"/crosscheck/{todo.pk}/close/", {"close-outcome": "registered"})
    assert response.status_code == 400
    assert "Register the new occupants first" in response.content.decode()
    bad = client.post(f"/crosscheck/{todo.pk}/register/", {**NEWCOMER, "doc_number": "123"})
    assert bad.status_code == 400 and bad.context["register_form"].errors["doc_number"]
    response = client.post(f"/crosscheck/{todo.pk}/register/", NEWCOMER)
    assert response.status_code == 302
    resident = Resident.objects.get(name="赵敏")
    assert resident.household == todo.household and resident.is_new_occupant
    response = client.post(f"/crosscheck/{todo.pk}/close/", {"close-outcome": "registered", "close-note": "租户"})
    assert response.status_code == 302
    todo.refresh_from_db()
    assert (todo.status, todo.outcome, todo.closed_by) == ("closed", "registered", city.users["grid_a"])
    assert AuditLog.objects.filter(object_type="crosscheck.todo", object_id=str(todo.pk), action=Action.UPDATE).exists()
    again = client.post(f"/crosscheck/{todo.pk}/close/", {"close-outcome": "vacant"})
    assert again.status_code == 302  # told it was closed already; nothing changes
    todo.refresh_from_db()
    assert todo.outcome == "registered"


def test_a_false_alarm_without_a_note_is_refused_at_the_note(city, login, todos):
    todo = todos[Kind.LIT]
    response = login(city.users["grid_b"]).post(f"/crosscheck/{todo.pk}/close/", {"close-outcome": "false_alarm"})
    assert response.status_code == 400 and response.context["close_form"].errors["note"]
    assert login(city.users["grid_b"]).post(f"/crosscheck/{todo.pk}/close/", {"close-outcome": "bogus"}).status_code == 400


def test_closing_as_vacant_shows_on_the_household_page(city, login, todos):
    todo = todos[Kind.POWERED]
    client = login(city.users["grid_a"])
    client.post(f"/crosscheck/{todo.pk}/close/", {"close-outcome": "vacant"})
    page = client.get(f"/households/{todo.household_id}/").content.decode()
    assert "Vacant since" in page


def test_the_lit_windows_page_offers_the_buildings_households(city, login, todos):
    todo = todos[Kind.LIT]
    response = login(city.users["grid_b"]).get(f"/crosscheck/{todo.pk}/")
    form = response.context["register_form"]
    assert [h for h, _label in form.fields["household"].choices][1:] == [city.households["b201"].pk]
    assert response.context["occupied"] == 1


def test_the_area_page_and_the_navigation_link_to_the_to_dos(city, login):
    client = login(city.users["grid_a"])
    page = client.get(f"/areas/{city.areas['grid_a'].code}/").content.decode()
    assert f"/crosscheck/?area={city.areas['grid_a'].code}" in page
    assert 'href="/crosscheck/"' in page


# ---------------------------------------------------------------- the import screens

def upload(client, kind: str, name: str, content: bytes):
    return client.post("/crosscheck/import/", {"kind": kind, "file": SimpleUploadedFile(name, content)})


def test_a_community_worker_imports_meter_readings_with_a_bad_row_and_downloads_the_report(city, login):
    client = login(city.users["community"])
    assert client.get("/crosscheck/import/").status_code == 200
    content = csv_bytes(METER_HEADER, meter_row("103", 1, "5.2"), meter_row("103", 0, "abc"))
    response = upload(client, "meter", "meter.csv", content)
    assert response.status_code == 302
    batch = ImportBatch.objects.get(kind="meter")
    result = client.get(response["Location"], follow=True)  # the job's page, then its result
    assert result.status_code == 200
    page = result.content.decode()
    assert "用电量(千瓦时)" in page and "/crosscheck/import/" in page and "crosscheck-summary" in page
    report = client.get(f"/import/{batch.pk}/report/")
    assert report.status_code == 200
    rows = list(load_workbook(io.BytesIO(report.getvalue()))["错误明细"].iter_rows(values_only=True))
    assert rows[1][:2] == (3, "用电量(千瓦时)")
    assert ToDo.objects.filter(kind=Kind.POWERED, status="open").count() == 1
    # The roster import screen lists roster imports only.
    assert batch not in client.get("/import/").context["recent"]


@pytest.mark.parametrize(("name", "content"), [
    ("meter.txt", b"x"), ("meter.csv", b""), ("meter.xlsx", b"not a workbook"), ("meter.csv", "姓名\n张三\n".encode()),
])
def test_bad_files_are_refused_at_the_file_field(city, login, name, content):
    response = upload(login(city.users["community"]), "meter", name, content)
    assert response.status_code == 400 and response.context["form"].errors["file"]
    assert not ImportBatch.objects.exists()


def test_an_unknown_kind_is_a_form_error(city, login):
    response = upload(login(city.users["community"]), "gas", "meter.csv", csv_bytes(METER_HEADER))
    assert response.status_code == 400 and response.context["form"].errors["kind"]


@pytest.mark.parametrize("kind", ["meter", "lit_windows", "returnees"])
def test_the_templates_download(city, login, kind):
    response = login(city.users["community"]).get(f"/crosscheck/import/template/{kind}/")
    assert response.status_code == 200
    assert load_workbook(io.BytesIO(response.getvalue())).worksheets[1].title == "填写说明"


def test_import_screens_need_import_rights_and_hide_other_peoples_batches(city, login):
    client = login(city.users["community"])
    upload(client, "meter", "meter.csv", csv_bytes(METER_HEADER, meter_row("101", 1, "1")))
    batch = ImportBatch.objects.get()
    grid = login(city.users["grid_a"])
    assert grid.get("/crosscheck/import/").status_code == 403
    assert grid.get("/crosscheck/import/template/meter/").status_code == 403
    other = login(city.users["other_community"])
    assert other.get(f"/crosscheck/import/{batch.pk}/").status_code == 404
    assert other.get("/crosscheck/import/template/gas/").status_code == 404
    roster = login(city.users["community"])
    roster_batch = ImportBatch.objects.create(filename="r.csv", area_code=city.areas["qinghe"].code, user=city.users["community"])
    assert roster.get(f"/crosscheck/import/{roster_batch.pk}/").status_code == 404

"""The four-category and facility screens: they render, they act through the services, and nobody
reaches across their scope (UI pages, the targets export)."""

import io

import pytest
from openpyxl import load_workbook

from fangkong.audit.models import Action, AuditLog
from fangkong.cases import samples, services
from fangkong.cases.models import Case, Status
from fangkong.facilities.models import BedPool, Stay
from fangkong.testing import run_export

pytestmark = pytest.mark.django_db


@pytest.fixture
def confirmed(city):
    return services.open_case(city.users["community"], city.residents["zhangwei"], Status.CONFIRMED, "确诊", severity="critical")


def test_every_screen_renders_for_a_city_commander(city, login, confirmed):
    samples.order_test(city.users["community"], confirmed)
    client = login(city.users["city"])
    hospital = city.facilities["hospital"].pk
    for url in ["/cases/", "/cases/areas/4201/", "/cases/areas/420102001001/?fragment=targets",
                "/cases/areas/420102001001/people/?status=confirmed", f"/cases/{confirmed.pk}/", "/cases/tests/",
                "/cases/tests/import/", f"/cases/open/{city.residents['lina'].pk}/", "/facilities/", f"/facilities/{hospital}/",
                "/facilities/new/", f"/facilities/{hospital}/edit/", "/facilities/placement/", "/facilities/transfers/",
                f"/residents/{city.residents['zhangwei'].pk}/"]:
        assert client.get(url, follow=True).status_code == 200, url


def test_the_board_lists_the_critical_patient_awaiting_admission_by_name(city, login, confirmed):
    page = login(city.users["district"]).get("/cases/areas/420102/").content.decode()
    assert 'id="zero-critical_waiting"><b>1</b>' in page and "张伟" in page
    assert city.residents["zhangwei"].doc_number not in page


def test_a_commander_runs_the_engine_reviews_and_confirms(city, login, confirmed):
    client = login(city.users["district"])
    response = client.post("/facilities/placement/run/", follow=True)
    run_url = response.redirect_chain[-1][0]
    assert "金银潭医院" in response.content.decode()  # the critical patient goes to the designated hospital's ICU
    response = client.post(run_url + "confirm/", {"expected": "1"}, follow=True)  # the count the commander was shown
    assert "1 placements confirmed" in response.content.decode()
    assert BedPool.objects.get(facility=city.facilities["hospital"], kind="icu").booked == 1
    stay = Stay.objects.get(case=confirmed)
    # The hospital's staff confirm the admission.
    staff = login(city.users["facility"])
    assert "张伟" in staff.get(f"/facilities/{city.facilities['hospital'].pk}/").content.decode()
    staff.post(f"/facilities/stays/{stay.pk}/admit/")
    assert Case.objects.get(pk=confirmed.pk).placement == "placed"


def test_an_illegal_transition_from_the_page_shows_the_reason(city, login, confirmed):
    response = login(city.users["community"]).post(f"/cases/{confirmed.pk}/transition/", {"to_status": "released", "reason": "x"})
    assert response.status_code == 400
    assert "cannot go from Confirmed case to Released" in response.content.decode()
    assert Case.objects.get(pk=confirmed.pk).status == Status.CONFIRMED


@pytest.mark.parametrize("persona", ["grid_b", "other_community", "volunteer", "guard", "other_facility"])
def test_nobody_reaches_a_case_across_their_scope(city, login, confirmed, persona):
    client = login(city.users[persona])
    assert client.get(f"/cases/{confirmed.pk}/").status_code in (403, 404)
    assert client.post(f"/cases/{confirmed.pk}/transition/", {"to_status": "deceased", "reason": "x"}).status_code in (403, 404)
    assert Case.objects.get(pk=confirmed.pk).status == Status.CONFIRMED


def test_the_neighbouring_community_sees_no_board_and_exports_nothing_of_ours(city, login, confirmed):
    client = login(city.users["other_community"])
    assert client.get("/cases/areas/420102001001/").status_code == 404
    assert client.get("/cases/areas/420102001001/export/").status_code == 404
    assert client.post("/cases/areas/420102001001/export/").status_code == 404
    own = run_export(client, "/cases/areas/420106001001/export/")
    assert own.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(own.streaming_content)))
    assert "张伟" not in str([[c.value for c in row] for sheet in workbook for row in sheet.iter_rows()])


def test_the_targets_export_is_masked_and_audit_logged(city, login, confirmed):
    response = run_export(login(city.users["district"]), "/cases/areas/420102/export/")
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames == ["目标", "危重症待收治", "疑似待隔离", "待检测", "环节用时"]
    rows = list(workbook["危重症待收治"].iter_rows(values_only=True))
    assert rows[1][0] == "张伟" and rows[1][1] == city.residents["zhangwei"].masked_doc_number
    entry = AuditLog.objects.get(action=Action.EXPORT, username="district")
    assert entry.object_type == "areas.area" and entry.area_code == "420102"
    assert entry.changes == {"targets": True, "rows": 2, "masked": True, "format": "xlsx", "file": "targets-420102.xlsx"}


def test_facility_staff_see_only_their_facility_and_its_people(city, login, confirmed):
    client = login(city.users["other_facility"])
    assert client.get("/facilities/").status_code == 302  # straight to their own facility
    assert client.get(f"/facilities/{city.facilities['hospital'].pk}/").status_code == 404
    assert client.get(f"/facilities/{city.facilities['shelter'].pk}/").status_code == 200
    assert client.get("/facilities/placement/").status_code == 403


def test_grid_workers_and_volunteers_cannot_run_the_engine(city, login):
    for persona in ("grid_a", "community", "volunteer", "facility"):
        assert login(city.users[persona]).post("/facilities/placement/run/").status_code == 403


def test_the_case_page_shows_a_change_made_by_no_user_as_the_system(city, login, confirmed):
    # Changes made by jobs (the demo, lab imports, alerts) carry no user; the page answered 500 on them.
    confirmed.history.update(changed_by=None)
    response = login(city.users["city"]).get(f"/cases/{confirmed.pk}/")
    assert response.status_code == 200
    assert "system" in response.content.decode()


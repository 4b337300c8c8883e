"""Tracing screens: they render for the people who work the case, act through the services, and the
worker of the neighbouring grid reaches none of them (pages, API, chain graph, clusters, search)."""

import datetime as dt

import pytest

from fangkong.cases import services as cases
from fangkong.cases.models import Case, Status
from fangkong.tracing.contacts import record_contact
from fangkong.tracing.models import Contact, DisinfectionTask, MatchState

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()


@pytest.fixture
def traced(city, investigation):
    """The investigation of 张伟 with one close contact matched (李娜) and one to confirm (王建国)."""
    worker = city.users["community"]
    lina, _ = record_contact(worker, investigation, {"kind": "household", "name": "李娜", "last_exposure_on": TODAY,
                                                     "doc_number": city.residents["lina"].doc_number})
    wang, _ = record_contact(worker, investigation, {"kind": "neighbour", "name": "王建国", "last_exposure_on": TODAY,
                                                     "address": "青和居1栋102"})
    return {"lina": lina, "wang": wang}


def test_every_tracing_screen_renders_for_the_community_worker(city, login, confirmed, investigation, traced):
    client = login(city.users["community"])
    task = DisinfectionTask.objects.first()
    for url in ["/tracing/", "/tracing/areas/420102001001/", f"/tracing/cases/{confirmed.pk}/",
                f"/tracing/investigations/{investigation.pk}/contacts/new/", f"/tracing/contacts/{traced['wang'].pk}/",
                f"/tracing/cases/{confirmed.pk}/chain/", "/tracing/areas/420102001001/chains/",
                "/tracing/areas/420102001001/clusters/", "/tracing/areas/420102001001/tasks/", f"/cases/{confirmed.pk}/"]:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
    page = client.get(f"/tracing/cases/{confirmed.pk}/").content.decode()
    assert city.residents["lina"].doc_number not in page and "4201" in page  # masked
    assert task.place in page


def test_a_contact_entered_on_the_form_twice_with_one_client_id_is_recorded_once(city, login, investigation):
    client = login(city.users["grid_a"])
    form = {"client_id": "abc123", "name": "李娜", "kind": "household", "protection": "none", "last_exposure_on": TODAY.isoformat(),
            "doc_type": "id_card", "doc_number": city.residents["lina"].doc_number, "phone": "", "address": ""}
    for _ in range(2):
        assert client.post(f"/tracing/investigations/{investigation.pk}/contacts/new/", form).status_code == 302
    contact = Contact.objects.get()
    assert contact.match_state == MatchState.AUTO_DOCUMENT and contact.queued_at is not None
    assert Case.objects.get(resident=city.residents["lina"]).status == Status.CLOSE_CONTACT


def test_bad_contact_input_shows_field_errors_not_a_crash(city, login, investigation):
    client = login(city.users["community"])
    response = client.post(f"/tracing/investigations/{investigation.pk}/contacts/new/", {
        "name": "某", "kind": "household", "protection": "none", "last_exposure_on": (TODAY + dt.timedelta(days=3)).isoformat(),
        "doc_type": "id_card", "doc_number": "12345", "phone": "999"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "This date lies in the future." in body and "A mobile number has 11 digits" in body


def test_confirming_a_candidate_from_the_match_page(city, login, traced):
    client = login(city.users["community"])
    assert "王建国" in client.get(f"/tracing/contacts/{traced['wang'].pk}/").content.decode()
    client.post(f"/tracing/contacts/{traced['wang'].pk}/confirm/", {"resident": city.residents["wanglaoshi"].pk})
    assert Contact.objects.get(pk=traced["wang"].pk).match_state == MatchState.CONFIRMED
    assert Case.objects.get(resident=city.residents["wanglaoshi"]).status == Status.CLOSE_CONTACT


def test_the_investigation_form_adds_places_as_tasks(city, login, confirmed, investigation):
    client = login(city.users["community"])
    response = client.post(f"/tracing/investigations/{investigation.pk}/edit/", {
        "onset_on": (TODAY - dt.timedelta(days=3)).isoformat(), "sampled_on": "", "places": "汉口火车站\n武商广场", "notes": ""})
    assert response.status_code == 302
    assert set(DisinfectionTask.objects.filter(kind="public").values_list("place", flat=True)) == {"汉口火车站", "武商广场"}
    response = client.post(f"/tracing/investigations/{investigation.pk}/edit/", {"onset_on": "2999-01-01"})
    assert response.status_code == 400


def test_a_task_is_marked_done_from_the_list(city, login, confirmed):
    task = DisinfectionTask.objects.get()
    login(city.users["grid_a"]).post(f"/tracing/tasks/{task.pk}/done/", {"note": "已消杀"})
    assert DisinfectionTask.objects.get().status == "done"


def test_a_link_is_recorded_from_the_case_page(city, login, confirmed):
    lina_case = cases.open_case(city.users["community"], city.residents["lina"], Status.CONFIRMED, "确诊", severity="mild")
    client = login(city.users["community"])
    assert client.post(f"/tracing/cases/{lina_case.pk}/links/", {"infector": confirmed.pk, "evidence": "同住"}).status_code == 302
    assert client.post(f"/tracing/cases/{lina_case.pk}/links/", {"infector": 999999}).status_code == 400
    assert "李娜" in client.get(f"/tracing/cases/{confirmed.pk}/chain/").content.decode()


def test_the_infector_is_picked_from_a_search_of_the_cases_in_scope(city, login, confirmed):
    lina_case = cases.open_case(city.users["community"], city.residents["lina"], Status.CONFIRMED, "确诊", severity="mild")
    liu_case = cases.open_case(city.users["city"], city.residents["liuyang"], Status.CONFIRMED, "确诊", severity="mild")
    cases.open_case(city.users["community"], city.residents["wangfang"], Status.CLOSE_CONTACT, "密接")
    client = login(city.users["community"])
    page = client.get(f"/tracing/cases/{lina_case.pk}/").content.decode()
    assert 'type="number"' not in page and 'name="infector_q"' in page  # no case number to type
    by_name = client.get(f"/tracing/cases/{lina_case.pk}/", {"infector_q": "张"}).content.decode()
    assert f'name="infector" value="{confirmed.pk}"' in by_name and "张伟" in by_name
    assert city.residents["zhangwei"].masked_doc_number in by_name
    tail = city.residents["zhangwei"].doc_number[-4:]
    by_tail = client.get(f"/tracing/cases/{lina_case.pk}/", {"infector_q": tail}).content.decode()
    assert f'name="infector" value="{confirmed.pk}"' in by_tail
    # Outside the worker's area (刘洋, 武昌), not ill (王芳, a close contact), or the person herself: not offered.
    for name in ("刘洋", "王芳", "李娜"):
        found = client.get(f"/tracing/cases/{lina_case.pk}/", {"infector_q": name}).content.decode()
        assert 'name="infector" value=' not in found, name
    assert liu_case.pk  # (the commander would find him)
    commander = login(city.users["city"]).get(f"/tracing/cases/{lina_case.pk}/", {"infector_q": "刘洋"}).content.decode()
    assert f'name="infector" value="{liu_case.pk}"' in commander


def test_the_neighbouring_grid_worker_reaches_nothing(city, login, confirmed, investigation, traced):
    client = login(city.users["grid_b"])
    task = DisinfectionTask.objects.first()
    for url in [f"/tracing/cases/{confirmed.pk}/", f"/tracing/investigations/{investigation.pk}/contacts/new/",
                f"/tracing/contacts/{traced['wang'].pk}/", f"/tracing/cases/{confirmed.pk}/chain/",
                "/tracing/areas/420102001001001/", "/tracing/areas/420102001001001/chains/",
                "/tracing/areas/420102001001001/clusters/", "/tracing/areas/420102001001001/tasks/",
                f"/api/tracing/cases/{confirmed.pk}/investigation", f"/api/tracing/investigations/{investigation.pk}/contacts",
                f"/api/tracing/cases/{confirmed.pk}/rings", "/api/tracing/areas/420102001001001/clusters",
                "/api/tracing/areas/420102001001001/tasks", f"/api/tracing/cases/{confirmed.pk}/chain"]:
        assert client.get(url).status_code == 404, url
    for url, data in [(f"/tracing/investigations/{investigation.pk}/contacts/new/", {"name": "x"}),
                      (f"/tracing/contacts/{traced['wang'].pk}/confirm/", {"resident": city.residents["wangfang"].pk}),
                      (f"/tracing/tasks/{task.pk}/done/", {}), (f"/tracing/investigations/{investigation.pk}/edit/", {})]:
        assert client.post(url, data).status_code == 404, url
    # Their own area's pages show nothing of grid A.
    assert "张伟" not in client.get("/tracing/areas/420102001001002/").content.decode()
    assert client.get("/api/tracing/areas/420102001001002/tasks").json()["items"] == []


def test_a_worker_cannot_confirm_a_resident_outside_their_scope(city, login, traced):
    response = login(city.users["grid_a"]).post(f"/tracing/contacts/{traced['wang'].pk}/confirm/",
                                                {"resident": city.residents["wangfang"].pk})
    assert response.status_code == 404
    assert Contact.objects.get(pk=traced["wang"].pk).resident_id is None


def test_facility_staff_do_not_trace(city, login, confirmed):
    assert login(city.users["facility"]).get(f"/tracing/cases/{confirmed.pk}/").status_code in (403, 404)

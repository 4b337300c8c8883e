"""The tracing API: contacts posted idempotently by client id, 422 per field, rings, chains, clusters
and tasks, with the same scope as the pages."""

import datetime as dt
import json

import pytest

from fangkong.accounts.models import ApiToken
from fangkong.cases import services as cases
from fangkong.cases.models import Status
from fangkong.tracing.models import Contact, DisinfectionTask

pytestmark = pytest.mark.django_db
TODAY = dt.date.today().isoformat()


@pytest.fixture
def api(client, city):
    def _api(persona: str):
        _token, key = ApiToken.issue(city.users[persona], "test")
        headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

        class Caller:
            def get(self, url):
                return client.get(url, **headers)

            def post(self, url, body=None):
                return client.post(url, json.dumps(body or {}), content_type="application/json", **headers)

            def put(self, url, body):
                return client.put(url, json.dumps(body), content_type="application/json", **headers)

        return Caller()

    return _api


def test_a_phone_posting_the_same_contact_twice_records_it_once(city, api, confirmed, investigation):
    worker = api("grid_a")
    body = {"client_id": "c-1", "kind": "household", "name": "李娜", "doc_number": city.residents["lina"].doc_number,
            "last_exposure_on": TODAY}
    first = worker.post(f"/api/tracing/investigations/{investigation.pk}/contacts", body)
    again = worker.post(f"/api/tracing/investigations/{investigation.pk}/contacts", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and Contact.objects.count() == 1
    assert first.json()["match_state"] == "auto_document" and first.json()["is_close"]
    assert city.residents["lina"].doc_number not in first.content.decode()
    listed = worker.get("/api/tracing/areas/420102001001001/investigations").json()["items"]
    assert [i["case_id"] for i in listed] == [confirmed.pk]
    assert api("grid_b").get("/api/tracing/areas/420102001001001/investigations").status_code == 404
    rings = worker.get(f"/api/tracing/cases/{confirmed.pk}/rings").json()
    assert [p["name"] for p in rings["first"]] == ["李娜"] and rings["first"][0]["case_status"] == "close_contact"


def test_bad_values_answer_422_naming_the_field(city, api, investigation):
    response = api("community").post(f"/api/tracing/investigations/{investigation.pk}/contacts",
                                     {"kind": "household", "name": "某", "phone": "123", "last_exposure_on": "2999-01-01"})
    assert response.status_code == 422
    assert {e["loc"][-1] for e in response.json()["detail"]} == {"phone", "last_exposure_on"}
    response = api("community").put(f"/api/tracing/investigations/{investigation.pk}", {"onset_on": "0001-01-01"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "onset_on"]


def test_candidates_confirmation_links_chain_clusters_and_tasks(city, api, confirmed, investigation):
    worker = api("community")
    contact = worker.post(f"/api/tracing/investigations/{investigation.pk}/contacts",
                          {"kind": "neighbour", "name": "王建国", "address": "青和居1栋102", "last_exposure_on": TODAY}).json()
    assert contact["match_state"] == "candidate_needs_confirmation"
    candidates = worker.get(f"/api/tracing/contacts/{contact['id']}/candidates").json()
    assert [c["name"] for c in candidates] == ["王建国"]
    confirmed_contact = worker.post(f"/api/tracing/contacts/{contact['id']}/confirm", {"resident_id": candidates[0]["resident_id"]}).json()
    assert confirmed_contact["match_state"] == "confirmed" and confirmed_contact["queued_at"]
    lina = cases.open_case(city.users["community"], city.residents["lina"], Status.SUSPECTED, "疑似")
    assert worker.post(f"/api/tracing/cases/{lina.pk}/infected-by", {"infector_id": confirmed.pk}).status_code == 201
    chain = worker.get(f"/api/tracing/cases/{confirmed.pk}/chain").json()
    assert chain["edges"] == [[confirmed.pk, lina.pk]]
    clusters = worker.get("/api/tracing/areas/420102001001/clusters").json()
    assert clusters[0]["kind"] == "household" and sorted(clusters[0]["names"]) == ["张伟", "李娜"]
    tasks = worker.get("/api/tracing/areas/420102001001/tasks?status=open").json()["items"]
    assert len(tasks) == 2  # the homes of 张伟 and 李娜 (both investigated)
    assert worker.post(f"/api/tracing/tasks/{tasks[0]['id']}/done", {"note": "ok"}).json()["status"] == "done"
    assert DisinfectionTask.objects.filter(status="done").count() == 1


def test_the_neighbouring_grid_worker_cannot_post_into_grid_a(city, api, confirmed, investigation):
    outsider = api("grid_b")
    assert outsider.post(f"/api/tracing/investigations/{investigation.pk}/contacts",
                         {"kind": "household", "name": "某", "last_exposure_on": TODAY}).status_code == 404
    assert outsider.post(f"/api/tracing/cases/{confirmed.pk}/investigation").status_code == 404
    assert Contact.objects.count() == 0

"""The observation API: scoped like the pages, idempotent reports, field errors as 422."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_a_worker_opens_a_file_posts_reports_once_and_handles_alerts(city, api, error_fields):
    grid_a = api("grid_a")
    response = grid_a.post("/api/observation/files", {
        "resident_id": city.residents["zhangwei"].pk, "kind": "home", "reason": "密接",
        "last_exposure_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat()})
    assert response.status_code == 201
    file_id = response.json()["id"]
    assert response.json()["masked_name"] == "张*"
    body = {"client_id": str(uuid.uuid4()), "temperature": "36.6", "symptoms": ["dry_cough"]}
    first = grid_a.post(f"/api/observation/files/{file_id}/reports", body)
    again = grid_a.post(f"/api/observation/files/{file_id}/reports", body)
    assert first.status_code == 201 and again.status_code == 200 and first.json()["id"] == again.json()["id"]
    assert (first.json()["temperature_method"], first.json()["reading_unreliable"]) == ("armpit", False)  # the default
    cold = grid_a.post(f"/api/observation/files/{file_id}/reports", {
        "client_id": str(uuid.uuid4()), "temperature": "36.0", "temperature_method": "forehead", "outdoors": True,
        "ambient_c": 3})
    assert cold.status_code == 201 and cold.json()["reading_unreliable"] and cold.json()["ambient_c"] == 3.0
    bad = grid_a.post(f"/api/observation/files/{file_id}/reports", {**body, "client_id": str(uuid.uuid4()), "temperature": "50"})
    assert bad.status_code == 422 and error_fields(bad) == {"temperature"}
    alerts = grid_a.get("/api/observation/alerts").json()["items"]
    assert [a["kind"] for a in alerts] == ["symptoms"]
    handled = grid_a.post(f"/api/observation/alerts/{alerts[0]['id']}/handle", {"note": "已电话随访"})
    assert handled.status_code == 200 and handled.json()["status"] == "handled"
    assert len(grid_a.get("/api/observation/files").json()["items"]) == 1


def test_the_neighbouring_grid_worker_gets_404_and_empty_lists(city, api):
    grid_a, grid_b = api("grid_a"), api("grid_b")
    file_id = grid_a.post("/api/observation/files", {
        "resident_id": city.residents["zhangwei"].pk, "kind": "home", "reason": "密接",
        "last_exposure_on": timezone.localdate().isoformat()}).json()["id"]
    grid_a.post(f"/api/observation/files/{file_id}/reports", {"client_id": str(uuid.uuid4()), "temperature": "36.6",
                                                              "symptoms": ["fatigue"]})
    alert_id = grid_a.get("/api/observation/alerts").json()["items"][0]["id"]
    assert grid_b.get(f"/api/observation/files/{file_id}").status_code == 404
    assert grid_b.post(f"/api/observation/files/{file_id}/reports", {"client_id": str(uuid.uuid4()), "temperature": "36.6"}).status_code == 404
    assert grid_b.post(f"/api/observation/alerts/{alert_id}/handle", {}).status_code == 404
    assert grid_b.get("/api/observation/files").json()["items"] == []
    assert grid_b.get("/api/observation/alerts").json()["items"] == []
    assert grid_b.post("/api/observation/files", {"resident_id": city.residents["zhangwei"].pk, "kind": "home",
                                                  "reason": "x", "last_exposure_on": timezone.localdate().isoformat()}).status_code == 404

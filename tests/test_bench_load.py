"""bench/load.py and bench/faults.py read the pages as a phone does (bench/load_forms.py): the day list's
households, the visit form's CSRF token, client id and people, the self-report page. A template change that
would leave the benchmarks posting empty forms fails here, not in the next load run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from django.urls import reverse

from fangkong.screening.links import link_for
from fangkong.screening.models import Visit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from load_forms import CSRF, VISIT_LINK, find, readings  # noqa: E402

pytestmark = pytest.mark.django_db


def test_a_grid_worker_walks_the_day_list_into_a_form_and_posts_it_back(city, client):
    client.force_login(city.users["grid_a"], backend="django.contrib.auth.backends.ModelBackend")
    day_list = client.get(reverse("screening:today")).content.decode()
    households = VISIT_LINK.findall(day_list)
    assert households == [str(city.households["a101"].pk), str(city.households["a102"].pk)]
    path = reverse("screening:visit", args=[households[0]])
    form = client.get(path).content.decode()
    data = {**readings(form), "method": "door", "outcome": "reached"}
    assert find(CSRF, form) and data["client_id"]
    assert sum(key.endswith("-presence") for key in data) == city.households["a101"].residents.count()
    response = client.post(path, data)
    assert response.status_code == 302
    assert Visit.objects.filter(client_id=data["client_id"]).count() == 1


def test_a_resident_reports_by_the_households_link(city, client):
    household = city.households["a101"]
    path = reverse("selfreport:report", args=[link_for(city.users["grid_a"], household).token])
    form = client.get(path).content.decode()
    data = readings(form)
    assert sum(key.endswith("-presence") for key in data) == household.residents.count()
    response = client.post(path, data)
    assert response.status_code == 200 and 'id="self-report-form"' not in response.content.decode()
    assert Visit.objects.filter(client_id=data["client_id"], method="online").count() == 1


def test_the_bench_hello_page_is_a_logged_in_page(city, client, settings):
    settings.ROOT_URLCONF = "load_urls"
    assert client.get("/bench/hello/").status_code == 302  # to the log-in
    client.force_login(city.users["grid_a"], backend="django.contrib.auth.backends.ModelBackend")
    assert "<h1>Hello</h1>" in client.get("/bench/hello/").content.decode()

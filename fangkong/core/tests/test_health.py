"""/healthz and /readyz for the load balancer: cheap, outside log-in, host checks and redirects, no personal
data or settings in the answer, and /readyz names what fails (503, Retry-After) instead of hanging."""

import json
import socket

import pytest
from django import db
from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.test import Client
from django.urls import reverse


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # free, and nothing listens once the socket is closed


def _redis_answers(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except Exception:  # noqa: BLE001
        return False


def test_healthz_answers_ok_without_the_database():
    # Not marked django_db: any database access would fail the test.
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.content == b"ok"
    assert response["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response and "Content-Language" not in response
    assert Client().head("/healthz").status_code == 200


def test_the_probes_pass_host_checks_https_redirects_and_log_in(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["fangkong.example.gov.cn"]
    probe = Client(HTTP_HOST="10.0.0.7:8000")  # a load balancer asks by address
    assert probe.get("/healthz").status_code == 200
    assert probe.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_a_user_who_must_change_the_password_is_not_redirected_from_the_probes(city):
    user = city.users["grid_a"]
    user.must_change_password = True
    user.save()
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get("/")["Location"] == reverse("accounts:password_change")
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_readyz_checks_the_database(settings):
    settings.REDIS_URL = ""
    response = Client().get("/readyz")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}
    assert "Retry-After" not in response


@pytest.mark.django_db
def test_readyz_names_the_database_when_it_fails(settings, monkeypatch):
    settings.REDIS_URL = ""

    def refuse(*args, **kwargs):
        raise db.OperationalError(f"could not connect to {connection.settings_dict['NAME']}")

    monkeypatch.setattr(CursorWrapper, "execute", refuse)
    response = Client().get("/readyz")
    assert response.status_code == 503 and response["Retry-After"] == "10"
    assert response.json() == {"status": "unavailable", "checks": {"database": "failed"}, "failing": ["database"]}
    assert str(connection.settings_dict["NAME"]) not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no server to be unreachable")
def test_readyz_answers_503_when_postgresql_cannot_be_reached(settings, monkeypatch):
    settings.REDIS_URL = ""
    monkeypatch.setitem(connection.settings_dict, "PORT", str(_closed_port()))
    response = Client().get("/readyz")
    assert response.status_code == 503 and response.json()["failing"] == ["database"]


@pytest.mark.django_db
def test_readyz_answers_503_naming_redis_when_redis_is_down(settings):
    port = _closed_port()
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    response = Client().get("/readyz")
    assert response.status_code == 503 and response["Retry-After"] == "10"
    body = response.json()
    assert body == {"status": "unavailable", "checks": {"database": "ok", "redis": "failed"}, "failing": ["redis"]}
    assert str(port) not in json.dumps(body)


@pytest.mark.django_db
def test_readyz_pings_redis_when_it_runs(settings):
    url = "redis://127.0.0.1:6379/15"
    if not _redis_answers(url):
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings.REDIS_URL = url
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}

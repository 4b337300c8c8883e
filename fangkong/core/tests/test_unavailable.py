"""While the database cannot be reached, users get a styled 503 with Retry-After in their language, the API a
JSON 503, never a 500; with CONN_HEALTH_CHECKS a connection that PostgreSQL dropped is replaced before the
next request uses it."""

import logging
from wsgiref.util import setup_testing_defaults

import psycopg
import pytest
from django import db
from django.db import connection, connections
from django.db.backends.utils import CursorWrapper
from django.http import HttpResponse
from django.test import Client
from django.urls import path

from fangkong import urls as project_urls
from fangkong.accounts.models import ApiToken, User

pytestmark = pytest.mark.django_db


def _database_gone(request):
    raise db.OperationalError("server closed the connection unexpectedly")


def _psycopg_gone(request):
    raise psycopg.OperationalError("connection is lost")


def _boom(request):
    raise RuntimeError("a bug")


def _count_users(request):
    return HttpResponse(str(User.objects.count()))


urlpatterns = [*project_urls.urlpatterns, path("db-gone/", _database_gone), path("psycopg-gone/", _psycopg_gone),
               path("count-users/", _count_users), path("boom/", _boom)]
handler404 = project_urls.handler404
handler500 = project_urls.handler500


@pytest.fixture
def test_urls(settings):
    settings.ROOT_URLCONF = __name__


def _refuse(*args, **kwargs):
    raise db.OperationalError("could not connect to server: Connection refused")


def _assert_styled_503(response):
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    page = response.content.decode()
    assert 'class="site-header"' in page and 'data-status="503"' in page
    return page


def test_a_view_that_loses_the_database_answers_a_styled_503_in_zh_chinese(test_urls, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    page = _assert_styled_503(Client().get("/db-gone/"))
    assert "服务暂时无法使用" in page and "一分钟后再试" in page
    assert "Server Error" not in page and "briefly unavailable" not in page


def test_a_view_that_loses_the_database_answers_a_styled_503_in_english(test_urls, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = _assert_styled_503(client.get("/db-gone/"))
    assert "The service is briefly unavailable" in page and "Try again in a minute" in page


def test_psycopg_s_own_error_is_a_503_too(test_urls):
    _assert_styled_503(Client().get("/psycopg-gone/"))


def test_the_database_failing_under_the_session_is_a_503_not_a_500_and_no_server_error_is_logged(
        city, test_urls, monkeypatch, caplog):
    client = Client(raise_request_exception=False)
    client.force_login(city.users["grid_a"], backend="django.contrib.auth.backends.ModelBackend")
    with caplog.at_level(logging.INFO), monkeypatch.context() as patch:
        patch.setattr(CursorWrapper, "execute", _refuse)
        response = client.get("/")  # the user is read from the session in a middleware, not in the view
    page = _assert_styled_503(response)
    assert "briefly unavailable" in page
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "logged as a server error"
    warnings = [r.getMessage() for r in caplog.records if r.name == "fangkong.core.error_pages"]
    assert warnings == ["Database unavailable (OperationalError): GET - answered 503"]


def test_the_api_answers_a_json_503(city, monkeypatch):
    _token, key = ApiToken.issue(city.users["grid_a"], "phone")
    with monkeypatch.context() as patch:
        patch.setattr(CursorWrapper, "execute", _refuse)
        response = Client().get("/api/areas/420102001001001", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 503 and response["Retry-After"] == "60"
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "The service is briefly unavailable; try again in a minute."}


def test_other_errors_stay_a_500(test_urls):
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500 and 'data-status="500"' in response.content.decode()


# On PostgreSQL: the real thing.

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql",
                                   reason="SQLite has no server connection to lose")


def _serve(path, cookie=""):
    """One request through Django's WSGI handler as gunicorn makes it, with the request_started and
    request_finished signals (the test client leaves out the connection housekeeping they trigger)."""
    from django.core.handlers.wsgi import WSGIHandler

    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "HTTP_HOST": "testserver"}
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    setup_testing_defaults(environ)
    status = []
    response = WSGIHandler()(environ, lambda s, headers, exc_info=None: status.append(s))
    body = b"".join(response)
    response.close()
    return int(status[0].split()[0]), body.decode()


@pytest.fixture
def kept_connection():
    """The connection is kept between requests, as in production (CONN_MAX_AGE)."""
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(CONN_MAX_AGE=600)  # CONN_HEALTH_CHECKS as settings.py has it
    yield connection
    connection.close()
    connection.settings_dict.update(saved)


def _terminate_backend_of(conn):
    with conn.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            # Waits (up to 5 s) until the backend has actually gone.
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
            assert cursor.fetchone()[0] is True
    finally:
        other.close()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_after_postgresql_dropped_the_connection_the_next_request_works(test_urls, kept_connection):
    assert _serve("/count-users/") == (200, "0")
    assert connection.connection is not None, "the connection was not kept"
    _terminate_backend_of(connection)
    assert _serve("/count-users/") == (200, "0")


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_logged_in_page_after_postgresql_dropped_the_connection_works(city, settings, kept_connection):
    client = Client()
    client.force_login(city.users["grid_a"], backend="django.contrib.auth.backends.ModelBackend")
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    assert _serve("/", cookie)[0] == 302  # the grid worker's landing page
    _terminate_backend_of(connection)
    assert _serve("/", cookie)[0] == 302


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_while_postgresql_is_down_pages_answer_503_and_afterwards_work_again(city, settings, kept_connection):
    client = Client()
    client.force_login(city.users["grid_a"], backend="django.contrib.auth.backends.ModelBackend")
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"  # nothing listens there: as while the server restarts
    try:
        status, page = _serve("/", cookie)
        assert status == 503 and 'data-status="503"' in page
        status, _body = _serve("/api/areas/420102001001001", cookie)
        assert status == 503
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port
    assert _serve("/", cookie)[0] == 302

"""The read replica (core.dbrouter): boards, reports and exports read from a real streaming replica of
PostgreSQL, a user who just wrote reads from the primary, and a replica that is down or behind is not used.

The tests marked `replica` need the replica: `DATABASE_URL` on the primary and `DATABASE_REPLICA_URL` on the
standby made by scripts/ensure-replica.sh (`make test` runs them so; in CI a missing replica fails there).
The replica alias is the default's test mirror: the test database pytest-django creates on the primary
reaches the standby by replication, and the tests wait for the replay before reading. The others run on
any database without a replica: everything then reads from the one database, as in the demo.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from fangkong.accounts.models import User
from fangkong.core import dbrouter
from fangkong.core.dbrouter import REPLICA, ReplicaPinMiddleware, use_replica
from fangkong.facilities.models import Facility, FacilityKind
from fangkong.jobs.models import Job, JobStatus
from fangkong.testing import PASSWORD, build_small_city

HAS_REPLICA = REPLICA in settings.DATABASES
REPLAY_TIMEOUT_S = 30


# --- helpers ----------------------------------------------------------------------------------------------------

@contextlib.contextmanager
def counting(alias: str) -> Iterator[list[str]]:
    """The statements run on `alias` in this thread (without connecting, unlike CaptureQueriesContext)."""
    seen: list[str] = []

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    with connections[alias].execute_wrapper(wrapper):
        yield seen


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _primary_lsn() -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        return cursor.fetchone()[0]


def wait_for_replay(timeout: float = REPLAY_TIMEOUT_S) -> None:
    """Until the standby has replayed everything the primary has written so far."""
    target = _primary_lsn()
    deadline = time.monotonic() + timeout
    while True:
        try:
            with connections[REPLICA].cursor() as cursor:
                cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
                if cursor.fetchone()[0]:
                    return
        except Exception:  # noqa: BLE001 - the test database may not have reached the standby yet
            connections[REPLICA].close()
        if time.monotonic() > deadline:
            raise AssertionError(f"the replica did not replay up to {target} in {timeout} s")
        time.sleep(0.1)


def _on_replica(sql: str) -> Any:
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


@contextlib.contextmanager
def replay_paused() -> Iterator[None]:
    """Stops the standby's replay (it keeps receiving): a real lag, whatever the primary writes meanwhile."""
    _on_replica("SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        _on_replica("SELECT pg_wal_replay_resume()")


def wait_until_behind(timeout: float = 10) -> None:
    target = _primary_lsn()
    deadline = time.monotonic() + timeout
    while _on_replica(f"SELECT pg_last_wal_receive_lsn() >= '{target}'::pg_lsn") is not True:
        assert time.monotonic() < deadline, "the replica did not receive the primary's WAL"
        time.sleep(0.05)


@pytest.fixture
def fresh_state():
    dbrouter.forget_replica_state()
    yield
    dbrouter.forget_replica_state()


# --- without a replica (any database) --------------------------------------------------------------------------

@pytest.mark.skipif(HAS_REPLICA, reason="the settings without DATABASE_REPLICA_URL")
def test_without_a_replica_everything_reads_from_the_one_database(db, fresh_state):
    assert "replica" not in settings.DATABASES and settings.DATABASE_ROUTERS == []
    calls = []

    @use_replica
    def view(request):
        calls.append(dbrouter.current_read_alias())
        return HttpResponse("ok")

    assert view(RequestFactory().get("/")).status_code == 200
    assert calls == [DEFAULT_DB_ALIAS]
    assert dbrouter.replica_state().reason == "not configured"
    with pytest.raises(Exception) as raised:
        ReplicaPinMiddleware(lambda r: HttpResponse())
    assert type(raised.value).__name__ == "MiddlewareNotUsed"


def test_the_router_sends_writes_migrations_and_accounts_to_the_primary():
    router = dbrouter.ReplicaRouter()
    token = dbrouter._route.set(REPLICA)
    try:
        assert router.db_for_write(Facility) == DEFAULT_DB_ALIAS
        assert router.db_for_read(User) == DEFAULT_DB_ALIAS
        assert router.allow_migrate(REPLICA, "facilities") is False
        assert router.allow_migrate(DEFAULT_DB_ALIAS, "facilities") is True
    finally:
        dbrouter._route.reset(token)
    assert router.db_for_read(Facility) == DEFAULT_DB_ALIAS  # not marked: the primary


def _pin_middleware(monkeypatch, view: Callable[..., HttpResponse]) -> ReplicaPinMiddleware:
    monkeypatch.setattr(dbrouter, "replica_configured", lambda: True)
    return ReplicaPinMiddleware(view)


def test_a_post_that_changes_data_pins_the_user_to_the_primary(db, monkeypatch):
    def writes(request):
        Facility.objects.filter(pk=-1).update(name="x")  # an UPDATE, even of no row, is a write
        return HttpResponse("ok")

    def reads(request):
        list(Facility.objects.all()[:1])
        return HttpResponse("ok")

    factory = RequestFactory()
    pinned = _pin_middleware(monkeypatch, writes)(factory.post("/"))
    assert dbrouter.PIN_COOKIE in pinned.cookies
    cookie = pinned.cookies[dbrouter.PIN_COOKIE]
    assert cookie["max-age"] == settings.REPLICA_PIN_SECONDS and cookie["httponly"]
    assert dbrouter.PIN_COOKIE not in _pin_middleware(monkeypatch, reads)(factory.post("/")).cookies
    assert dbrouter.PIN_COOKIE not in _pin_middleware(monkeypatch, writes)(factory.get("/")).cookies

    request = factory.get("/")
    request.COOKIES[dbrouter.PIN_COOKIE] = cookie.value
    assert dbrouter.is_pinned(request)
    request.COOKIES[dbrouter.PIN_COOKIE] = "1"  # unsigned: not a pin
    assert not dbrouter.is_pinned(request)


def test_a_pin_expires_after_replica_pin_seconds(db, monkeypatch, settings):
    settings.REPLICA_PIN_SECONDS = 1
    response = _pin_middleware(monkeypatch, lambda r: (Facility.objects.filter(pk=-1).update(name="x"), HttpResponse())[1])(
        RequestFactory().post("/"))
    request = RequestFactory().get("/")
    request.COOKIES[dbrouter.PIN_COOKIE] = response.cookies[dbrouter.PIN_COOKIE].value
    assert dbrouter.is_pinned(request)
    time.sleep(2.1)  # the signature's timestamp counts whole seconds
    assert not dbrouter.is_pinned(request)


# --- against the real replica -----------------------------------------------------------------------------------

@pytest.fixture
def city_on_replica(fresh_state):
    city = build_small_city()
    wait_for_replay()
    return city


def _board(client: Client) -> tuple[HttpResponse, int, int]:
    with counting(REPLICA) as on_replica, counting(DEFAULT_DB_ALIAS) as on_primary:
        response = client.get(reverse("facilities:board"))
    assert response.status_code == 200
    return response, len(on_replica), len(on_primary)


def _commander(city) -> Client:
    client = Client()
    client.force_login(city.users["city"], backend="django.contrib.auth.backends.ModelBackend")
    return client


def _new_facility(city, name: str) -> Facility:
    return Facility.objects.create(name=name, kind=FacilityKind.ISOLATION_SITE, area=city.areas["jiangan"],
                                   longitude="114.3", latitude="30.6", address="门口")


@pytest.mark.usefixtures("fresh_state")
@pytest.mark.replica
@pytest.mark.skipif(not HAS_REPLICA, reason="needs DATABASE_REPLICA_URL (scripts/ensure-replica.sh)")
@pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])
class TestRealReplica:
    def test_the_replica_alias_is_a_streaming_standby_of_the_primary(self):
        assert settings.DATABASES[REPLICA]["PORT"] != settings.DATABASES[DEFAULT_DB_ALIAS]["PORT"] or \
            settings.DATABASES[REPLICA]["HOST"] != settings.DATABASES[DEFAULT_DB_ALIAS]["HOST"]
        wait_for_replay()
        assert _on_replica("SELECT pg_is_in_recovery()") is True
        assert _on_replica("SELECT status FROM pg_stat_wal_receiver") == "streaming"
        assert _on_replica("SELECT current_database()") == connections[DEFAULT_DB_ALIAS].settings_dict["NAME"]

    def test_a_committed_row_is_read_from_the_replica_once_replayed(self):
        state = dbrouter.replica_state(force=True)
        assert state.usable and state.reason == "ok", state
        area = build_small_city().areas["jiangan"]
        wait_for_replay()
        facility = Facility.objects.create(name="复制测试方舱", kind=FacilityKind.SHELTER_HOSPITAL, area=area,
                                           longitude="114.3", latitude="30.6", address="门口")
        with dbrouter.reading_from_replica() as alias:
            assert alias == REPLICA
            assert Facility.objects.all().db == REPLICA
            deadline = time.monotonic() + REPLAY_TIMEOUT_S
            with counting(REPLICA) as on_replica:
                while not Facility.objects.filter(pk=facility.pk).exists():
                    assert time.monotonic() < deadline, "the row never reached the replica"
                    time.sleep(0.05)
            assert on_replica
            # A write inside still goes to the primary (the standby is read-only and would refuse it).
            Facility.objects.filter(pk=facility.pk).update(address="新门口")
        assert Facility.objects.get(pk=facility.pk).address == "新门口"

    def test_a_board_reads_from_the_replica(self, city_on_replica):
        response, on_replica, _on_primary = _board(_commander(city_on_replica))
        assert on_replica > 0
        assert city_on_replica.facilities["hospital"].name in response.content.decode()

    def test_a_user_who_just_wrote_reads_their_write_from_the_primary(self, city_on_replica, settings):
        settings.REPLICA_MAX_LAG_SECONDS = 3600  # a stale replica is still used: only the pin sends to the primary
        client = Client()
        with replay_paused():
            logged_in = client.post(reverse("accounts:login"), {"username": "city", "password": PASSWORD})
            assert logged_in.status_code == 302
            assert dbrouter.PIN_COOKIE in logged_in.cookies  # the log-in wrote (last log-in, session)
            new = _new_facility(city_on_replica, "刚建的隔离点")
            wait_until_behind()
            response, on_replica, on_primary = _board(client)
            assert on_replica == 0 and on_primary > 0
            assert new.name in response.content.decode()  # read-your-writes

            client.cookies.pop(dbrouter.PIN_COOKIE)  # another user, or the pin expired
            response, on_replica, _ = _board(client)
            assert on_replica > 0
            assert new.name not in response.content.decode()  # the replica has not replayed it yet
        wait_for_replay()
        response, on_replica, _ = _board(client)
        assert on_replica > 0 and new.name in response.content.decode()

    def test_a_post_that_changes_nothing_does_not_pin(self, city_on_replica):
        client = _commander(city_on_replica)
        response = client.post(reverse("policy:edit"), {})  # a form with errors: nothing saved
        assert response.status_code == 200 and dbrouter.PIN_COOKIE not in response.cookies
        _response, on_replica, _ = _board(client)
        assert on_replica > 0

    def test_falls_back_to_the_primary_when_the_replica_lags(self, city_on_replica, settings):
        settings.REPLICA_MAX_LAG_SECONDS = 0.5
        client = _commander(city_on_replica)
        with replay_paused():
            time.sleep(1.0)
            new = _new_facility(city_on_replica, "滞后时的隔离点")
            wait_until_behind()
            dbrouter.forget_replica_state()
            response, on_replica, on_primary = _board(client)
            state = dbrouter.replica_state()
            assert state.reason == "lagging" and state.lag_s is not None and state.lag_s > 0.5, state
            assert on_replica == 1  # the lag query only
            assert new.name in response.content.decode()
        wait_for_replay()
        dbrouter.forget_replica_state()
        assert dbrouter.replica_state().usable

    def test_falls_back_when_the_lag_function_says_so(self, city_on_replica, monkeypatch, settings):
        monkeypatch.setattr(dbrouter, "replica_lag_seconds", lambda connection: 999.0)
        _response, on_replica, _ = _board(_commander(city_on_replica))
        assert on_replica == 0 and dbrouter.replica_state().reason == "lagging"

    def test_falls_back_to_the_primary_when_the_replica_is_unreachable(self, city_on_replica):
        client = _commander(city_on_replica)
        replica = connections[REPLICA]
        port = replica.settings_dict["PORT"]
        replica.close()
        replica.settings_dict["PORT"] = _closed_port()
        try:
            started = time.monotonic()
            response, _on_replica, on_primary = _board(client)
            assert time.monotonic() - started < 5
            assert dbrouter.replica_state().reason == "unreachable"
            assert on_primary > 0 and city_on_replica.facilities["hospital"].name in response.content.decode()
            ready = Client().get("/readyz")
            assert ready.status_code == 200 and ready.json()["replica"]["state"] == "unreachable"
        finally:
            replica.close()
            replica.settings_dict["PORT"] = port
            dbrouter.forget_replica_state()
        assert dbrouter.replica_state().usable
        assert Client().get("/readyz").json()["replica"]["state"] == "ok"

    def test_a_replica_that_fails_under_a_view_is_replaced_by_the_primary(self, city_on_replica):
        client = _commander(city_on_replica)
        assert dbrouter.replica_state(force=True).usable  # kept as healthy for the next seconds
        replica = connections[REPLICA]
        port = replica.settings_dict["PORT"]
        replica.close()
        replica.settings_dict["PORT"] = _closed_port()
        try:
            response, _on_replica, on_primary = _board(client)
            assert on_primary > 0 and city_on_replica.facilities["hospital"].name in response.content.decode()
            assert dbrouter.replica_state().reason == "unreachable"
        finally:
            replica.close()
            replica.settings_dict["PORT"] = port
            dbrouter.forget_replica_state()

    def test_the_boards_reports_and_exports_read_from_the_replica(self, city_on_replica):
        client = _commander(city_on_replica)
        area = city_on_replica.areas["jiangan"].code
        marked = [reverse("cases:board", args=[area]),
                  reverse("screening:coverage", args=[area]),
                  reverse("observation:board", args=[area]), reverse("facilities:board"),
                  reverse("areas:detail", args=[area]), reverse("tracing:clusters", args=[area])]
        for url in marked:
            with counting(REPLICA) as on_replica:
                response = client.get(url)
            assert response.status_code == 200, url
            assert on_replica, url
        # Not marked: a work page reads from the primary only.
        with counting(REPLICA) as on_replica:
            assert client.get(reverse("cases:people", args=[area])).status_code == 200
        assert not on_replica

    def test_the_export_jobs_read_from_the_replica_unless_their_user_just_wrote(self, city_on_replica):
        """The XLSX exports run as jobs (fangkong.jobs.exports; in-process here): the job's reads go to the
        replica, but for a user pinned to the primary by a write of their own."""
        client = _commander(city_on_replica)
        area = city_on_replica.areas["jiangan"].code
        exports = [(reverse("cases:export", args=[area]), {}), (reverse("screening:coverage_export", args=[area]), {}),
                   (reverse("crosscheck:export"), {"area": area}), (reverse("people:area_export", args=[area]), {})]
        for url, data in exports:
            client.cookies.pop(dbrouter.PIN_COOKIE, None)  # the previous export wrote its job row
            with counting(REPLICA) as on_replica:
                started = client.post(url, data)
            assert started.status_code == 302 and started["Location"].startswith("/jobs/"), url
            assert on_replica, url
            assert Job.objects.latest("id").status == JobStatus.DONE, url
        assert dbrouter.PIN_COOKIE in client.cookies  # the last export's job row was a write: the user is pinned
        with counting(REPLICA) as on_replica:
            assert client.post(*exports[0]).status_code == 302
        assert not on_replica and Job.objects.latest("id").params["primary"] is True

    def test_a_query_cancelled_by_the_replay_runs_again_on_the_primary(self, city_on_replica):
        calls: list[str] = []

        @use_replica
        def view(request):
            alias = dbrouter.current_read_alias()
            calls.append(alias)
            if alias == REPLICA:  # what a standby answers when a replayed change needs what the query holds
                with connections[REPLICA].cursor() as cursor:
                    cursor.execute("DO $$ BEGIN RAISE EXCEPTION 'canceling statement due to conflict with recovery'"
                                   " USING ERRCODE = '40001'; END $$")
            return HttpResponse(str(Facility.objects.count()))

        response = view(RequestFactory().get("/"))
        assert calls == [REPLICA, DEFAULT_DB_ALIAS]
        assert response.status_code == 200 and int(response.content) == len(city_on_replica.facilities)

    def test_a_failure_of_the_primary_under_a_marked_view_is_not_retried(self, city_on_replica):
        calls: list[str] = []

        @use_replica
        def view(request):
            calls.append(dbrouter.current_read_alias())
            with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
                cursor.execute("DO $$ BEGIN RAISE EXCEPTION 'cancelled' USING ERRCODE = '57014'; END $$")
            return HttpResponse()

        with pytest.raises(OperationalError):
            view(RequestFactory().get("/"))
        assert calls == [REPLICA]

"""How long a browser session lasts (idle timeout, lifetime, shorter for the roles of shared phones) and
ending an account's sessions everywhere: by the user for their other devices, by a manager for the
account, by a password reset or a deactivation. Time is moved by moving the session's own clocks back."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.test import Client, override_settings
from django.urls import reverse

from fangkong.accounts import sessions
from fangkong.accounts.models import ApiToken, User
from fangkong.audit.models import AuditLog
from fangkong.core import permissions

pytestmark = pytest.mark.django_db

HOME = reverse("accounts:password_change")  # a page every role opens
LOGIN = reverse("accounts:login")
MINUTE = 60
HOUR = 3600


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def age(client: Client, *, idle: float = 0, since_login: float = 0) -> None:
    """Pretend the last request was `idle` seconds ago and the log-in `since_login` seconds ago."""
    session = client.session
    session[sessions.SEEN] -= idle
    session[sessions.STARTED] -= max(since_login, idle)
    session.save()


def is_logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def sent_to_login(response, path: str = HOME) -> bool:
    return response.status_code == 302 and response["Location"] == f"{LOGIN}?next={path}"


def message(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_a_log_in_starts_the_clocks(city):
    client = logged_in(city.users["grid_a"])
    assert {sessions.STARTED, sessions.SEEN, sessions.ISSUED} <= set(client.session.keys())
    assert client.get(HOME).status_code in (200, 302) and is_logged_in(client)


def test_worker_roles_get_the_short_limits_commanders_the_long_ones(city):
    for key in ("grid_a", "community", "volunteer", "guard", "facility"):
        assert permissions.session_limits(city.users[key]) == (dt.timedelta(minutes=30), dt.timedelta(hours=12)), key
    for key in ("city", "district", "street", "root"):
        assert permissions.session_limits(city.users[key]) == (dt.timedelta(minutes=120), dt.timedelta(hours=24)), key


@override_settings(SESSION_WORKER_IDLE_MINUTES=5, SESSION_WORKER_MAX_HOURS=8, SESSION_IDLE_MINUTES=60, SESSION_MAX_HOURS=10)
def test_the_limits_come_from_the_settings(city):
    assert permissions.session_limits(city.users["grid_a"]) == (dt.timedelta(minutes=5), dt.timedelta(hours=8))
    assert permissions.session_limits(city.users["city"]) == (dt.timedelta(minutes=60), dt.timedelta(hours=10))


def test_a_grid_worker_idle_for_half_an_hour_is_logged_out_with_a_message_zh(city):
    client = logged_in(city.users["grid_a"])
    age(client, idle=29 * MINUTE)
    assert client.get(HOME).status_code == 200 and is_logged_in(client)
    age(client, idle=31 * MINUTE)
    response = client.get(HOME)
    assert sent_to_login(response)
    assert not is_logged_in(client)
    assert "您已 30 分钟没有操作" in message(response)
    page = client.get(response["Location"]).content.decode()
    assert "您已 30 分钟没有操作，已自动退出登录。" in page


def test_a_commander_idle_for_half_an_hour_stays_but_not_for_two_hours(city):
    client = logged_in(city.users["street"])
    age(client, idle=31 * MINUTE)
    assert client.get(HOME).status_code == 200 and is_logged_in(client)
    age(client, idle=121 * MINUTE)
    assert sent_to_login(client.get(HOME)) and not is_logged_in(client)


def test_a_session_ends_at_its_maximum_length_however_busy_in_english(city):
    client = logged_in(city.users["grid_a"])
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    age(client, since_login=11 * HOUR)
    assert client.get(HOME).status_code == 200
    age(client, since_login=1 * HOUR + MINUTE)  # 12 hours and a minute after the log-in, active a moment ago
    response = client.get(HOME)
    assert sent_to_login(response)
    assert "You were logged out: your session reached its maximum length of 12 hours." in message(response)


def test_activity_is_written_at_most_once_a_minute(city):
    client = logged_in(city.users["grid_a"])
    age(client, idle=30)
    seen = client.session[sessions.SEEN]
    client.get(HOME)
    assert client.session[sessions.SEEN] == seen  # the session row was not rewritten for this request
    age(client, idle=40)  # 70 seconds now
    client.get(HOME)
    assert client.session[sessions.SEEN] > seen  # moved to now (it was set back to seen - 40)


def test_an_expired_session_on_the_api_answers_401_and_tokens_are_not_affected(city):
    user = city.users["grid_a"]
    client = logged_in(user)
    assert client.get("/api/me").status_code == 200
    age(client, idle=31 * MINUTE)
    assert client.get("/api/me").status_code == 401
    _, key = ApiToken.issue(user, "phone")
    User.objects.filter(pk=user.pk).update(sessions_valid_after=dt.datetime.now(dt.UTC))
    assert Client().get("/api/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_a_session_from_before_the_clocks_starts_them(city):
    client = logged_in(city.users["grid_a"])
    session = client.session
    for key in (sessions.STARTED, sessions.SEEN, sessions.ISSUED):
        del session[key]
    session.save()
    assert client.get(HOME).status_code == 200
    assert sessions.STARTED in client.session and is_logged_in(client)


# --- Ending sessions everywhere --------------------------------------------------------------------------

def test_log_out_on_every_other_device_keeps_this_one(city):
    user = city.users["grid_a"]
    phone, other = logged_in(user), logged_in(user)
    page = phone.get(reverse("accounts:password_change")).content.decode()
    assert 'action="/accounts/logout/others/"' in page
    response = phone.post(reverse("accounts:logout_others"))
    assert response.status_code == 302
    assert phone.get(HOME).status_code == 200 and is_logged_in(phone)
    response = other.get(HOME)
    assert sent_to_login(response) and not is_logged_in(other)
    assert "the sessions of your account were ended" in message(response)
    entry = AuditLog.objects.filter(object_type="accounts.user", object_id=str(user.pk)).latest("pk")
    assert entry.changes == {"sessions": "ended"} and entry.user_id == user.pk
    assert logged_in(user).get(HOME).status_code == 200  # a new log-in works as before


def test_log_out_everywhere_is_a_post(city):
    client = logged_in(city.users["grid_a"])
    assert client.get(reverse("accounts:logout_others")).status_code == 405


def test_a_manager_ends_every_session_of_an_account_in_reach(city):
    grid = city.users["grid_a"]
    phones = [logged_in(grid), logged_in(grid)]
    manager = logged_in(city.users["street"])
    detail = manager.get(reverse("manage:detail", args=[grid.pk])).content.decode()
    assert 'id="end-sessions"' in detail
    response = manager.post(reverse("manage:end_sessions", args=[grid.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("manage:detail", args=[grid.pk])
    for phone in phones:
        assert sent_to_login(phone.get(HOME)) and not is_logged_in(phone)
    assert manager.get(HOME).status_code == 200 and is_logged_in(manager)
    entry = AuditLog.objects.filter(object_type="accounts.user", object_id=str(grid.pk)).latest("pk")
    assert entry.changes == {"sessions": "ended"} and entry.user_id == city.users["street"].pk


def test_out_of_reach_or_not_a_manager_ends_nothing(city):
    grid = city.users["grid_a"]
    phone = logged_in(grid)
    assert logged_in(city.users["other_community"]).post(reverse("manage:end_sessions", args=[grid.pk])).status_code == 404
    assert logged_in(city.users["grid_b"]).post(reverse("manage:end_sessions", args=[grid.pk])).status_code == 403
    assert phone.get(HOME).status_code == 200 and is_logged_in(phone)
    assert User.objects.get(pk=grid.pk).sessions_valid_after is None


@pytest.mark.parametrize("action", ["reset_password", "deactivate"])
def test_a_password_reset_or_a_deactivation_ends_the_sessions(city, action):
    grid = city.users["grid_a"]
    phone = logged_in(grid)
    manager = logged_in(city.users["street"])
    assert manager.post(reverse(f"manage:{action}", args=[grid.pk])).status_code in (200, 302)
    assert User.objects.get(pk=grid.pk).sessions_valid_after is not None
    assert sent_to_login(phone.get(HOME))  # (a deactivated account's session holds nobody: Django's backend refuses it)


def test_a_handed_out_password_is_changed_first_then_other_devices_can_be_logged_out(city):
    user = city.users["grid_a"]
    User.objects.filter(pk=user.pk).update(must_change_password=True)
    page = logged_in(user).get(reverse("accounts:password_change")).content.decode()
    assert 'id="logout-others"' not in page

"""Log-in through the real AuthenticationForm path (axes sees every attempt), log-out, language."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fangkong.audit.models import Action, AuditLog

pytestmark = pytest.mark.django_db


def attempt(client, username: str, password: str):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_the_login_page_renders_in_chinese_by_default(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert 'lang="zh-hans"' in response.content.decode()


def test_the_right_password_logs_in_and_lands_on_the_home_area(client, city, password):
    response = attempt(client, "grid_a", password)
    assert response.status_code == 302 and response["Location"] == reverse("areas:home")
    assert client.get("/", follow=True).context["area"].code == "420102001001001"


def test_a_wrong_password_shows_an_error(client, city):
    response = attempt(client, "grid_a", "wrong")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client, city, password):
    for _ in range(4):
        assert attempt(client, "grid_a", "wrong").status_code == 200
    locked = attempt(client, "grid_a", "wrong")
    assert locked.status_code == 429
    assert "accounts/locked_out.html" in [t.name for t in locked.templates]
    html = locked.content.decode()
    assert "15" in html  # minutes to wait (LOGIN_COOLOFF_HOURS 0.25)
    refused = attempt(client, "grid_a", password)
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lock_out_page_speaks_english_when_asked(client, city):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    for _ in range(5):
        response = attempt(client, "grid_b", "wrong")
    assert response.status_code == 429
    assert 'lang="en"' in response.content.decode() and "Try again in 15 minutes" in response.content.decode()


def test_log_out_is_a_post(client, city, login):
    login(city.users["grid_a"])
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    assert client.get("/").status_code == 302


def test_the_header_shows_user_role_and_only_the_allowed_links(city, login):
    client = login(city.users["grid_a"])
    html = client.get(reverse("areas:detail", args=["420102001001001"])).content.decode()
    assert "grid_a" in html and ("Grid worker" in html or "网格员" in html)
    assert reverse("people:search") in html
    assert reverse("accounts:logout") in html


def test_language_switch_to_english_renders_english(city, login):
    client = login(city.users["community"])
    response = client.post(reverse("set_language"), {"language": "en", "next": "/areas/420102001001/"})
    assert response.status_code == 302
    html = client.get(reverse("areas:detail", args=["420102001001"])).content.decode()
    assert 'lang="en"' in html
    assert "Households" in html and "Log out" in html
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert 'lang="zh-hans"' in client.get(reverse("areas:detail", args=["420102001001"])).content.decode()


def test_a_user_changes_their_own_password_and_the_change_is_logged_without_it(city, client, password):
    user = city.users["grid_a"]
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    url = reverse("accounts:password_change")
    wrong = client.post(url, {"old_password": "not-it", "new_password1": "Qingheju-2020!", "new_password2": "Qingheju-2020!"})
    assert wrong.status_code == 200 and "old_password" in wrong.context["form"].errors
    response = client.post(url, {"old_password": password, "new_password1": "Qingheju-2020!", "new_password2": "Qingheju-2020!"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Qingheju-2020!")
    entry = AuditLog.objects.get(action=Action.UPDATE, object_id=str(user.pk))
    assert entry.changes == {"password": "changed"} and "Qingheju" not in str(entry.changes)
    assert client.get(reverse("areas:home")).status_code == 302  # still logged in

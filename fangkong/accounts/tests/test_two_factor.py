"""Two-factor log-in (accounts.two_factor): the code after the password, enrolment (required for the wide
roles when OTP_REQUIRED_FOR_WIDE_ROLES is on), wrong codes counting toward the lock-out, backup codes, one's
own removal, a manager's reset, and the API's tokens unaffected."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from fangkong import settings as settings_module
from fangkong.accounts import two_factor
from fangkong.accounts.models import ROLE_AREA_LEVEL, ApiToken, User
from fangkong.areas.models import CODE_LENGTH, Level
from fangkong.audit.models import AuditLog
from fangkong.core import permissions
from fangkong.testing import PASSWORD, log_in_verified, totp_code

pytestmark = pytest.mark.django_db

VERIFY = reverse("accounts:two_factor_verify")
ENROL = reverse("accounts:two_factor_enrol")


@pytest.fixture(autouse=True)
def _no_otp_throttle(settings):
    # django-otp's growing wait after a wrong code is tested on its own (test_throttle); elsewhere each
    # wrong code is checked and counted.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


@pytest.fixture
def required(settings):
    settings.OTP_REQUIRED_FOR_WIDE_ROLES = True


def enrolled(user: User) -> tuple[str, list[str]]:
    """An authenticator device and backup codes for `user`: its base32 key and the codes."""
    device = TOTPDevice.objects.create(user=user, name=two_factor.TOTP_NAME, confirmed=True)
    return two_factor.secret(device), two_factor.new_backup_codes(user)


def password_step(client: Client, username: str, next_url: str = ""):
    data = {"username": username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("accounts:login"), data)


def code_step(client: Client, code: str, next_url: str = ""):
    return client.post(VERIFY, {"code": code, "next": next_url})


# --- The rule ---------------------------------------------------------------------------------------------

def test_two_factor_is_required_of_district_wide_accounts_only_when_the_setting_is_on(city, settings):
    settings.OTP_REQUIRED_FOR_WIDE_ROLES = True
    wide = {name for name, user in city.users.items() if permissions.requires_two_factor(user)}
    assert wide == {"root", "city", "district"}
    settings.OTP_REQUIRED_FOR_WIDE_ROLES = False
    assert not any(permissions.requires_two_factor(user) for user in city.users.values())


def test_the_wide_roles_are_exactly_those_bound_to_a_district_or_wider():
    # The rule reads the role, not the area (no query per request): each area role is bound to its level.
    wide_levels = {Level.CITY, Level.DISTRICT}
    assert {role for role, level in ROLE_AREA_LEVEL.items() if level in wide_levels} == permissions.WIDE_ROLES
    assert all(CODE_LENGTH[level] <= CODE_LENGTH[Level.DISTRICT] for level in wide_levels)


def test_the_default_is_on_in_a_deployment_and_off_in_the_demo():
    text = Path(settings_module.__file__).read_text()
    assert 'OTP_REQUIRED_FOR_WIDE_ROLES = env_bool("OTP_REQUIRED_FOR_WIDE_ROLES", not DEMO)' in text


# --- The code after the password -----------------------------------------------------------------------

def test_an_enrolled_account_gives_its_code_after_the_password(city):
    secret, _ = enrolled(city.users["grid_a"])
    client = Client()
    response = password_step(client, "grid_a")
    assert response.status_code == 302 and response["Location"].startswith(VERIFY + "?next=")
    # Every other page leads to the code page, keeping the page asked for; the API treats the session as anonymous.
    page = client.get(reverse("screening:today"))
    assert page.status_code == 302 and page["Location"] == f"{VERIFY}?next=%2Fscreening%2F"
    assert client.get("/api/me").status_code == 401
    form = client.get(VERIFY)
    assert form.status_code == 200 and b'autocomplete="one-time-code"' in form.content
    assert b'class="nav"' not in form.content  # no menu before the code
    done = code_step(client, totp_code(secret), "/screening/")
    assert done.status_code == 302 and done["Location"] == "/screening/"
    assert client.get(reverse("screening:today")).status_code == 200
    assert client.get("/api/me").status_code == 200


def test_a_wrong_code_is_a_field_error_and_a_failed_log_in(city):
    secret, _ = enrolled(city.users["grid_a"])
    client = Client()
    password_step(client, "grid_a")
    response = code_step(client, "000000" if totp_code(secret) != "000000" else "111111")
    assert response.status_code == 400
    assert response.context["form"].errors["code"]
    assert AuditLog.objects.filter(action="login_failed", object_repr="grid_a").count() == 1
    assert client.get("/").status_code == 302  # still owes its code


def test_five_wrong_codes_lock_the_account_out_and_log_the_session_out(city):
    enrolled(city.users["grid_a"])
    client = Client()
    password_step(client, "grid_a")
    for _ in range(4):
        assert code_step(client, "12345x").status_code == 400
    locked = code_step(client, "12345x")
    assert locked.status_code == 429
    assert "accounts/locked_out.html" in [t.name for t in locked.templates]
    assert "_auth_user_id" not in client.session
    assert password_step(client, "grid_a").status_code == 429  # the right password is refused too


def test_logging_in_again_with_the_password_does_not_forgive_wrong_codes(city):
    enrolled(city.users["grid_a"])
    client = Client()
    password_step(client, "grid_a")
    for _ in range(3):
        code_step(client, "654321x")
    client.post(reverse("accounts:logout"))
    assert password_step(client, "grid_a").status_code == 302
    code_step(client, "654321x")
    assert code_step(client, "654321x").status_code == 429


def test_the_right_code_forgives_earlier_failures(city):
    secret, _ = enrolled(city.users["grid_a"])
    client = Client()
    password_step(client, "grid_a")
    for _ in range(4):
        code_step(client, "999999x")
    assert code_step(client, totp_code(secret)).status_code == 302
    client.post(reverse("accounts:logout"))
    password_step(client, "grid_a")
    for _ in range(4):
        assert code_step(client, "999999x").status_code == 400  # counting starts again


def test_a_backup_code_logs_in_once(city):
    _, codes = enrolled(city.users["grid_a"])
    client = Client()
    password_step(client, "grid_a")
    assert code_step(client, codes[0].upper()).status_code == 302
    client.post(reverse("accounts:logout"))
    password_step(client, "grid_a")
    assert code_step(client, codes[0]).status_code == 400
    assert StaticToken.objects.filter(device__user=city.users["grid_a"]).count() == 9


def test_a_code_passes_only_once(city):
    secret, _ = enrolled(city.users["grid_a"])
    client = Client()
    password_step(client, "grid_a")
    code = totp_code(secret)
    assert code_step(client, code).status_code == 302
    client.post(reverse("accounts:logout"))
    password_step(client, "grid_a")
    assert code_step(client, code).status_code == 400
    assert code_step(client, totp_code(secret, at=time.time() + 30)).status_code == 302


def test_throttle_after_a_wrong_code(city, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    secret, _ = enrolled(city.users["grid_a"])
    client = Client()
    password_step(client, "grid_a")
    code_step(client, "000000" if totp_code(secret) != "000000" else "111111")
    response = code_step(client, totp_code(secret))
    assert response.status_code == 400
    assert re.search(r"wait \d+ second", str(response.context["form"].errors["code"]))


def test_throttle_during_enrolment(city, login, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    client = login(city.users["grid_a"])
    secret = client.get(ENROL).context["secret"]
    wrong = "000000" if totp_code(secret) != "000000" else "111111"
    assert client.post(ENROL, {"code": wrong}).status_code == 400
    response = client.post(ENROL, {"code": totp_code(secret)})
    assert response.status_code == 400
    assert re.search(r"wait \d+ second", str(response.context["form"].errors["code"]))


def test_without_a_device_the_password_is_enough(city):
    client = Client()
    response = password_step(client, "city")
    assert response.status_code == 302 and response["Location"] == reverse("areas:home")
    assert client.get(reverse("accounts:password_change")).status_code == 200


# --- Required: enrolment right after the password --------------------------------------------------------

def test_a_wide_account_without_a_device_enrols_before_anything_else(city, required):
    client = Client()
    response = password_step(client, "district")
    assert response.status_code == 302 and response["Location"].startswith(ENROL + "?next=")
    assert client.get("/").status_code == 302 and client.get("/")["Location"].startswith(ENROL)
    assert client.get(reverse("accounts:two_factor")).status_code == 302
    page = client.get(ENROL)
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert b'id="two-factor-required"' in page.content and b'class="nav"' not in page.content
    secret = page.context["secret"]
    qr = client.get(reverse("accounts:two_factor_qr"))
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content
    wrong = client.post(ENROL, {"code": "12ab"})
    assert wrong.status_code == 400 and wrong.context["form"].errors["code"]
    done = client.post(ENROL, {"code": totp_code(secret), "next": "/"})
    assert done.status_code == 200 and len(done.context["codes"]) == 10
    assert done["Cache-Control"] == "no-store"
    assert client.get(reverse("accounts:password_change")).status_code == 200  # verified by the enrolment itself
    district = city.users["district"]
    assert TOTPDevice.objects.get(user=district).confirmed
    assert StaticDevice.objects.get(user=district).token_set.count() == 10
    assert AuditLog.objects.filter(object_id=str(district.pk), changes__two_factor="enabled").exists()
    # Next log-in: the code page, with the next code of the app.
    client.post(reverse("accounts:logout"))
    assert password_step(client, "district")["Location"].startswith(VERIFY)
    assert code_step(client, totp_code(secret, at=time.time() + 30)).status_code == 302
    assert client.get(reverse("accounts:password_change")).status_code == 200


def test_a_handed_out_password_is_changed_after_the_second_factor(city, required):
    district = city.users["district"]
    district.must_change_password = True
    district.save(update_fields=["must_change_password"])
    client = Client()
    assert password_step(client, "district")["Location"].startswith(ENROL)
    page = client.get(ENROL)
    assert page.status_code == 200
    assert client.post(ENROL, {"code": totp_code(page.context["secret"])}).status_code == 200
    assert client.get("/")["Location"] == reverse("accounts:password_change")
    secret = two_factor.secret(TOTPDevice.objects.get(user=district))
    client.post(reverse("accounts:logout"))
    password_step(client, "district")
    assert client.get(VERIFY).status_code == 200
    assert code_step(client, totp_code(secret, at=time.time() + 30)).status_code == 302
    assert client.get("/")["Location"] == reverse("accounts:password_change")


def test_a_session_that_owes_its_code_cannot_enrol_a_device_of_its_own(city, required):
    enrolled(city.users["city"])
    client = Client()
    password_step(client, "city")
    response = client.get(ENROL)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert client.post(ENROL, {"code": "123456"}).status_code == 302
    assert TOTPDevice.objects.filter(user=city.users["city"]).count() == 1


def test_narrow_roles_need_no_device_when_it_is_required(city, required):
    client = Client()
    assert password_step(client, "street")["Location"] == reverse("areas:home")
    assert client.get(reverse("accounts:password_change")).status_code == 200


def test_api_tokens_are_unaffected(city, required):
    _, key = ApiToken.issue(city.users["city"], "script")
    response = Client().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200


def test_log_in_verified_helper_passes_the_requirement(city, required):
    client = log_in_verified(Client(), city.users["root"])
    assert client.get(reverse("accounts:password_change")).status_code == 200


# --- One's own page: enrol, see, new backup codes, remove --------------------------------------------------

def test_anyone_may_turn_it_on_from_their_account_page(city, login):
    client = login(city.users["grid_a"])
    page = client.get(reverse("accounts:password_change"))
    assert reverse("accounts:two_factor").encode() in page.content
    assert b'id="enrol"' in client.get(reverse("accounts:two_factor")).content
    secret = client.get(ENROL).context["secret"]
    assert client.post(ENROL, {"code": totp_code(secret)}).status_code == 200
    page = client.get(reverse("accounts:two_factor"))
    assert page.context["summary"].enabled and page.context["summary"].backup_codes_left == 10
    assert client.get(ENROL).status_code == 302  # already on
    assert client.get(reverse("accounts:two_factor_qr")).status_code == 404


def test_removing_it_takes_the_password(city, login):
    user = city.users["grid_a"]
    enrolled(user)
    client = log_in_verified(login(user), user)
    wrong = client.post(reverse("accounts:two_factor_remove"), {"password": "nope"})
    assert wrong.status_code == 400 and wrong.context["remove_form"].errors["password"]
    assert TOTPDevice.objects.filter(user=user).exists()
    assert client.post(reverse("accounts:two_factor_remove"), {"password": PASSWORD}).status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists() and not StaticDevice.objects.filter(user=user).exists()
    assert AuditLog.objects.filter(object_id=str(user.pk), changes__two_factor="removed").exists()
    assert client.get(reverse("accounts:password_change")).status_code == 200


def test_new_backup_codes_replace_the_old_ones(city, login):
    user = city.users["grid_a"]
    _, old = enrolled(user)
    client = log_in_verified(login(user), user)
    assert client.post(reverse("accounts:two_factor_backup_codes"), {"password": "nope"}).status_code == 400
    response = client.post(reverse("accounts:two_factor_backup_codes"), {"password": PASSWORD})
    assert response.status_code == 200 and len(response.context["codes"]) == 10
    assert not set(old) & set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))


def test_removing_it_when_required_leads_straight_back_to_enrolment(city, required):
    user = city.users["district"]
    enrolled(user)
    client = log_in_verified(Client(), user)
    client.post(reverse("accounts:two_factor_remove"), {"password": PASSWORD})
    assert client.get("/")["Location"].startswith(ENROL)


# --- A manager's reset -------------------------------------------------------------------------------------

def test_a_manager_resets_the_devices_and_ends_the_sessions(city, login):
    user = city.users["grid_a"]
    enrolled(user)
    victim = log_in_verified(Client(), user)
    manager = login(city.users["community"])
    detail = manager.get(reverse("manage:detail", args=[user.pk]))
    assert b'id="reset-two-factor"' in detail.content
    response = manager.post(reverse("manage:reset_two_factor", args=[user.pk]))
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert AuditLog.objects.filter(user=city.users["community"], object_id=str(user.pk),
                                   changes__two_factor="reset").exists()
    assert victim.get(reverse("accounts:password_change")).status_code == 302  # its sessions ended
    assert Client().post(reverse("accounts:login"), {"username": "grid_a", "password": PASSWORD})["Location"] \
        == reverse("areas:home")


def test_out_of_reach_managers_cannot_reset(city, login):
    enrolled(city.users["grid_a"])
    client = login(city.users["other_community"])
    assert client.post(reverse("manage:reset_two_factor", args=[city.users["grid_a"].pk])).status_code == 404
    assert login(city.users["grid_b"]).post(
        reverse("manage:reset_two_factor", args=[city.users["grid_a"].pk])).status_code == 403
    assert TOTPDevice.objects.filter(user=city.users["grid_a"]).exists()


def test_a_reset_between_the_password_and_the_code_lets_the_session_through(city):
    enrolled(city.users["grid_a"])
    client = Client()
    password_step(client, "grid_a")
    two_factor._delete_devices(city.users["grid_a"])
    response = client.get(VERIFY + "?next=/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get(reverse("accounts:password_change")).status_code == 200


def test_the_pages_speak_chinese(city, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    enrolled(city.users["grid_a"])
    client = Client()
    password_step(client, "grid_a")
    html = client.get(VERIFY).content.decode()
    assert "两步验证" in html or "验证码" in html

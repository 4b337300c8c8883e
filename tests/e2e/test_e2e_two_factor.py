"""Two-factor log-in on a phone: a district commander (two-factor required, OTP_REQUIRED_FOR_WIDE_ROLES on)
is sent to enrol right after the password, scans (here: reads) the key, confirms with the app's code and
gets the backup codes; logs out; logs in again with the password, a wrong code (a field error) and the
app's next code, computed in the test from the key as an authenticator app would. A grid worker turns it
on from the account page of her own choice. Screenshots for the README on the way."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from fangkong.accounts.models import User
from fangkong.testing import PASSWORD, totp_code

from .helpers import log_in, shoot


def _password(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()


def test_a_district_commander_enrols_then_logs_in_with_the_apps_code(e2e_city, phone: Page, settings):
    settings.OTP_REQUIRED_FOR_WIDE_ROLES = True
    page = phone
    log_in(page, "district")
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/enrol/\?next="))
    expect(page.locator("#two-factor-required")).to_be_visible()
    expect(page.locator("nav.nav")).to_have_count(0)  # nothing else before the enrolment
    qr = page.locator("img.qr")
    expect(qr).to_be_visible()
    assert page.evaluate("document.querySelector('img.qr').naturalWidth") > 0  # the SVG loaded (CSP: img-src self)
    page.goto("/")  # any other page leads back here
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/enrol/"))
    page.get_by_text("无法扫码").click()
    secret = page.locator("#otp-secret").inner_text()
    shoot(page, "two-factor-enrol-phone.png")

    page.locator("input[name=code]").fill("12")
    page.locator("#enrol-form button[type=submit]").click()
    expect(page.locator("#enrol-form .field-error")).to_be_visible()
    page.locator("input[name=code]").fill(totp_code(secret))
    page.locator("#enrol-form button[type=submit]").click()
    codes = page.locator("#backup-codes li")
    expect(codes).to_have_count(10)
    shoot(page, "two-factor-backup-codes-phone.png")
    page.locator("#continue").click()
    expect(page.locator("nav.nav")).to_be_visible()

    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    _password(page, "district")
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/verify/"))
    page.locator("input[name=code]").fill("000000" if totp_code(secret) != "000000" else "111111")
    page.locator("#verify-form button[type=submit]").click()
    error = page.locator("#verify-form .field-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("验证码错误")
    shoot(page, "two-factor-code-phone.png")
    time.sleep(1.1)  # django-otp's throttle: one second after a wrong code
    page.locator("input[name=code]").fill(totp_code(secret, at=time.time() + 30))  # the app's next code
    page.locator("#verify-form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/(two-factor|login)/"))
    expect(page.locator("nav.nav")).to_be_visible()


def test_a_grid_worker_turns_it_on_from_her_account_page(e2e_city, phone: Page):
    page = phone
    log_in(page, "grid_a")
    page.goto("/accounts/password/")
    page.locator("#two-factor-link").click()
    expect(page.locator("#two-factor-status")).to_contain_text("未开启")
    page.locator("#enrol").click()
    page.get_by_text("无法扫码").click()
    secret = page.locator("#otp-secret").inner_text()
    page.locator("input[name=code]").fill(totp_code(secret))
    page.locator("#enrol-form button[type=submit]").click()
    expect(page.locator("#backup-codes li")).to_have_count(10)
    page.locator("#continue").click()
    page.goto("/accounts/two-factor/")
    expect(page.locator("#backup-codes-left")).to_have_text("10")
    assert User.objects.get(username="grid_a").totpdevice_set.filter(confirmed=True).exists()

"""Steps shared by the browser tests."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from fangkong.testing import PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def log_in(page: Page, username: str, *, screenshot: str | None = None) -> None:
    """Through the real log-in form."""
    page.goto("/accounts/login/")
    if screenshot:
        shoot(page, screenshot)
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def shoot(page: Page, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    if full_page:
        page.evaluate("window.scrollTo(0, 0)")  # a page scrolled to an anchor is captured garbled otherwise
    page.screenshot(path=str(path), full_page=full_page)
    return path

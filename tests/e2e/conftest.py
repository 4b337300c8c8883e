"""Browser tests: Playwright (sync API) drives Debian's chromium against pytest-django's live server.

No browser is downloaded: chromium comes from the system (`/usr/bin/chromium`, see
scripts/install-system-deps.sh). Screenshots for the README are written to docs/screenshots/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls of the tests are still synchronous.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

from fangkong.testing import build_small_city  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM} (make system-test-deps installs it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def e2e_city(transactional_db):
    """The small city, committed so the live server thread sees it."""
    return build_small_city()


def _page(browser: Browser, live_server, viewport: dict, **extra) -> Page:
    # zh-CN in Accept-Language: pages come in the default language, Chinese, as for most users.
    context = browser.new_context(viewport=viewport, locale="zh-CN", base_url=live_server.url, accept_downloads=True, **extra)
    context.set_default_timeout(10_000)
    page = context.new_page()
    # The Content-Security-Policy (settings) allows no inline script or style: the browser reports what it
    # refused on the console, and a test whose pages had anything refused fails.
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.csp_refused = refused  # type: ignore[attr-defined]
    return page


def _close(page: Page) -> None:
    refused = page.csp_refused  # type: ignore[attr-defined]
    page.context.close()
    assert not refused, f"refused by the Content-Security-Policy: {refused}"


@pytest.fixture
def phone(browser, live_server) -> Iterator[Page]:
    page = _page(browser, live_server, PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    yield page
    _close(page)


@pytest.fixture
def desktop(browser, live_server) -> Iterator[Page]:
    page = _page(browser, live_server, DESKTOP)
    yield page
    _close(page)

"""Security headers on every page, and templates that a strict Content-Security-Policy lets through:
scripts and styles come from the site's static files only (settings.CONTENT_SECURITY_POLICY)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

PACKAGE = Path(__file__).resolve().parents[2]
# Written to a file by `fangkong import-accounts --sheet` and opened from disk, never served: no CSP applies.
NOT_SERVED = {"accounts/templates/accounts/manage/sheet_file.html"}

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I)
HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I)
STYLE_ELEMENT = re.compile(r"<style\b", re.I)
JAVASCRIPT_URL = re.compile(r"javascript:", re.I)


def templates() -> list[Path]:
    return sorted(PACKAGE.glob("**/templates/**/*.html"))


def offences(pattern: re.Pattern[str], *, skip: set[str] = frozenset()) -> list[str]:
    found = []
    for path in templates():
        name = path.relative_to(PACKAGE).as_posix()
        if name in skip:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                found.append(f"{name}:{n}: {line.strip()[:120]}")
    return found


def test_the_templates_are_found():
    assert len(templates()) > 100


@pytest.mark.parametrize("pattern", [INLINE_SCRIPT, HANDLER, JAVASCRIPT_URL], ids=["inline-script", "handler", "js-url"])
def test_no_template_has_inline_script(pattern):
    """Scripts live in static .js files (fangkong/static/fangkong.js wires data-print, data-confirm…)."""
    assert offences(pattern) == []


@pytest.mark.parametrize("pattern", [STYLE_ATTRIBUTE, STYLE_ELEMENT], ids=["style-attribute", "style-element"])
def test_no_served_template_has_inline_style(pattern):
    """Styles live in static .css files; a bar's length is a class (w-85), not a style attribute."""
    assert offences(pattern, skip=NOT_SERVED) == []


def check_headers(response) -> None:
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    policy = response["Permissions-Policy"]
    for feature in ("camera=()", "geolocation=()", "microphone=()"):
        assert feature in policy
    csp = {d.split()[0]: d.split()[1:] for d in response["Content-Security-Policy"].split("; ")}
    assert csp["default-src"] == ["'self'"] and csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    assert "unsafe" not in response["Content-Security-Policy"]


def test_the_log_in_page_carries_the_security_headers(db):
    check_headers(Client().get(reverse("accounts:login")))


@pytest.mark.django_db
def test_a_logged_in_page_and_an_api_answer_carry_them_too(city, login):
    client = login(city.users["street"])
    response = client.get(reverse("areas:home"), follow=True)
    assert response.status_code == 200
    check_headers(response)
    check_headers(client.get("/api/me"))


def test_the_api_docs_load_swagger_from_the_site_not_a_cdn(db):
    html = Client().get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "cdn." not in html

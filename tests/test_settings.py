"""Settings that refuse to start unsafe, and the one switch for a deployment behind TLS.

Each case loads the settings in a fresh process with its own environment, as gunicorn or `fangkong` would:
outside the demo and the tests (FANGKONG_DEMO=1), a missing, published or weak SECRET_KEY, an empty
ALLOWED_HOSTS or DEBUG on stop the start with a message saying what to set; `check --deploy` passes with
SECURE=1 (TLS terminated at nginx) and warns without it."""

from __future__ import annotations

import os
import pathlib
import secrets
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PUBLISHED_KEY = "demo-only-insecure-key-set-SECRET_KEY-in-production"
SETUP = "import django; django.setup(); from django.conf import settings; print('started', settings.SECRET_KEY[:4])"


def _production(**env: str | None) -> dict[str, str | None]:
    """A production-like environment: only what an operator sets, none of the demo's or the tests'."""
    return {
        "PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "fangkong.settings",
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{ROOT / '.settings-test.sqlite3'}"),
        "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "fangkong.example.gov.cn", **env,
    }


def _run(env: dict[str, str | None], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {name: value for name, value in env.items() if value is not None}
    return subprocess.run([sys.executable, *args], env=clean, cwd=ROOT, capture_output=True, text=True, timeout=300)


def _start(env: dict[str, str | None]) -> subprocess.CompletedProcess[str]:
    return _run(env, "-c", SETUP)


def test_production_settings_start():
    started = _start(_production())
    assert started.returncode == 0, started.stderr
    assert "started" in started.stdout


@pytest.mark.parametrize(("env", "says"), [
    ({"SECRET_KEY": None}, "SECRET_KEY is not set"),
    ({"SECRET_KEY": ""}, "SECRET_KEY is not set"),
    ({"SECRET_KEY": PUBLISHED_KEY}, "SECRET_KEY is the published demo key"),
    ({"SECRET_KEY": "django-insecure-" + secrets.token_urlsafe(50)}, "SECRET_KEY is the published demo key"),
    ({"SECRET_KEY": "short-but-secret"}, "SECRET_KEY is too short"),
    ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS is empty"),
    ({"ALLOWED_HOSTS": " , "}, "ALLOWED_HOSTS is empty"),
    ({"DEBUG": "1"}, "DEBUG is on"),
])
def test_unsafe_settings_stop_the_start_with_a_clear_message(env, says):
    refused = _start(_production(**env))
    assert refused.returncode != 0
    assert "ImproperlyConfigured: Fangkong refuses to start" in refused.stderr
    assert says in refused.stderr
    assert "FANGKONG_DEMO=1" in refused.stderr  # how the demo and the tests on one's own machine start
    assert "started" not in refused.stdout


def test_every_problem_is_named_at_once():
    refused = _start(_production(SECRET_KEY=None, ALLOWED_HOSTS=None, DEBUG="on"))
    assert refused.returncode != 0
    for says in ("SECRET_KEY is not set", "ALLOWED_HOSTS is empty", "DEBUG is on"):
        assert says in refused.stderr


def test_the_fangkong_command_says_it_without_a_traceback():
    refused = _run(_production(SECRET_KEY=PUBLISHED_KEY), "-m", "fangkong.cli", "check")
    assert refused.returncode == 1
    assert refused.stderr.startswith("Fangkong refuses to start")
    assert "Traceback" not in refused.stderr


@pytest.mark.parametrize("env", [
    {"SECRET_KEY": None, "ALLOWED_HOSTS": None},  # `make demo`: the published key, localhost
    {"SECRET_KEY": None, "ALLOWED_HOSTS": None, "DEBUG": "1"},
])
def test_the_demo_and_the_tests_start_with_the_defaults(env):
    started = _start(_production(FANGKONG_DEMO="1", **env))
    assert started.returncode == 0, started.stderr
    assert "started demo" in started.stdout


def test_the_demo_settings_module_is_demo_mode():
    # pytest-django and mypy's django plugin name a settings module and cannot set the environment.
    started = _start(_production(DJANGO_SETTINGS_MODULE="fangkong.settings_demo", SECRET_KEY=None, ALLOWED_HOSTS=None))
    assert started.returncode == 0, started.stderr


def _check_deploy(**env: str | None) -> subprocess.CompletedProcess[str]:
    return _run(_production(DEBUG="0", **env), "manage.py", "check", "--deploy", "--fail-level", "WARNING")


def test_check_deploy_passes_behind_tls_with_the_one_switch():
    checked = _check_deploy(SECURE="1")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no issues" in checked.stdout


def test_check_deploy_warns_without_the_switch():
    checked = _check_deploy()
    assert checked.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):  # HSTS, redirect, cookies
        assert warning in checked.stderr


def test_secure_cookies_is_the_older_name_of_the_switch():
    assert _check_deploy(SECURE_COOKIES="1").returncode == 0


def test_the_switch_trusts_the_proxy_scheme_and_sets_hsts_over_subdomains():
    shown = _run(_production(SECURE="1"), "-c", "import django; django.setup(); from django.conf import settings as s; "
                 "print(s.SECURE_PROXY_SSL_HEADER, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
                 "s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)")
    assert shown.stdout.split() == ["('HTTP_X_FORWARDED_PROTO',", "'https')", "31536000", "True", "True", "True", "True"]

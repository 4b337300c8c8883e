"""Structured logs without personal data: one JSON line per request with the view name (not the path with its
ids, not the query string), status, duration, user id and request id; no ID number or phone in any line, from
the request log or from an app logger; the text format for the demo; LOG_FORMAT switches them."""

from __future__ import annotations

import io
import json
import logging
import os
import pathlib
import subprocess
import sys

import pytest

from fangkong.core.logs import JsonFormatter, TextFormatter, scrub

ROOT = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture
def log_lines():
    """Everything logged while the test runs, formatted by the JSON formatter, request lines at INFO."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root, request_logger = logging.getLogger(), logging.getLogger("fangkong.request")
    old_level = request_logger.level
    root.addHandler(handler)
    request_logger.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    finally:
        root.removeHandler(handler)
        request_logger.setLevel(old_level)


@pytest.mark.django_db
def test_a_request_to_a_person_page_logs_one_line_without_ids_phone_or_path(city, login, log_lines):
    person = city.residents["zhangwei"]
    user = city.users["city"]
    client = login(user)
    response = client.get(f"/residents/{person.pk}/",
                          {"q": person.doc_number, "phone": person.phone, "from": "13912345678"})
    assert response.status_code == 200
    search = client.get("/search/", {"q": person.doc_number})
    assert search.status_code == 200
    lines = log_lines()
    requests = [line for line in lines if line["logger"] == "fangkong.request"]
    assert [r["view"] for r in requests] == ["people:resident", "people:search"]
    first = requests[0]
    assert first["method"] == "GET" and first["status"] == 200 and first["level"] == "INFO"
    assert first["user_id"] == user.pk
    assert isinstance(first["duration_ms"], float)
    assert first["request_id"] and len(first["request_id"]) == 32
    assert first["time"].endswith("+00:00")
    everything = json.dumps(lines, ensure_ascii=False)
    for secret in (person.doc_number, person.phone, "13912345678", person.name, user.username,
                   f"/residents/{person.pk}/"):
        assert secret not in everything, secret


@pytest.mark.django_db
def test_not_found_is_a_warning_line_naming_no_path(client, log_lines):
    client.get("/r/SeCrEtSelfReportToken123/")
    client.get("/no/such/page/420102198503021234/")
    lines = log_lines()
    text = json.dumps(lines)
    assert "SeCrEtSelfReportToken123" not in text and "420102198503021234" not in text
    assert {(r["level"], r["status"]) for r in lines if r["logger"] == "fangkong.request"} == {("WARNING", 404)}


def test_app_messages_and_tracebacks_are_masked():
    logger = logging.getLogger("fangkong.test")
    record = logger.makeRecord("fangkong.test", logging.ERROR, __file__, 1,
                               "refused %s for %s", ("420102198503021234", "+8613800138000"), None)
    try:
        raise ValueError('Key (doc_number)=(42010219850302123X) already exists; phone 13800138000')
    except ValueError:
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "fangkong.test"
    for secret in ("420102198503021234", "42010219850302123X", "13800138000"):
        assert secret not in line
    assert "4201**********1234" in entry["message"] and "ValueError" in entry["exception"]
    text = TextFormatter().format(record)
    assert "13800138000" not in text and "420102198503021234" not in text and "ERROR fangkong.test" in text


def test_scrub_leaves_ordinary_numbers():
    assert scrub("imported 1234567 rows in 12.5 s, batch 42") == "imported 1234567 rows in 12.5 s, batch 42"
    assert scrub("grid 420102001001001") != "grid 420102001001001"  # 15 digits look like an old ID: masked
    assert scrub("/o/abcdefgh1234/ failed") == "/o/-/ failed"


@pytest.mark.parametrize(("env", "formatter"), [
    ({"FANGKONG_DEMO": "1"}, "text"),
    ({"FANGKONG_DEMO": "1", "LOG_FORMAT": "json"}, "json"),
    ({"FANGKONG_DEMO": "0", "SECRET_KEY": "k" * 20 + "abcdefghijklmnopqrstuvwxyz0123456789",
      "ALLOWED_HOSTS": "example.org"}, "json"),
])
def test_log_format_switch(env, formatter):
    code = ("import django, logging; django.setup(); from django.conf import settings; "
            "print(settings.LOGGING['handlers']['console']['formatter'], "
            "type(logging.getLogger().handlers[0].formatter).__name__)")
    clean = {k: v for k, v in os.environ.items() if k not in ("LOG_FORMAT", "FANGKONG_DEMO")}
    out = subprocess.run([sys.executable, "-c", code], env={**clean, **env, "PYTHONPATH": str(ROOT),
                         "DJANGO_SETTINGS_MODULE": "fangkong.settings"}, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [formatter, {"text": "TextFormatter", "json": "JsonFormatter"}[formatter]]

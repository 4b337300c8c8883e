"""What the load and fault benchmarks read from the pages, as a phone's browser would: the CSRF token,
the form's client id, the roster's people and the day list's households (tests/test_bench_load.py checks
these against the real pages, so a template change cannot silently break the benchmarks)."""

from __future__ import annotations

import re

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CLIENT_ID = re.compile(r'name="client_id" value="([^"]+)"')
RESIDENT = re.compile(r'name="r(\d+)-presence"')
VISIT_LINK = re.compile(r'href="/screening/households/(\d+)/visit/')


def find(pattern: re.Pattern, text: str) -> str:
    match = pattern.search(text or "")
    return match.group(1) if match else ""


def readings(form: str, temperature: str = "36.5") -> dict[str, str]:
    """The form posted back: its CSRF token and client id, everyone on it present at `temperature`."""
    data = {"csrfmiddlewaretoken": find(CSRF, form), "client_id": find(CLIENT_ID, form)}
    for resident in dict.fromkeys(RESIDENT.findall(form)):
        data.update({f"r{resident}-presence": "present", f"r{resident}-temperature": temperature,
                     f"r{resident}-temperature_method": "forehead"})
    return data

"""API test helpers: `api("grid_a").get("/api/residents")` calls as a persona with a bearer token."""

import json
import sys
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from fangkong.accounts.models import ApiToken


def _do_not_rewrite_schemathesis() -> None:
    """pytest rewrites the asserts of every module of a plugin's distribution, and schemathesis (a
    pytest plugin) has hundreds of modules, imported lazily while fuzzing. Without a bytecode cache
    (PYTHONDONTWRITEBYTECODE=1) that re-parsing took ~40 s of a 10 s fuzz run; none of our asserts
    live there, so its modules are imported as they are."""
    for hook in sys.meta_path:
        marked = getattr(hook, "_must_rewrite", None)
        if isinstance(marked, set):
            marked.discard("schemathesis")


_do_not_rewrite_schemathesis()


class Caller:
    def __init__(self, client: Client, key: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {key}"}

    def get(self, path: str, params: dict | None = None):
        return self.client.get(path, params or {}, headers=self.headers)

    def _send(self, method: str, path: str, body: Any = None):
        send = getattr(self.client, method)
        return send(path, data=json.dumps(body if body is not None else {}), content_type="application/json", headers=self.headers)

    def post(self, path: str, body: Any = None):
        return self._send("post", path, body)

    def patch(self, path: str, body: Any = None):
        return self._send("patch", path, body)

    def put(self, path: str, body: Any = None):
        return self._send("put", path, body)

    def upload(self, path: str, filename: str, content: bytes):
        return self.client.post(path, {"file": SimpleUploadedFile(filename, content)}, headers=self.headers)


@pytest.fixture
def token_key(city):
    """The key of a (cached) API token of a persona."""
    keys: dict[str, str] = {}

    def _key(persona: str) -> str:
        if persona not in keys:
            keys[persona] = ApiToken.issue(city.users[persona], f"{persona} device")[1]
        return keys[persona]

    return _key


@pytest.fixture
def api(token_key):
    # A client that enforces CSRF, like a real device: token calls must not depend on it.
    client = Client(enforce_csrf_checks=True)

    def _as(persona: str) -> Caller:
        return Caller(client, token_key(persona))

    return _as


@pytest.fixture
def error_fields():
    """The fields named by a 422 response's error locations."""

    def _fields(response) -> set[str]:
        return {str(error["loc"][1]) for error in response.json()["detail"] if len(error["loc"]) > 1}

    return _fields

"""Per-request context (request id, client address) for audit entries, without passing requests around."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip_address: str | None = None


current = contextvars.ContextVar("fangkong_request_context", default=RequestContext())  # noqa: B039  (frozen dataclass: immutable)

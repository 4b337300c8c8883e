"""Structured logs without personal data (settings.LOGGING; README, deployment: logs).

- `JsonFormatter`: one JSON object a line — time (UTC, ISO 8601), level, logger, message, the record's `fields`
  (`logger.info("...", extra={"fields": {...}})`) and the exception, if any. `LOG_FORMAT=json` (the default of a
  deployment: the journal, then any log shipper, reads it field by field).
- `TextFormatter`: the same as a readable line (`LOG_FORMAT=text`, the demo's default).
- `RequestLogMiddleware`: one line per request on the `fangkong.request` logger — method, view (the URL
  resolver's view name, never the path with its ids or the query string: searches carry names, phones and ID
  numbers, self-report links carry their token), status, duration_ms, user_id (the account's id, never its
  name; null for an anonymous request or one that never looked at its user), request_id (the audit log's, so a
  line leads to the audit entries of the same request).

Both formatters pass the whole line through `scrub`: any ID number or mainland mobile number in a message or a
traceback (a database error quotes the row it refused) is masked as the lists mask them, and the token of a
self-report link (/r/<token>/, /o/<token>/) in a path becomes "-".

This module is loaded by logging's configuration before the apps: it imports no model.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty

from fangkong.core.masking import mask_document, mask_phone

request_logger = logging.getLogger("fangkong.request")

# An 18-digit (last may be X) or 15-digit ID number, a mainland mobile (1[3-9] + 9 digits, +86 or 86 before
# it allowed), each standing alone (not inside a longer run of digits or letters).
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<![0-9A-Za-z])((?:\+?86)?1[3-9]\d{9})(?![0-9A-Za-z])")
SELF_REPORT_TOKEN = re.compile(r"/(r|o)/[A-Za-z0-9_\-:.]{8,}/")


ELEVEN_DIGITS = re.compile(r"\d{11}")  # what an ID number and a mobile number have in common: a cheap first look


def scrub(text: str) -> str:
    """The text with ID numbers and mobile numbers masked and self-report tokens removed."""
    if ELEVEN_DIGITS.search(text):
        text = ID_NUMBER.sub(lambda m: mask_document(m.group(1)), text)
        text = MOBILE.sub(lambda m: mask_phone(m.group(1)), text)
    if "/r/" in text or "/o/" in text:
        text = SELF_REPORT_TOKEN.sub(r"/\1/-/", text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update({key: value for key, value in fields.items() if key not in entry})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return scrub(json.dumps(entry, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            first, newline, rest = line.partition("\n")
            line = first + "".join(f" {key}={value}" for key, value in fields.items()) + newline + rest
        return scrub(line)


def view_label(request: HttpRequest) -> str:
    """The URL resolver's view name of the request (`people:resident`), or `unmatched` (no route: a 404 for an
    unknown address, or an answer given by a middleware before the URL was resolved)."""
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None else "unmatched"


def user_id(request: HttpRequest) -> int | None:
    """The account's id if the request looked at its user (every page behind the log-in does); not loaded
    here for the others: a log line is not worth a session and user query."""
    user = getattr(request, "user", None)
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    return user.pk if user.is_authenticated else None


class RequestLogMiddleware:
    """One line per request (see the module); 5xx at ERROR (but 503, the database-away answer, at WARNING), 4xx
    at WARNING, the rest at INFO."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = self.get_response(request)
        status = response.status_code
        # 503 is the answer chosen while the database is away (core.error_pages, which logs its own warning),
        # not a server error.
        level = (logging.ERROR if status >= 500 and status != 503
                 else logging.WARNING if status >= 400 else logging.INFO)
        if request_logger.isEnabledFor(level):
            view = view_label(request)
            request_logger.log(level, "%s %s %s", request.method, view, status, extra={"fields": {
                "method": request.method, "view": view, "status": status,
                "duration_ms": round((time.perf_counter() - start) * 1000, 1),
                "user_id": user_id(request), "request_id": getattr(request, "request_id", None)}})
        return response

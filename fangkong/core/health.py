"""`/healthz` and `/readyz` for the load balancer.

- `/healthz`: the process answers (200 "ok"). No database, no session, no cache: cheap enough to be asked
  every second.
- `/readyz`: the process can serve: the database answers a trivial query and, when `REDIS_URL` is set,
  Redis answers PING. 200 with each check's status as JSON, or 503 naming the failing checks, with
  Retry-After. Each check has a short timeout, so a black-holed database or Redis cannot hang the probe.
  With a read replica (DATABASE_REPLICA_URL) the answer also tells its state ("ok", "lagging",
  "unreachable") and lag, as last measured by core.dbrouter; it never makes the instance unready, since
  the boards then read from the primary.

`HealthMiddleware` stands first in MIDDLEWARE and answers both before anything else runs: no host check
(probes often carry the machine's address), no HTTPS redirect, no session, no log-in or password-change
redirect, no language, no rate limit. The answers carry no personal data and no setting (not even the
error's text: that goes to the log, without the database's address).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse

from fangkong.core.dbrouter import replica_configured, replica_state

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_S = 2  # libpq's connect_timeout counts in whole seconds, 2 at least
RETRY_AFTER_S = 10

HEALTH_PATHS = ("/healthz", "/healthz/")
READY_PATHS = ("/readyz", "/readyz/")


def check_database() -> None:
    """`SELECT 1` on the default database. On a server database (PostgreSQL) through a fresh connection
    of its own, bounded by connect_timeout and a transaction-local statement_timeout (SET LOCAL, safe
    behind pgbouncer in transaction mode): the request's connection may be the very one that died."""
    default = connections[DEFAULT_DB_ALIAS]
    if default.vendor != "postgresql":
        with default.cursor() as cursor:
            cursor.execute("SELECT 1")
        return
    options = {k: v for k, v in default.settings_dict.get("OPTIONS", {}).items() if k != "pool"}
    options["connect_timeout"] = CHECK_TIMEOUT_S
    probe = default.__class__({**default.settings_dict, "OPTIONS": options, "CONN_MAX_AGE": 0},
                              alias="readyz")
    try:
        with probe.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(f"SET LOCAL statement_timeout = {CHECK_TIMEOUT_S * 1000}")
            cursor.execute("SELECT 1")
            cursor.execute("COMMIT")
    finally:
        probe.close()


def check_redis() -> None:
    """PING through a short-lived client with socket timeouts."""
    import redis  # only needed where REDIS_URL is set

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=CHECK_TIMEOUT_S,
                                  socket_timeout=CHECK_TIMEOUT_S, retry_on_timeout=False)
    try:
        client.ping()
    finally:
        client.close()


# What higher apps add to `/readyz` as information, never failing it (the job queue: its depth and live
# workers). Registered in their AppConfig.ready(); a report that raises is shown as "unknown".
REPORTS: dict[str, Callable[[], dict]] = {}


def register_report(name: str, report: Callable[[], dict]) -> None:
    REPORTS[name] = report


def readiness_checks() -> dict[str, Callable[[], None]]:
    """The checks `/readyz` runs, by name."""
    checks: dict[str, Callable[[], None]] = {"database": check_database}
    if getattr(settings, "REDIS_URL", ""):
        checks["redis"] = check_redis
    return checks


def healthz(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("ok", content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


def readyz(request: HttpRequest) -> HttpResponse:
    results: dict[str, str] = {}
    for name, check in readiness_checks().items():
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure makes the instance unready
            # The class name only: the message may carry the database's address or user.
            logger.warning("readyz: the %s check failed (%s)", name, type(exc).__name__)
            results[name] = "failed"
        else:
            results[name] = "ok"
    failing = [name for name, status in results.items() if status != "ok"]
    body: dict[str, object] = {"status": "unavailable" if failing else "ok", "checks": results}
    if failing:
        body["failing"] = failing
    for name, report in REPORTS.items():
        if failing:
            break  # the database is away: the reports would only wait for it
        try:
            if info := report():  # an empty report has nothing to tell (the queue without a worker process)
                body[name] = info
        except Exception as exc:  # noqa: BLE001 - information only
            logger.warning("readyz: the %s report failed (%s)", name, type(exc).__name__)
            body[name] = {"state": "unknown"}
    if replica_configured():
        # Reported, never failing: without the replica the boards read from the primary (core.dbrouter).
        state = replica_state()
        body["replica"] = {"state": state.reason, "lag_s": None if state.lag_s is None else round(state.lag_s, 1)}
    response = HttpResponse(json.dumps(body), content_type="application/json", status=503 if failing else 200)
    response["Cache-Control"] = "no-store"
    if failing:
        response["Retry-After"] = str(RETRY_AFTER_S)
    return response


class HealthMiddleware:
    """First in MIDDLEWARE: answers the two probes before any other middleware runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path in HEALTH_PATHS or path in READY_PATHS:
            if request.method not in ("GET", "HEAD"):
                response = HttpResponse(status=405)
                response["Allow"] = "GET, HEAD"
                return response
            return healthz(request) if path in HEALTH_PATHS else readyz(request)
        return self.get_response(request)

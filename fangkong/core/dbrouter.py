"""The read replica: dashboards, reports and exports read from a streaming replica of PostgreSQL, everything
else from the primary (README, deployment).

- `DATABASE_REPLICA_URL` set: settings add the database alias `replica` and `ReplicaRouter`. Without it
  nothing here does anything: one database, as in the demo.
- `@use_replica` marks a view whose reads may go to the replica (the command centre's boards, the
  reports and the XLSX exports); `reading_from_replica()` does the same for code outside a request. Every
  other read, and every write, goes to the primary. Reads stay on the primary inside a transaction on the
  primary (a view that wrote in its transaction reads what it wrote), and for the apps whose rows decide
  who the user is and what they may see (accounts, sessions, lock-outs): a role revoked on the primary is
  revoked at once.
- Read-your-writes: `ReplicaPinMiddleware` watches the statements of every POST (PUT, PATCH, DELETE) on
  the primary; one that changed data (INSERT, UPDATE, DELETE ...) sets a signed cookie that sends the
  user's reads to the primary for `REPLICA_PIN_SECONDS`: the board a commander opens right after a
  change shows the change, however far the replica is behind.
- Fallback: the replica is used only while it answers and its replay lag is under
  `REPLICA_MAX_LAG_SECONDS`. The lag (`now() - pg_last_xact_replay_timestamp()`, 0 while everything
  received is replayed) is asked at most every `CHECK_INTERVAL_S` per process and kept; a replica that
  cannot be reached counts as down for as long. A marked view that fails on the replica's connection is
  run again on the primary once.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

REPLICA = "replica"
CHECK_INTERVAL_S = 5.0  # how long one look at the replica's health is kept (per process)
PIN_COOKIE = "fangkong_primary"
PIN_SALT = "fangkong.core.dbrouter.pin"
# Who the user is and what they may see is read from the primary, always.
PRIMARY_ONLY_APPS = frozenset({"accounts", "auth", "sessions", "axes", "contenttypes", "admin"})
WRITE_VERBS = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE", "COPY", "TRUNCATE"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_route: ContextVar[str | None] = ContextVar("fangkong_read_route", default=None)

V = TypeVar("V", bound=Callable[..., HttpResponse])


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


# --- health ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReplicaState:
    usable: bool
    lag_s: float | None  # None: not reached
    reason: str  # "ok", "unreachable", "lagging", "not configured"
    checked_at: float


_state: ReplicaState | None = None
_state_lock = threading.Lock()

LAG_SQL = (
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0"
    " WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0"
    " ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
)


def replica_lag_seconds(connection: BaseDatabaseWrapper) -> float:
    """Seconds the replica's replay is behind: 0 when it has replayed all it received (an idle primary
    sends nothing, so the last replayed commit's age would be no lag at all), else the age of the last
    replayed commit. A replica alias that is not in recovery (a test pointing it at the primary) has none."""
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute(LAG_SQL)
        row = cursor.fetchone()
    return max(float(row[0] or 0), 0.0) if row else 0.0


def _measure() -> ReplicaState:
    now = time.monotonic()
    replica = connections[REPLICA]
    try:
        lag = replica_lag_seconds(replica)
    except Exception as exc:  # noqa: BLE001 - any failure: the replica is not used until the next look
        logger.warning("read replica unreachable (%s): reading from the primary", type(exc).__name__)
        with contextlib.suppress(Exception):
            replica.close()
        return ReplicaState(False, None, "unreachable", now)
    if lag > settings.REPLICA_MAX_LAG_SECONDS:
        logger.warning("read replica %.1f s behind (limit %s s): reading from the primary",
                       lag, settings.REPLICA_MAX_LAG_SECONDS)
        return ReplicaState(False, lag, "lagging", now)
    return ReplicaState(True, lag, "ok", now)


def replica_state(force: bool = False) -> ReplicaState:
    """The replica's health, looked at no more than every CHECK_INTERVAL_S in this process."""
    global _state
    if not replica_configured():
        return ReplicaState(False, None, "not configured", time.monotonic())
    state = _state
    if not force and state is not None and time.monotonic() - state.checked_at < CHECK_INTERVAL_S:
        return state
    with _state_lock:
        state = _state
        if force or state is None or time.monotonic() - state.checked_at >= CHECK_INTERVAL_S:
            state = _state = _measure()
    return state


def forget_replica_state() -> None:
    """The next look measures again (tests; after the replica's settings changed)."""
    global _state
    _state = None


# --- routing --------------------------------------------------------------------------------------------------

def current_read_alias() -> str:
    """Where reads go now: the route set by use_replica / reading_from_replica, unless a transaction on
    the primary is open (it reads what it wrote)."""
    alias = _route.get()
    if alias is None or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return alias


def read_connection() -> BaseDatabaseWrapper:
    """The connection for hand-written read-only SQL (counts on the boards): the replica inside a
    replica-routed view, else the primary."""
    return connections[current_read_alias()]


class ReplicaRouter:
    """Reads marked for the replica go there; all else, and every write and migration, to the primary."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str:
        if model._meta.app_label in PRIMARY_ONLY_APPS:
            return DEFAULT_DB_ALIAS
        return current_read_alias()

    def db_for_write(self, model: type[Any], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        both = {obj1._state.db, obj2._state.db}
        return True if both <= {DEFAULT_DB_ALIAS, REPLICA, None} else None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA  # the replica is read-only; it gets the schema by replication


def is_pinned(request: HttpRequest) -> bool:
    """The user wrote in the last REPLICA_PIN_SECONDS (the signed cookie's own timestamp tells)."""
    if PIN_COOKIE not in request.COOKIES:
        return False
    try:
        request.get_signed_cookie(PIN_COOKIE, salt=PIN_SALT, max_age=settings.REPLICA_PIN_SECONDS)
    except Exception:  # noqa: BLE001 - expired, tampered or malformed: not pinned
        return False
    return True


def replica_for(request: HttpRequest | None) -> str | None:
    """The alias a marked view reads from: the replica when configured, not pinned, healthy."""
    if not replica_configured():
        return None
    if request is not None and is_pinned(request):
        return None
    return REPLICA if replica_state().usable else None


@contextlib.contextmanager
def reading_from_replica(request: HttpRequest | None = None) -> Iterator[str]:
    """Reads inside go to the replica when it may be used; yields the alias chosen."""
    alias = replica_for(request)
    token = _route.set(alias)
    try:
        yield alias or DEFAULT_DB_ALIAS
    finally:
        _route.reset(token)


# What a standby answers when the primary's changes it replays need what a query holds (a dropped
# partition, a vacuumed row): "canceling statement due to conflict with recovery", or the database dropped.
RECOVERY_CONFLICT_SQLSTATES = frozenset({"40001", "57P04"})


def is_recovery_conflict(exc: BaseException) -> bool:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) in RECOVERY_CONFLICT_SQLSTATES


def use_replica(view: V) -> V:
    """Marks a read-only view (a board, a report, an export) whose reads may go to the replica. Should the
    replica fail under it (down, or a query cancelled by a conflict with the replay), the view runs again
    on the primary (it only read; a view that also writes an audit row writes it last, on the primary)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        with reading_from_replica(request) as alias:
            if alias == DEFAULT_DB_ALIAS:
                return view(request, *args, **kwargs)
            try:
                response = view(request, *args, **kwargs)
                render = getattr(response, "render", None)
                if callable(render) and not getattr(response, "is_rendered", True):
                    response = render()  # a TemplateResponse reads while it renders
                return response
            except (OperationalError, InterfaceError) as exc:
                if not is_recovery_conflict(exc) and replica_state(force=True).usable:
                    raise  # the primary failed, not the replica
        logger.warning("read replica failed under %s: reading from the primary", view.__name__)
        return view(request, *args, **kwargs)

    return wrapped  # type: ignore[return-value]


# --- read-your-writes -----------------------------------------------------------------------------------------

class ReplicaPinMiddleware:
    """After a request that changed data on the primary, the user's reads stay on the primary for
    REPLICA_PIN_SECONDS (a signed cookie with its own timestamp). Not used without a replica."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if not replica_configured():
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in UNSAFE_METHODS:
            return self.get_response(request)
        wrote = False

        def watch(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
            nonlocal wrote
            if not wrote:
                head = sql.lstrip(" (\n\t").split(None, 1)
                wrote = bool(head) and head[0].upper() in WRITE_VERBS
            return execute(sql, params, many, context)

        with connections[DEFAULT_DB_ALIAS].execute_wrapper(watch):
            response = self.get_response(request)
        if wrote:
            response.set_signed_cookie(
                PIN_COOKIE, "1", salt=PIN_SALT, max_age=settings.REPLICA_PIN_SECONDS, httponly=True,
                samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
        return response

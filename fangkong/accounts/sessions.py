"""How long a browser session lasts, and ending an account's sessions everywhere.

A session holds when it started (the log-in), when it was last seen and when it was issued — the moment
from which it counts as valid against the account's `sessions_valid_after`. SessionLimitMiddleware ends a
session idle longer than the role's idle timeout, older than its lifetime (`permissions.session_limits`), or
issued before the account's `sessions_valid_after` ("log out everywhere", a password reset, a
deactivation). The stamp on the user works with any session backend (database, cache, signed cookies):
nothing has to find the other sessions, they end at their next request.

"Last seen" moves at most once a minute (ACTIVITY_RESOLUTION), so that a phone's every request does not
write its session row; the idle timeout may therefore strike up to a minute early, never late.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

STARTED = "_fk_started"
SEEN = "_fk_seen"
ISSUED = "_fk_issued"
ACTIVITY_RESOLUTION = 60  # seconds

IDLE = "idle"
LIFETIME = "lifetime"
ENDED = "ended"


def now() -> float:
    return time.time()


@receiver(user_logged_in, dispatch_uid="fangkong.accounts.sessions.stamp")
def stamp(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """A fresh log-in starts the clocks (the session key has just been cycled)."""
    if request is not None and hasattr(request, "session"):
        moment = now()
        request.session[STARTED] = request.session[SEEN] = request.session[ISSUED] = moment


def reissue(request: HttpRequest, valid_after: dt.datetime) -> None:
    """Keep this session valid after its account's sessions were ended from it (the user's own
    "log out on my other devices")."""
    request.session[ISSUED] = valid_after.timestamp()


def expiry(request: HttpRequest, user: Any, limits: Any) -> str:
    """Why this logged-in session must end (IDLE, LIFETIME, ENDED), or "" — touching its clocks
    when they need it. A session without clocks (logged in before they existed) starts them now,
    unless the account's sessions were ended since: then it is ended too."""
    session = request.session
    moment = now()
    valid_after = user.sessions_valid_after
    if STARTED not in session:
        session[STARTED] = session[SEEN] = moment
        session[ISSUED] = 0.0 if valid_after is not None else moment
    if valid_after is not None and session.get(ISSUED, 0.0) < valid_after.timestamp():
        return ENDED
    if moment - session[SEEN] > limits.idle.total_seconds():
        return IDLE
    if moment - session[STARTED] > limits.absolute.total_seconds():
        return LIFETIME
    if moment - session[SEEN] >= ACTIVITY_RESOLUTION:
        session[SEEN] = moment
    return ""

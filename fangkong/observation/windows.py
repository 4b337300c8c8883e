"""Reporting windows: the policy's `home_report_windows` (local time, Asia/Shanghai).

A report belongs to a window of its own local calendar day: the window containing its time; between
two windows, the next one (an early report); after the day's last window, that last window (a late
report). So a report never counts for another day, and every day has exactly one slot per window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from fangkong.policy.labels import WINDOW_NAME_LABELS
from fangkong.policy.schema import Policy
from fangkong.policy.services import current_policy


def local_today(now: dt.datetime | None = None) -> dt.date:
    return timezone.localdate(now or timezone.now())


@dataclass(frozen=True)
class Window:
    name: str
    start: dt.time
    end: dt.time


def windows(policy: Policy | None = None) -> list[Window]:
    policy = policy or current_policy()
    result = [Window(w.name, dt.time.fromisoformat(w.start), dt.time.fromisoformat(w.end))
              for w in policy.home_report_windows]
    return sorted(result, key=lambda w: w.start)


def window_label(name: str) -> str:
    """A window's name as people read it (早上, 中午, 晚上); a name the commander made up as it is."""
    return str(WINDOW_NAME_LABELS.get(name, name))


def window_list(policy: Policy | None = None) -> list[tuple[str, str, str]]:
    """(label, from, until) of each window of the day, for the pages that tell people when to report."""
    return [(window_label(w.name), w.start.strftime("%H:%M"), w.end.strftime("%H:%M")) for w in windows(policy)]


def window_for(moment: dt.datetime, policy: Policy | None = None) -> tuple[dt.date, str]:
    """The (local date, window name) a report made at `moment` counts for (see the module docstring)."""
    local = timezone.localtime(moment)
    day, clock = local.date(), local.time()
    slots = windows(policy)
    for window in slots:
        if clock < window.end:  # inside it, or before it (the next window)
            return day, window.name
    return day, slots[-1].name  # after the last window: a late report for it


def window_end(day: dt.date, window: Window) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, window.end))


def current_window(now: dt.datetime | None = None, policy: Policy | None = None) -> Window | None:
    """The window open at `now`, if any."""
    local = timezone.localtime(now or timezone.now())
    return next((w for w in windows(policy) if w.start <= local.time() < w.end), None)

"""Helpers for tests of the screening (unit, API and browser tests): visit inputs and local times."""

from __future__ import annotations

import datetime as dt
import uuid

from django.utils import timezone

from fangkong.screening.validation import PersonInput, VisitInput


def at(days_ago: int = 0, hour: int = 10) -> dt.datetime:
    """A local time `days_ago` days back (Asia/Shanghai), never in the future."""
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))
    return min(moment, timezone.now())


def reached(*residents, method: str = "door", visited_at=None, **readings) -> VisitInput:
    """A reached visit with everyone present at 36.5 °C unless `readings` say otherwise."""
    defaults = {"temperature": "36.5"}
    defaults.update(readings)
    return VisitInput(client_id=uuid.uuid4(), method=method, outcome="reached", visited_at=visited_at,
                      persons=[PersonInput(resident_id=r.pk, **defaults) for r in residents])


def not_reached(outcome: str = "nobody_home", method: str = "door", visited_at=None) -> VisitInput:
    return VisitInput(client_id=uuid.uuid4(), method=method, outcome=outcome, visited_at=visited_at)

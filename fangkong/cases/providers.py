"""Providers: how cases asks an app above it for facts it does not keep, without importing that app.

A hook (core.hooks) tells the apps above that something happened; a provider asks one of them a
question and uses the answer. Facilities keeps the beds and stays: it provides, in its ready(), which
cases a facility's staff may see, what beds a person holds (for the placement state) and the times of
the stays (for the time in each link). Without a provider the question has its default answer (no
beds, no stays), so cases works on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, ParamSpec, TypeVar

from django.db.models import Q

from fangkong.core.scope import NOTHING

P = ParamSpec("P")
R = TypeVar("R")


class Provider(Generic[P, R]):
    """One answer to one question, given by the app above that registered it (the last one wins)."""

    def __init__(self, name: str, default: Callable[P, R]):
        self.name = name
        self._default = default
        self._provider: Callable[P, R] | None = None

    def provide(self, provider: Callable[P, R]) -> Callable[P, R]:
        """Register the function that answers (usable as a decorator); returns it unchanged."""
        self._provider = provider
        return provider

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return (self._provider or self._default)(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Provider {self.name}: {'provided' if self._provider else 'default'}>"


def _no_cases(facility_id: int) -> Q:
    return NOTHING


# Facility staff see the people booked into or staying in their facility: facility id → the Q over cases.
FACILITY_CASES: Provider[[int], Q] = Provider("cases.facility_cases", _no_cases)

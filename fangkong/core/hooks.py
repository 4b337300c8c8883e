"""Hooks: how a lower app lets the apps above it react to what it did, without importing them.

The lower app declares a hook next to the operation that fires it, with the arguments it passes::

    status_changed: Hook[[User | None, Case, str, dt.datetime]] = Hook("cases.status_changed")

fires it explicitly from its service (never from a model signal), inside the operation's transaction,
and the higher app registers a receiver in its AppConfig.ready()::

    status_changed.register(open_investigation_on_confirmation)

A receiver runs in the caller's transaction: an exception rolls the whole operation back, so receivers
are small, idempotent and set-based where they take many ids. Registering the same receiver twice is a
no-op (ready() may run more than once in tests).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, ParamSpec

P = ParamSpec("P")


class Hook(Generic[P]):
    def __init__(self, name: str):
        self.name = name
        self._receivers: list[Callable[P, None]] = []

    def register(self, receiver: Callable[P, None]) -> Callable[P, None]:
        """Add a receiver (usable as a decorator); returns it unchanged."""
        if receiver not in self._receivers:
            self._receivers.append(receiver)
        return receiver

    def unregister(self, receiver: Callable[P, None]) -> None:
        """Remove a receiver (a test's temporary one); unknown receivers are ignored."""
        if receiver in self._receivers:
            self._receivers.remove(receiver)

    def fire(self, *args: P.args, **kwargs: P.kwargs) -> None:
        for receiver in self._receivers:
            receiver(*args, **kwargs)

    @property
    def receivers(self) -> tuple[Callable[P, None], ...]:
        return tuple(self._receivers)

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self._receivers)} receivers>"

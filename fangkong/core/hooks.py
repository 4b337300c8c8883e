"""Hooks and providers: how a lower app lets the apps above it react to what it did, or answer what it
asks, without importing them.

The lower app declares a hook next to the operation that fires it, with the arguments it passes::

    status_changed: Hook[[User | None, Case, str, dt.datetime]] = Hook("cases.status_changed")

fires it explicitly from its service (never from a model signal), inside the operation's transaction,
and the higher app registers a receiver in its AppConfig.ready()::

    status_changed.register(open_investigation_on_confirmation)

A receiver runs in the caller's transaction: an exception rolls the whole operation back, so receivers
are small, idempotent and set-based where they take many ids. Registering the same receiver twice is a
no-op (ready() may run more than once in tests).

A provider is the other direction: the lower app asks a question whose answer only a higher app knows
(which beds a person holds, how many residents a building has). It declares the question with a default
answer, so that it works on its own, and the higher app provides the answer in its ready()::

    BEDS: Provider[[Case, Policy, dt.datetime], Beds] = Provider("cases.beds", no_beds)
    BEDS.provide(beds_of)          # facilities, in ready()
    beds = BEDS(case, policy, now)  # cases, where it needs the answer
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


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

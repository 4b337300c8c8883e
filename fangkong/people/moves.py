"""When residents move to a household under another area code, rows that other apps keep under the
resident's area code (their scoping key) must move with them: a case, its tests, an observation
file. People does not know those apps (they depend on it), so each registers a hook in its
AppConfig.ready(); the roster import and resident edits call `residents_moved` in their transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

_HOOKS: list[Callable[[Sequence[int]], None]] = []


def on_residents_moved(hook: Callable[[Sequence[int]], None]) -> None:
    """Register a set-based hook taking the ids of residents whose area code has just changed."""
    if hook not in _HOOKS:
        _HOOKS.append(hook)


def residents_moved(resident_ids: Sequence[int]) -> None:
    if resident_ids:
        for hook in _HOOKS:
            hook(resident_ids)


def id_chunks(resident_ids: Sequence[int], size: int = 900) -> Iterator[tuple[list[int], str]]:
    """The ids in parts below SQLite's historical 999 parameters, each with its `%s, %s, …` marks:
    for the hooks' set-based `UPDATE … WHERE r.id IN (marks)`."""
    ids = sorted(set(resident_ids))
    for start in range(0, len(ids), size):
        part = ids[start:start + size]
        yield part, ", ".join(["%s"] * len(part))

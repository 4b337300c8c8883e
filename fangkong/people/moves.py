"""When residents move to a household under another area code, rows that other apps keep under the
resident's area code (their scoping key) must move with them: a case, its tests, an observation
file. People does not know those apps (they depend on it), so each registers a hook in its
AppConfig.ready(); the roster import and resident edits call `residents_moved` in their transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from fangkong.core.hooks import Hook

# Set-based receivers taking the ids of residents whose area code has just changed.
RESIDENTS_MOVED: Hook[[Sequence[int]]] = Hook("people.residents_moved")


def residents_moved(resident_ids: Sequence[int]) -> None:
    if resident_ids:
        RESIDENTS_MOVED.fire(resident_ids)


def id_chunks(resident_ids: Sequence[int], size: int = 900) -> Iterator[tuple[list[int], str]]:
    """The ids in parts below SQLite's historical 999 parameters, each with its `%s, %s, …` marks:
    for the hooks' set-based `UPDATE … WHERE r.id IN (marks)`."""
    ids = sorted(set(resident_ids))
    for start in range(0, len(ids), size):
        part = ids[start:start + size]
        yield part, ", ".join(["%s"] * len(part))

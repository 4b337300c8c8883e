"""What the area pages, the area API and the tree counts show of the residents.

Residents are `people`'s, which lies above areas: areas never imports it. People provides the figures
through `RESIDENT_FIGURES.provide(...)` in its AppConfig.ready() (as accounts provides the grid workers,
`areas.grids.WORKER_DIRECTORY`). Without a provider every resident figure is zero.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db.models import Expression, IntegerField, Value

from fangkong.core.hooks import Provider
from fangkong.core.scope import ScopedUser

Housing = Literal["building", "compound"]


@dataclass
class Counts:
    households: int = 0
    residents: int = 0
    special: int = 0  # residents with at least one special-group tag
    by_group: dict[int, int] = field(default_factory=dict)

    def add(self, other: Counts) -> None:
        self.households += other.households
        self.residents += other.residents
        self.special += other.special
        for bit, n in other.by_group.items():
            self.by_group[bit] = self.by_group.get(bit, 0) + n


@dataclass(frozen=True)
class ResidentFigures:
    """The resident figures areas shows, each a function of people's."""

    # special-group bit → its label, in the order the pages list them
    groups: Callable[[], Mapping[int, Any]]
    # (area code, prefix width) → the residents under the code grouped by the first `width` characters of
    # their area codes: residents, special and by_group filled in, households left at 0 (areas counts those)
    tree: Callable[[str, int], dict[str, Counts]]
    # (user, "building" or "compound", ids) → how many residents of each the user may see
    visible: Callable[[ScopedUser | None, Housing, Sequence[int]], dict[int, int]]
    # an expression annotating a household queryset with the number of the household's residents
    per_household: Callable[[], Expression]


NO_RESIDENTS = ResidentFigures(
    groups=lambda: {},
    tree=lambda code, width: {},
    visible=lambda user, housing, ids: {},
    per_household=lambda: Value(0, output_field=IntegerField()),
)

# The resident figures, provided by people in its ready(); zero everywhere without it.
RESIDENT_FIGURES: Provider[[], ResidentFigures] = Provider("areas.resident_figures", lambda: NO_RESIDENTS)

"""Who may go where, read from the policy: the one place that turns routing rules into facility and bed kinds.

The policy routes each category to facility kinds (first = preferred) and allows it some bed kinds.
The routing target `isolation_single_room` means the single rooms of isolation sites.
"""

from __future__ import annotations

from dataclasses import dataclass

from fangkong.facilities.models import BedKind, FacilityKind
from fangkong.policy.schema import Policy

# Routing target → (facility kind, the bed kinds the target itself restricts to, or None).
TARGETS: dict[str, tuple[str, frozenset[str] | None]] = {
    "designated_hospital": (FacilityKind.DESIGNATED_HOSPITAL, None),
    "shelter_hospital": (FacilityKind.SHELTER_HOSPITAL, None),
    "isolation_site": (FacilityKind.ISOLATION_SITE, None),
    "isolation_single_room": (FacilityKind.ISOLATION_SITE, frozenset({BedKind.SINGLE_ROOM})),
    "recovery_station": (FacilityKind.RECOVERY_STATION, None),
    "fever_clinic": (FacilityKind.FEVER_CLINIC, None),
}


@dataclass(frozen=True)
class Option:
    rank: int  # 0 = the preferred kind of facility
    facility_kind: str
    bed_kind: str
    bed_rank: int = 0  # 0 = the preferred kind of bed (the order of the policy's bed_kinds), inside one facility


def options(policy: Policy, category: str) -> list[Option]:
    """Every (facility kind, bed kind) the category may take, with the rank of its routing target and
    of its bed kind. A (facility kind, bed kind) reached by two targets keeps the better rank."""
    if not category:
        return []
    beds = policy.bed_kinds.get(category, [])
    best: dict[tuple[str, str], int] = {}
    for rank, target in enumerate(policy.routing.get(category, [])):
        facility_kind, only = TARGETS[target]
        for bed in beds:
            if only is None or bed in only:
                best.setdefault((facility_kind, bed), rank)
    return [Option(rank, kind, bed, beds.index(bed)) for (kind, bed), rank in best.items()]


def fits(policy: Policy, category: str, facility_kind: str, bed_kind: str) -> bool:
    return any(o.facility_kind == facility_kind and o.bed_kind == bed_kind for o in options(policy, category))


def rank_of(policy: Policy, category: str, facility_kind: str, bed_kind: str) -> int | None:
    for option in options(policy, category):
        if option.facility_kind == facility_kind and option.bed_kind == bed_kind:
            return option.rank
    return None

"""Who a reported contact is in the registry: document number, then phone, then name + address.

Only residents the acting user may see are searched (Resident.objects.restrict): a grid worker finds
the people of their grid, a commander those of their district or city. A contact who lives elsewhere
stays unmatched in the investigation's match queue, which the commanders above see; they match it
at their level (contacts.rematch). Nobody is ever shown a resident outside their scope.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from fangkong.accounts.models import User
from fangkong.people.models import Resident

MAX_CANDIDATES = 5
MIN_ADDRESS_SIMILARITY = 0.5
# Words that vary between how people say an address and how the registry writes it.
_ADDRESS_NOISE = re.compile(r"[\s,，.。#\-－]|小区|社区|单元|栋|幢|号楼|号|室|楼")


@dataclass(frozen=True)
class Candidate:
    resident: Resident
    score: float  # 0..1, address similarity (1 when the same phone was given)


def address_key(text: str) -> str:
    return _ADDRESS_NOISE.sub("", text or "")


def address_similarity(reported: str, registered: str) -> float:
    """Similarity of two addresses after dropping the words that vary (小区, 栋, 单元, 号, 室)."""
    a, b = address_key(reported), address_key(registered)
    if not a or not b:
        return 0.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def by_document(user: User, doc_type: str, doc_number: str) -> Resident | None:
    if not doc_number:
        return None
    return Resident.objects.restrict(user).filter(doc_type=doc_type, doc_number=doc_number).first()


def by_phone(user: User, phone: str) -> list[Resident]:
    """At most two residents with this phone (one is a match; two means a family shares it)."""
    if not phone:
        return []
    return list(Resident.objects.restrict(user).filter(phone=phone).order_by("id")[:2])


def candidates(user: User, name: str, address: str, phone: str = "") -> list[Candidate]:
    """Residents in scope with the same name whose home address resembles the reported one (or, with
    no address reported, every namesake sharing the reported phone); best first, a human confirms."""
    name = "".join((name or "").split())
    if not name:
        return []
    namesakes = (Resident.objects.restrict(user).filter(name=name)
                 .select_related("household__compound", "household__building", "household__unit").order_by("id")[:50])
    found = []
    for resident in namesakes:
        score = 1.0 if phone and resident.phone == phone else address_similarity(address, resident.household.address)
        if score >= MIN_ADDRESS_SIMILARITY:
            found.append(Candidate(resident, round(score, 2)))
    found.sort(key=lambda c: (-c.score, c.resident.pk))
    return found[:MAX_CANDIDATES]

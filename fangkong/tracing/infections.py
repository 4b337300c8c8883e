"""Infection links: who infected whom, recorded by a human (cycles refused), the picker of possible
infectors and the close contacts offered as "infected by" once a person falls ill. The chains and
clusters drawn from these links are tracing.chains.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.cases.models import Case, Status
from fangkong.core.errors import FieldErrors, actor, clean_text
from fangkong.tracing.models import MATCHED_STATES, Contact, InfectionLink

# Cases that can be the infectee of an infection link (they had the disease).
INFECTED = (Status.SUSPECTED, Status.CONFIRMED, Status.DISCHARGED, Status.RECOVERY, Status.DECEASED)


def _is_ancestor(candidate_id: int, case_id: int) -> bool:
    """Is `candidate_id` among the infectors (direct or not) of `case_id`?"""
    sql = ("WITH RECURSIVE up(id) AS (SELECT infector_id FROM tracing_infectionlink WHERE infectee_id = %s "
           "UNION SELECT l.infector_id FROM tracing_infectionlink l JOIN up ON l.infectee_id = up.id) "
           "SELECT 1 FROM up WHERE id = %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [case_id, candidate_id])
        return cursor.fetchone() is not None


def record_infection_link(user: User, infector: Case, infectee: Case, evidence: str = "") -> tuple[InfectionLink, bool]:
    """Who infected whom; both cases are the user's to see (the caller reached them in scope).
    Idempotent; cycles are refused."""
    errors: dict[str, str] = {}
    evidence = clean_text(evidence, "evidence", limit=200, errors=errors)
    if infector.pk == infectee.pk:
        errors["infector"] = _("A case cannot infect itself.")
    elif infectee.status not in INFECTED:
        errors["infectee"] = _("Only a suspected or confirmed case can have been infected.")
    elif _is_ancestor(infectee.pk, infector.pk):
        errors["infector"] = _("This would make a circle: the infectee is already among the infector's sources.")
    if errors:
        raise FieldErrors(errors)
    with transaction.atomic():
        link, created = InfectionLink.objects.get_or_create(
            infector=infector, infectee=infectee,
            defaults={"evidence": evidence, "recorded_by": actor(user), "area_code": infectee.area_code})
        if created:
            record(user, Action.CREATE, link, object_type="tracing.infectionlink", object_repr=f"{infector.pk}→{infectee.pk}",
                   changes={"infector": infector.pk, "infectee": infectee.pk, "evidence": evidence})
    return link, created


PICKER_LIMIT = 20


def infector_candidates(user: User, infectee: Case, query: str) -> list[Case]:
    """Cases the user may link as the infector of `infectee`, found by name or the tail of the ID number
    (at least four characters): in the user's scope, ill (INFECTED), not the infectee nor already linked."""
    text = " ".join(str(query or "").split())[:50]
    if not text:
        return []
    match = Q(resident__name__contains=text)
    tail = text.upper()
    if len(tail) >= 4 and tail.isalnum() and any(ch.isdigit() for ch in tail):
        match |= Q(resident__doc_number__endswith=tail)
    linked = InfectionLink.objects.filter(infectee=infectee).values("infector_id")
    return list(Case.objects.restrict(user).filter(match, status__in=INFECTED).exclude(pk=infectee.pk)
                .exclude(pk__in=linked).select_related("resident__household__compound", "resident__household__building",
                                                       "resident__household__unit")
                .order_by("resident__name", "id")[:PICKER_LIMIT])


def suggested_links(user: User, case: Case) -> list[Contact]:
    """Close contacts of visible cases who are this person: offered as "infected by" once the person is
    suspected or confirmed (a human records the link)."""
    if case.status not in INFECTED:
        return []
    linked = InfectionLink.objects.filter(infectee=case).values("infector_id")
    visible = Case.objects.restrict(user).values("pk")
    return list(Contact.objects.filter(resident_id=case.resident_id, is_close=True, match_state__in=MATCHED_STATES)
                .exclude(investigation__case=case).exclude(investigation__case__in=linked)
                .filter(investigation__case__in=visible).select_related("investigation__case__resident")[:10])

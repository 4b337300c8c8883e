"""Demo tracing data for `make demo`: investigations of some demo cases (the demo grid's first), their
household contacts matched by document number and queued, neighbours reported by name and address
waiting for a human to confirm, protected colleagues who are not close contacts, public places with
disinfection tasks (some done), and a few contacts who fell ill, linked to their index case — which
makes chains and household clusters. Everything goes through the tracing services, as a worker would.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from django.db import transaction
from django.utils import timezone

from fangkong.accounts.models import User
from fangkong.cases import services as cases
from fangkong.cases.models import Case, Status
from fangkong.people.models import Resident
from fangkong.tracing.contacts import record_contact
from fangkong.tracing.infections import record_infection_link
from fangkong.tracing.investigations import ensure_investigation, mark_task_done, update_investigation
from fangkong.tracing.models import Investigation

PLACES = ("汉口火车站", "武商广场", "社区菜市场", "地铁2号线", "社区卫生服务中心", "永辉超市", "公交538路")


def _system_user() -> User:
    # Not saved: the audit log records the demo's changes without an account (user is None there).
    return User(username="demo-tracing", is_superuser=True, is_active=True)


def build_demo_tracing(seed: int = 2020, investigations: int = 24) -> Counter:
    counts: Counter = Counter()
    if Investigation.objects.exists():
        return counts
    rng = random.Random(seed)
    user = _system_user()
    today = timezone.localdate()
    index_cases = list(Case.objects.filter(status__in=[Status.CONFIRMED, Status.SUSPECTED]).select_related("resident")
                       .order_by("area_code", "id")[:investigations])
    ill_contacts: list[tuple[Case, Resident]] = []
    with transaction.atomic():
        for case in index_cases:
            investigation = ensure_investigation(user, case)
            onset = timezone.localtime(case.status_since).date() - dt.timedelta(days=rng.randint(1, 4))
            update_investigation(user, investigation, onset_on=onset, sampled_on=onset + dt.timedelta(days=1),
                                 places=rng.sample(PLACES, rng.randint(1, 2)), notes="发病前曾到以下场所")
            counts["investigations"] += 1
            last = min(today, onset + dt.timedelta(days=2))
            household = list(Resident.objects.filter(household_id=case.resident.household_id).exclude(pk=case.resident_id)[:4])
            for member in household:
                contact, _ = record_contact(user, investigation, {
                    "kind": "household", "name": member.name, "doc_type": member.doc_type, "doc_number": member.doc_number,
                    "phone": member.phone, "last_exposure_on": last, "protection": "none"})
                counts["contacts"] += 1
                if contact.queued_at and rng.random() < 0.3:
                    ill_contacts.append((case, member))
            neighbours = list(Resident.objects.filter(household__building_id=case.resident.household.building_id)
                              .exclude(household_id=case.resident.household_id).select_related(
                                  "household__compound", "household__building", "household__unit").order_by("id")[:2])
            for neighbour in neighbours:
                h = neighbour.household
                record_contact(user, investigation, {
                    "kind": "neighbour", "name": neighbour.name, "address": f"{h.compound.name}{h.building.name}{h.room}",
                    "last_exposure_on": last, "protection": "none"})
                counts["contacts"] += 1
            colleague = Resident.objects.filter(area_code__startswith=case.area_code[:9]).exclude(household_id=case.resident.household_id) \
                .order_by("id")[rng.randint(0, 50):][:1]
            for person in colleague:
                record_contact(user, investigation, {
                    "kind": "colleague", "name": person.name, "phone": person.phone, "last_exposure_on": last, "protection": "full_ppe"})
                counts["contacts"] += 1
            for task in investigation.tasks.all():
                if rng.random() < 0.4:
                    mark_task_done(user, task, "已完成终末消毒")
                    counts["tasks_done"] += 1
        # Some household contacts fell ill: suspected, then linked to the case that infected them.
        for index_case, member in ill_contacts:
            ill = Case.objects.get(resident=member)
            if ill.status != Status.CLOSE_CONTACT:
                continue
            ill = cases.transition(user, ill, Status.SUSPECTED, "隔离期间核酸阳性")
            record_infection_link(user, index_case, ill, "同住家属，流调判定")
            counts["links"] += 1
    return counts

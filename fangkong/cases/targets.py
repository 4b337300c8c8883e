"""The targets of an area: "三清零" and the 100%s, the category board's counts, and the time in each link.

Counts are ONE grouped query over the per-person records (area code prefix, status, severity,
placement, tested), folded into the children of the area: the board and the targets of a city of
millions read only the people in the pipeline, never the registry or the history.

- 三清零 (each zero, or listed by name): critical patients awaiting admission (critical, not yet in a
  fitting bed), suspected cases awaiting isolation (not yet in a single room that fits), people
  awaiting a test (fever patients not yet sampled, suspected cases never sampled in this episode).
- The 100%s: confirmed admitted (in a bed that fits their severity), suspected tested, fever patients
  tested, close contacts isolated (in a fitting bed).
- Links: flag → taken up (screening), taken up → first sample, sample → result (test turnaround),
  waiting → bed booked, transfer requested → arrived, arrived → admitted, and flag → admitted in all.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy as _

from fangkong.accounts.models import User
from fangkong.cases.hooks import AREA_STAY_TIMES, StayTimes
from fangkong.cases.models import Case, NucleicAcidTest, Placement, Severity, Status
from fangkong.cases.transitions import BOARD_ORDER

LIST_LIMIT = 200


@dataclass
class Counts:
    by_status: dict[str, int] = field(default_factory=dict)
    critical_waiting: int = 0
    suspected_waiting: int = 0
    awaiting_test: int = 0
    confirmed: int = 0
    confirmed_admitted: int = 0
    suspected: int = 0
    suspected_tested: int = 0
    fever: int = 0
    fever_tested: int = 0
    contacts: int = 0
    contacts_isolated: int = 0
    waiting_for_bed: int = 0

    def add(self, status: str, severity: str, placement: str, tested: bool, n: int) -> None:
        self.by_status[status] = self.by_status.get(status, 0) + n
        placed = placement == Placement.PLACED
        if placement == Placement.WAITING:
            self.waiting_for_bed += n
        if status == Status.CONFIRMED:
            self.confirmed += n
            self.confirmed_admitted += n if placed else 0
            if severity == Severity.CRITICAL and not placed:
                self.critical_waiting += n
        elif status == Status.SUSPECTED:
            self.suspected += n
            self.suspected_tested += n if tested else 0
            self.suspected_waiting += 0 if placed else n
            self.awaiting_test += 0 if tested else n
        elif status in (Status.FEVER, Status.TESTED):
            self.fever += n
            self.fever_tested += n if status == Status.TESTED else 0
            self.awaiting_test += n if status == Status.FEVER else 0
        elif status == Status.CLOSE_CONTACT:
            self.contacts += n
            self.contacts_isolated += n if placed else 0

    def merge(self, other: Counts) -> None:
        for status, n in other.by_status.items():
            self.by_status[status] = self.by_status.get(status, 0) + n
        for name in ("critical_waiting", "suspected_waiting", "awaiting_test", "confirmed", "confirmed_admitted", "suspected",
                     "suspected_tested", "fever", "fever_tested", "contacts", "contacts_isolated", "waiting_for_bed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def status_row(self) -> list[int]:
        return [self.by_status.get(s, 0) for s in BOARD_ORDER]

    @property
    def zeros(self) -> list[tuple[str, object, int]]:
        return [("critical_waiting", _("Critical patients awaiting admission"), self.critical_waiting),
                ("suspected_waiting", _("Suspected cases awaiting isolation"), self.suspected_waiting),
                ("awaiting_test", _("People awaiting a test"), self.awaiting_test)]

    @property
    def rates(self) -> list[tuple[str, object, int, int, float | None]]:
        def rate(done: int, total: int) -> float | None:
            return round(100.0 * done / total, 1) if total else None

        return [("confirmed_admitted", _("Confirmed cases admitted"), self.confirmed_admitted, self.confirmed,
                 rate(self.confirmed_admitted, self.confirmed)),
                ("suspected_tested", _("Suspected cases tested"), self.suspected_tested, self.suspected,
                 rate(self.suspected_tested, self.suspected)),
                ("fever_tested", _("Fever patients tested"), self.fever_tested, self.fever, rate(self.fever_tested, self.fever)),
                ("contacts_isolated", _("Close contacts isolated"), self.contacts_isolated, self.contacts,
                 rate(self.contacts_isolated, self.contacts))]


def area_counts(user: User, code: str, child_width: int | None = None) -> tuple[Counts, dict[str, Counts]]:
    """The area's counts and, with `child_width`, each child's (keyed by code prefix): one grouped query."""
    width = child_width or len(code)
    rows = (Case.objects.within(user, code).annotate(prefix=Substr("area_code", 1, width))
            .values_list("prefix", "status", "severity", "placement", "tested").annotate(n=Count("id")).order_by())
    total, children = Counts(), dict[str, Counts]()
    for prefix, status, severity, placement, tested, n in rows:
        children.setdefault(prefix, Counts()).add(status, severity, placement, tested, n)
        total.add(status, severity, placement, tested, n)
    return total, children


def zero_lists(user: User, code: str) -> dict[str, QuerySet[Case]]:
    """The people behind each of the three zeros, longest waiting first (at most LIST_LIMIT each)."""
    cases = Case.objects.within(user, code).select_related(
        "resident__household__compound", "resident__household__building", "resident__household__unit")
    return {
        "critical_waiting": cases.filter(status=Status.CONFIRMED, severity=Severity.CRITICAL).exclude(
            placement=Placement.PLACED).order_by("waiting_since", "status_since")[:LIST_LIMIT],
        "suspected_waiting": cases.filter(status=Status.SUSPECTED).exclude(placement=Placement.PLACED).order_by(
            "waiting_since", "status_since")[:LIST_LIMIT],
        "awaiting_test": cases.filter(Q(status=Status.FEVER) | Q(status=Status.SUSPECTED, tested=False)).order_by(
            "status_since")[:LIST_LIMIT],
    }


# --- Time in each link ---------------------------------------------------------------------------

LINKS = (
    ("screening", _("Flag → taken up")),
    ("testing", _("Taken up → sample")),
    ("turnaround", _("Sample → result")),
    ("waiting", _("Waiting for a bed")),
    ("transfer", _("Transfer")),
    ("admission", _("Arrival → admission")),
    ("total", _("Flag → admitted")),
)


def _hours(start, end) -> float | None:
    if start is None or end is None or end < start:
        return None
    return (end - start).total_seconds() / 3600


@dataclass
class LinkTimes:
    samples: dict[str, list[float]] = field(default_factory=lambda: {key: [] for key, _label in LINKS})

    def add(self, key: str, value: float | None) -> None:
        if value is not None:
            self.samples[key].append(value)

    def medians(self) -> list[tuple[str, float | None, int]]:
        return [(key, round(statistics.median(v), 1) if v else None, len(v)) for key, v in self.samples.items()]


def person_links(case: Case, tests: Iterable[NucleicAcidTest],
                 stays: Iterable[StayTimes]) -> list[tuple[object, float | None]]:
    """One person's time in each link (hours), for the timeline; `stays` from cases.hooks.CASE_STAY_TIMES."""
    times = LinkTimes()
    _collect_case(times, case.flagged_at, case.opened_at, case.first_sampled_at)
    for test in tests:
        times.add("turnaround", _hours(test.sampled_at, test.result_at))
    for stay in stays:
        _collect_stay(times, case.flagged_at or case.opened_at, stay.waiting_since, stay.booked_at, stay.admitted_at,
                      stay.requested_at, stay.arrived_at)
    labels = dict(LINKS)
    return [(labels[key], value) for key, value, _n in times.medians()]


def _collect_case(times: LinkTimes, flagged, opened, sampled) -> None:
    times.add("screening", _hours(flagged, opened))
    times.add("testing", _hours(opened, sampled))


def _collect_stay(times: LinkTimes, start, waiting, booked, admitted, requested, arrived) -> None:
    times.add("waiting", _hours(waiting, booked))
    times.add("transfer", _hours(requested, arrived))
    times.add("admission", _hours(arrived, admitted))
    times.add("total", _hours(start, admitted))


def area_links(user: User, code: str, child_width: int | None = None) -> tuple[LinkTimes, dict[str, LinkTimes]]:
    """Median hours in each link for the area and each child (keyed by code prefix); the stays' times
    come from the facilities (cases.hooks.AREA_STAY_TIMES)."""
    width = child_width or len(code)
    total, children = LinkTimes(), dict[str, LinkTimes]()

    def both(prefix: str) -> tuple[LinkTimes, LinkTimes]:
        return total, children.setdefault(prefix[:width], LinkTimes())

    cases = Case.objects.within(user, code)
    starts = {}
    for pk, area, flagged, opened, sampled in cases.values_list("pk", "area_code", "flagged_at", "opened_at", "first_sampled_at").iterator(chunk_size=5000):
        starts[pk] = flagged or opened
        for times in both(area):
            _collect_case(times, flagged, opened, sampled)
    for area, sampled, result in NucleicAcidTest.objects.restrict(user).filter(
            area_code__startswith=code, result_at__isnull=False).values_list("area_code", "sampled_at", "result_at").iterator(chunk_size=5000):
        for times in both(area):
            times.add("turnaround", _hours(sampled, result))
    for stay in AREA_STAY_TIMES(user, code):
        for times in both(stay.area_code):
            _collect_stay(times, starts.get(stay.case_id), stay.waiting_since, stay.booked_at, stay.admitted_at,
                          stay.requested_at, stay.arrived_at)
    return total, children

"""The status state machine of the four categories, as one explicit table.

    fever patient → tested → suspected | excluded
    suspected → confirmed (with severity) | excluded
    close contact → released | suspected | confirmed | fever patient
        (a fever under medical observation: the contact goes to a fever clinic first)
    confirmed → discharged (cured) → recovery observation → released
    (re-positive in recovery observation → confirmed)
    any living status → deceased
    excluded or released → a new episode: fever patient, close contact or suspected

`None` is "no case yet": the statuses a person may be taken up with. Anything not in the table is
refused (services.TransitionRefused names the allowed next statuses).
"""

from __future__ import annotations

from fangkong.cases.models import Severity, Status

S = Status

TRANSITIONS: dict[str | None, frozenset[str]] = {
    None: frozenset({S.FEVER, S.SUSPECTED, S.CONFIRMED, S.CLOSE_CONTACT}),
    S.FEVER: frozenset({S.TESTED, S.DECEASED}),
    S.TESTED: frozenset({S.SUSPECTED, S.EXCLUDED, S.DECEASED}),
    S.SUSPECTED: frozenset({S.CONFIRMED, S.EXCLUDED, S.DECEASED}),
    S.CLOSE_CONTACT: frozenset({S.RELEASED, S.SUSPECTED, S.CONFIRMED, S.FEVER, S.DECEASED}),
    S.CONFIRMED: frozenset({S.DISCHARGED, S.DECEASED}),
    S.DISCHARGED: frozenset({S.RECOVERY, S.DECEASED}),
    S.RECOVERY: frozenset({S.RELEASED, S.CONFIRMED, S.DECEASED}),
    S.EXCLUDED: frozenset({S.FEVER, S.CLOSE_CONTACT, S.SUSPECTED}),
    S.RELEASED: frozenset({S.FEVER, S.CLOSE_CONTACT, S.SUSPECTED}),
    S.DECEASED: frozenset(),
}

# Statuses that close an episode; leaving one of them starts a new episode (tests count afresh).
CLOSED = frozenset({S.EXCLUDED, S.RELEASED, S.DECEASED})
# The statuses the category board shows, in pipeline order.
BOARD_ORDER = (S.FEVER, S.TESTED, S.SUSPECTED, S.CONFIRMED, S.CLOSE_CONTACT, S.DISCHARGED, S.RECOVERY,
               S.EXCLUDED, S.RELEASED, S.DECEASED)
SEVERITY_ORDER = (Severity.CRITICAL, Severity.SEVERE, Severity.MODERATE, Severity.MILD)


def allowed(current: str | None) -> frozenset[str]:
    return TRANSITIONS.get(current, frozenset())


def is_allowed(current: str | None, target: str) -> bool:
    return target in allowed(current)


def routing_category(status: str, severity: str = "") -> str:
    """The policy's routing category for a status: "" when the person needs no bed."""
    if status in (S.FEVER, S.TESTED):
        return "fever"
    if status == S.SUSPECTED:
        return "suspected"
    if status == S.CONFIRMED:
        return severity or Severity.MILD
    if status == S.CLOSE_CONTACT:
        return "close_contact"
    if status in (S.DISCHARGED, S.RECOVERY):
        return "discharged"
    return ""

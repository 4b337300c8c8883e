"""The batch endpoint: a phone that was offline sends its queue in one request.

`POST /api/batch` takes up to 500 items, each the body of a single endpoint with its `kind`: a visit
(`"kind": "visit"`, the body of `POST /api/screening/visits`) or an observation report after a call
(`"kind": "report"` with its `file_id`, the body of `POST /api/observation/files/{file_id}/reports`).
Each carries the client id the phone made, so sending the queue again records nothing twice. The
answer has one result per item, in order: `created`, `duplicate` (recorded before: the first record's
id) or `error` with its messages by field in the user's language; the good items are saved whatever
the others hold. Each item is checked exactly as when sent alone — the same schema, the same scope (a
household or file outside the user's area is an error of that item, never a write), the same
validation. The visits are written set-based (screening.batch); the reports one by one, each in its
own transaction (observation.reports).

A project module (above every app): it joins the screening and the observation, which do not know
each other's batch.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pydantic
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.errors import HttpError

from fangkong.core.api_auth import MAX_ID, acting_user
from fangkong.core.errors import FieldErrors
from fangkong.observation.access import access_file
from fangkong.observation.api import ReportIn
from fangkong.observation.reports import HowTakenInput, record_worker_report
from fangkong.screening import batch as screening_batch
from fangkong.screening.api import VisitIn
from fangkong.screening.validation import PersonInput, VisitInput

router = Router(tags=["batch"])

MAX_ITEMS = 500
CREATED, DUPLICATE, ERROR = screening_batch.CREATED, screening_batch.DUPLICATE, screening_batch.ERROR


class VisitItem(VisitIn):
    kind: Literal["visit"]


class ReportItem(ReportIn):
    kind: Literal["report"]
    file_id: int = Field(..., ge=1, le=MAX_ID)


ITEM = pydantic.TypeAdapter(Annotated[VisitItem | ReportItem, pydantic.Field(discriminator="kind")])


class BatchIn(Schema):
    items: list[dict[str, Any]] = Field(..., description=(
        f"At most {MAX_ITEMS}. Each is a visit (`kind: visit`, the body of POST /api/screening/visits) or an "
        "observation report (`kind: report`, `file_id` and the body of POST /api/observation/files/{file_id}/reports)."))


class ItemErrorOut(Schema):
    loc: list[str | int] = Field(description='Where, within the item: ["persons", 0, "temperature"]')
    msg: str


class ItemResultOut(Schema):
    index: int
    kind: str
    client_id: str | None
    status: Literal["created", "duplicate", "error"]
    id: int | None = Field(description="The visit's or report's id (for a duplicate: the first one's)")
    errors: list[ItemErrorOut]


class BatchOut(Schema):
    created: int
    duplicate: int
    error: int
    results: list[ItemResultOut]


def _schema_message(error: Any) -> str:
    """A pydantic error about one item, in the user's language (pydantic's own messages are English)."""
    kind = error["type"]
    if kind == "missing":
        return _("This field is required.")
    if kind.startswith("union_tag"):
        return _("Say what the item is: a visit or a report.")
    if kind in ("literal_error", "enum"):
        return _("Not one of the allowed values.")
    if kind in ("too_long", "too_short", "string_too_long", "string_too_short", "greater_than", "less_than",
                "greater_than_equal", "less_than_equal"):
        return _("Out of the allowed range or length.")
    return _("Not a valid value here.")


def _result(index: int, kind: str, client_id: Any, status: str, pk: int | None = None,
            errors: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "index": index, "kind": kind, "client_id": str(client_id) if client_id is not None else None,
        "status": status, "id": pk,
        "errors": [{"loc": [int(p) if p.isdigit() else p for p in key.split(".")] if key else [], "msg": msg}
                   for key, msg in (errors or {}).items()],
    }


def _parse(index: int, raw: dict[str, Any]) -> tuple[VisitItem | ReportItem | None, dict[str, Any] | None]:
    try:
        return ITEM.validate_python(raw), None
    except pydantic.ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors(include_url=False, include_context=False, include_input=False):
            loc = [str(p) for p in error["loc"]]
            if loc and loc[0] in ("visit", "report"):  # the union's branch, not a place in the item
                loc = loc[1:]
            errors.setdefault(".".join(loc), _schema_message(error))
        kind = raw.get("kind") if raw.get("kind") in ("visit", "report") else ""
        client_id = raw.get("client_id") if isinstance(raw.get("client_id"), str) else None
        return None, _result(index, str(kind), client_id, ERROR, errors=errors)


def _visit_input(item: VisitItem) -> VisitInput:
    """The same conversion as the single endpoint's (screening.api.record_visit)."""
    return VisitInput(
        client_id=item.client_id, method=item.method, outcome=item.outcome, note=item.note,
        visited_at=item.visited_at,
        persons=[PersonInput(
            resident_id=p.resident_id, new_resident=p.new_resident.model_dump() if p.new_resident else None,
            present=p.present, temperature=p.temperature, temperature_method=p.temperature_method, outdoors=p.outdoors,
            ambient_c=p.ambient_c, symptoms=list(p.symptoms), travel_14d=p.travel_14d,
            contact_14d=p.contact_14d) for p in item.persons],
    )


def _report(user, index: int, item: ReportItem) -> dict[str, Any]:
    """One report, as the single endpoint records it, in a transaction of its own."""
    try:
        file = access_file(user, item.file_id)
        with transaction.atomic():
            result = record_worker_report(
                user, file, temperature=item.temperature, symptoms=item.symptoms, client_id=item.client_id,
                reported_at=item.reported_at, how=HowTakenInput(item.temperature_method, item.outdoors, item.ambient_c))
    except Http404:
        return _result(index, "report", item.client_id, ERROR, errors={"file_id": _("No such observation file in your area.")})
    except PermissionDenied:
        return _result(index, "report", item.client_id, ERROR, errors={"": _("You may not do this.")})
    except FieldErrors as exc:
        return _result(index, "report", item.client_id, ERROR, errors={k: str(v) for k, v in exc.errors.items()})
    except DatabaseError:
        return _result(index, "report", item.client_id, ERROR,
                       errors={"": _("This item could not be saved: send it again.")})
    return _result(index, "report", item.client_id, CREATED if result.created else DUPLICATE, result.report.pk)


@router.post("/batch", response=BatchOut, summary=(
    f"A phone's offline queue: up to {MAX_ITEMS} visits and observation reports, one result per item "
    "(created, duplicate or error); the good items are saved whatever the others hold"))
def batch(request: HttpRequest, payload: BatchIn):
    if len(payload.items) > MAX_ITEMS:
        raise HttpError(413, _("At most %(n)d items per request: send the rest in another request.") % {"n": MAX_ITEMS})
    user = acting_user(request)
    results: list[dict[str, Any] | None] = [None] * len(payload.items)
    visits: list[tuple[int, VisitItem]] = []
    for index, raw in enumerate(payload.items):
        item, refused = _parse(index, raw)
        if refused is not None:
            results[index] = refused
        elif isinstance(item, VisitItem):
            visits.append((index, item))
        else:
            assert isinstance(item, ReportItem)
            results[index] = _report(user, index, item)
    if visits:
        try:
            outcomes = screening_batch.record_visits(user, [(item.household_id, _visit_input(item)) for _i, item in visits])
        except PermissionDenied:
            outcomes = [screening_batch.Outcome() for _pair in visits]
            for outcome in outcomes:
                outcome.error({"": _("You may not do this.")})
        for (index, item), outcome in zip(visits, outcomes, strict=True):
            results[index] = _result(index, "visit", item.client_id, outcome.status, outcome.visit_id, outcome.errors)
    done = [r for r in results if r is not None]
    return {"created": sum(r["status"] == CREATED for r in done), "duplicate": sum(r["status"] == DUPLICATE for r in done),
            "error": sum(r["status"] == ERROR for r in done), "results": done}

"""API: investigations, contacts (POST idempotent by client_id), matching, rings, chains, clusters and
disinfection tasks. The same access functions as the UI (tracing.access: 403 for a role that may not
trace, out of scope answers 404), the same services, masked identifiers; bad values answer 422 naming
the field."""

import datetime as dt
from typing import Annotated, Literal

from django.http import Http404, HttpRequest
from ninja import Field, Path, Router, Schema
from ninja.pagination import paginate

from fangkong.core.api_auth import AREA_CODE_PATTERN, MAX_ID, TEXT_PATTERN, Pagination, acting_user
from fangkong.people.models import Resident
from fangkong.tracing import chains, matching
from fangkong.tracing.access import (
    access_area,
    access_case,
    access_contact,
    access_investigation,
    access_task,
)
from fangkong.tracing.contacts import (
    confirm_match,
    mark_outside_registry,
    record_contact,
    reject_candidates,
    rematch,
)
from fangkong.tracing.infections import record_infection_link
from fangkong.tracing.investigations import (
    current_investigation,
    mark_task_done,
    open_investigation,
    update_investigation,
)
from fangkong.tracing.models import DisinfectionTask, Investigation
from fangkong.tracing.rings import rings

router = Router(tags=["tracing"])

Id = Path(..., ge=1, le=MAX_ID)
Code = Path(..., pattern=AREA_CODE_PATTERN)
Text = Annotated[str, Field(max_length=200, pattern=TEXT_PATTERN)]


class InvestigationOut(Schema):
    id: int
    case_id: int
    onset_on: dt.date | None
    sampled_on: dt.date | None
    notes: str
    places: list[str]
    area_code: str
    created_at: dt.datetime


class InvestigationIn(Schema):
    onset_on: dt.date | None = None
    sampled_on: dt.date | None = None
    notes: Annotated[str, Field(max_length=2000, pattern=TEXT_PATTERN)] = ""
    places: list[Text] = Field(default_factory=list, max_length=30)


class ContactOut(Schema):
    id: int
    investigation_id: int
    kind: str
    name: str
    masked_doc_number: str
    masked_phone: str
    address: str
    first_exposure_on: dt.date | None
    last_exposure_on: dt.date
    protection: str
    is_close: bool
    match_state: str
    resident_id: int | None
    outside_registry: bool
    queued_at: dt.datetime | None
    client_id: str | None


class ContactIn(Schema):
    client_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")] | None = None
    kind: Literal["household", "colleague", "transport", "neighbour", "caregiver", "medical", "other"]
    name: Annotated[str, Field(min_length=1, max_length=50, pattern=TEXT_PATTERN)]
    doc_type: Literal["id_card", "passport", "hk_macao_pass", "taiwan_pass", "foreign_pr"] = "id_card"
    doc_number: Annotated[str, Field(max_length=40, pattern=TEXT_PATTERN)] = ""
    phone: Annotated[str, Field(max_length=20, pattern=TEXT_PATTERN)] = ""
    address: Text = ""
    first_exposure_on: dt.date | None = None
    last_exposure_on: dt.date
    protection: Literal["none", "mask", "full_ppe"] = "none"


class ConfirmIn(Schema):
    resident_id: int = Field(..., ge=1, le=MAX_ID)


class CandidateOut(Schema):
    resident_id: int
    name: str
    address: str
    masked_doc_number: str
    score: float


class PersonOut(Schema):
    resident_id: int
    name: str
    masked_phone: str
    case_status: str | None


class RingsOut(Schema):
    first: list[PersonOut]
    second: list[PersonOut]
    hidden_first: int
    hidden_second: int


class NodeOut(Schema):
    case_id: int
    label: str
    status: str
    generation: int
    visible: bool


class ChainOut(Schema):
    nodes: list[NodeOut]
    edges: list[tuple[int, int]]
    truncated: bool


class LinkIn(Schema):
    infector_id: int = Field(..., ge=1, le=MAX_ID)
    evidence: Text = ""


class LinkOut(Schema):
    id: int
    infector_id: int
    infectee_id: int
    evidence: str
    recorded_at: dt.datetime


class ClusterOut(Schema):
    kind: str
    place: str
    case_ids: list[int]
    names: list[str]


class TaskOut(Schema):
    id: int
    investigation_id: int
    kind: str
    place: str
    status: str
    done_at: dt.datetime | None
    note: str
    area_code: str


class TaskDoneIn(Schema):
    note: Text = ""


@router.get("/tracing/areas/{code}/investigations", response=list[InvestigationOut], summary="Investigations of an area, newest first")
@paginate(Pagination)
def area_investigations(request: HttpRequest, code: str = Code):
    user = acting_user(request)
    return Investigation.objects.within(user, access_area(user, code).code).order_by("-created_at", "-id")


@router.get("/tracing/cases/{id}/investigation", response=InvestigationOut, summary="The investigation of a case's episode")
def investigation_get(request: HttpRequest, id: int = Id):
    user = acting_user(request)
    investigation = current_investigation(access_case(user, id))
    if investigation is None:
        raise Http404
    return investigation


@router.post("/tracing/cases/{id}/investigation", response=InvestigationOut, summary="Open the investigation (idempotent)")
def investigation_open(request: HttpRequest, id: int = Id):
    user = acting_user(request)
    return open_investigation(user, access_case(user, id))


@router.put("/tracing/investigations/{id}", response=InvestigationOut, summary="Dates, notes and public places")
def investigation_update(request: HttpRequest, payload: InvestigationIn, id: int = Id):
    user = acting_user(request)
    return update_investigation(user, access_investigation(user, id), onset_on=payload.onset_on, sampled_on=payload.sampled_on,
                                notes=payload.notes, places=payload.places)


@router.get("/tracing/investigations/{id}/contacts", response=list[ContactOut], summary="Contacts of an investigation")
def contact_list(request: HttpRequest, id: int = Id):
    user = acting_user(request)
    return list(access_investigation(user, id).contacts.order_by("id"))


@router.post("/tracing/investigations/{id}/contacts", response={200: ContactOut, 201: ContactOut},
             summary="Record a contact (the same client_id again returns the first, 200)")
def contact_create(request: HttpRequest, payload: ContactIn, id: int = Id):
    user = acting_user(request)
    data = payload.dict()
    client_id = data.pop("client_id")
    contact, created = record_contact(user, access_investigation(user, id), data, client_id=client_id)
    return (201 if created else 200), contact


@router.get("/tracing/contacts/{id}/candidates", response=list[CandidateOut], summary="Residents in scope this contact may be")
def contact_candidates(request: HttpRequest, id: int = Id):
    user = acting_user(request)
    contact = access_contact(user, id)
    return [{"resident_id": c.resident.pk, "name": c.resident.name, "address": c.resident.household.address,
             "masked_doc_number": c.resident.masked_doc_number, "score": c.score}
            for c in matching.candidates(user, contact.name, contact.address, contact.phone)]


@router.post("/tracing/contacts/{id}/confirm", response=ContactOut, summary="Confirm who the contact is")
def contact_confirm(request: HttpRequest, payload: ConfirmIn, id: int = Id):
    user = acting_user(request)
    contact = access_contact(user, id)
    return confirm_match(user, contact, Resident.objects.get_visible_or_404(user, pk=payload.resident_id))


@router.post("/tracing/contacts/{id}/{action}", response=ContactOut, summary="Reject the candidates, match again, or mark outside the registry")
def contact_action(request: HttpRequest, action: Literal["reject", "rematch", "outside"], id: int = Id):
    user = acting_user(request)
    contact = access_contact(user, id)
    operation = {"reject": reject_candidates, "rematch": rematch, "outside": mark_outside_registry}[action]
    return operation(user, contact)


@router.get("/tracing/cases/{id}/rings", response=RingsOut, summary="First ring (close contacts) and second ring")
def case_rings(request: HttpRequest, id: int = Id):
    user = acting_user(request)
    found = rings(user, access_case(user, id))

    def people(residents):
        return [{"resident_id": r.pk, "name": r.name, "masked_phone": r.masked_phone,
                 "case_status": getattr(getattr(r, "case", None), "status", None)} for r in residents]

    return {"first": people(found.first), "second": people(found.second), "hidden_first": found.hidden_first,
            "hidden_second": found.hidden_second}


def _graph_out(graph: chains.Graph) -> dict:
    return {"nodes": [{"case_id": n.case_id, "label": n.label, "status": n.status if n.visible else "", "generation": n.generation,
                       "visible": n.visible} for n in graph.nodes],
            "edges": [(a.case_id, b.case_id) for a, b in graph.edges], "truncated": graph.truncated}


@router.get("/tracing/cases/{id}/chain", response=ChainOut, summary="The transmission chain of a case")
def case_chain(request: HttpRequest, id: int = Id):
    user = acting_user(request)
    return _graph_out(chains.chain_of(user, access_case(user, id)))


@router.post("/tracing/cases/{id}/infected-by", response={200: LinkOut, 201: LinkOut}, summary="Record who infected this case")
def case_link(request: HttpRequest, payload: LinkIn, id: int = Id):
    user = acting_user(request)
    link, created = record_infection_link(user, access_case(user, payload.infector_id), access_case(user, id), payload.evidence)
    return (201 if created else 200), link


@router.get("/tracing/areas/{code}/chains", response=ChainOut, summary="The transmission chains of an area")
def area_chains(request: HttpRequest, code: str = Code):
    user = acting_user(request)
    return _graph_out(chains.chains_in_area(user, access_area(user, code).code))


@router.get("/tracing/areas/{code}/clusters", response=list[ClusterOut], summary="Clusters of an area")
def area_clusters(request: HttpRequest, code: str = Code):
    user = acting_user(request)
    return [{"kind": c.kind, "place": c.place, "case_ids": [m.pk for m in c.members], "names": [m.resident.name for m in c.members]}
            for c in chains.clusters(user, access_area(user, code).code)]


@router.get("/tracing/areas/{code}/tasks", response=list[TaskOut], summary="Terminal disinfection tasks of an area")
@paginate(Pagination)
def area_tasks(request: HttpRequest, code: str = Code, status: Literal["open", "done"] | None = None):
    user = acting_user(request)
    tasks = DisinfectionTask.objects.within(user, access_area(user, code).code)
    if status:
        tasks = tasks.filter(status=status)
    return tasks.order_by("status", "-created_at", "id")


@router.post("/tracing/tasks/{id}/done", response=TaskOut, summary="Mark a disinfection task done (idempotent)")
def task_done(request: HttpRequest, payload: TaskDoneIn, id: int = Id):
    user = acting_user(request)
    return mark_task_done(user, access_task(user, id), payload.note)

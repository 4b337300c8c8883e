"""The persona matrix: every route with an object in its URL refuses the personas of another area.

The routes come from the URL resolver (the pages, the admin and every django-ninja endpoint under /api/),
so a new route takes part by itself. Each object parameter is filled with an object of area A (grid A of
青和居社区 in 江岸区, and the 江岸 designated hospital; see fangkong/testing.py); every persona of another
area — the neighbouring grid's worker, the 武昌 district and 紫阳街道 street commanders, community worker, volunteer and gate
guard, the staff of another facility, and nobody logged in — GETs and POSTs it and must be refused: 403 or
404 (401 or the log-in redirect when nobody is logged in, the admin's log-in for the admin; 405 when the
route has no such method), never a success, never a 500, and no body may carry area A's personal data.

A route whose parameter the table below cannot fill fails `test_every_route_parameter_is_known` until
someone says how to fill it (FILL) or why it is left out (NOT_OBJECTS, PUBLIC).

The lists, searches and exports (every route without a parameter, and the area routes filled with the
persona's own area) are asked for area A's residents by name, ID number and phone: nothing of area A may
come back, in the page, the JSON or the cells of an XLSX file. An export (fangkong.jobs.exports) is asked
as its button asks it too: POSTed, its job page opened and its file downloaded.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import openpyxl
import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from fangkong.accounts.models import ApiToken, Role, User
from fangkong.api import api
from fangkong.areas.models import Area
from fangkong.cases import samples
from fangkong.cases import services as cases
from fangkong.cases.models import ResultImport, Status
from fangkong.crosscheck.models import Kind as ToDoKind
from fangkong.crosscheck.models import ToDo
from fangkong.facilities import appointments, beds, runs
from fangkong.facilities.models import FacilityImport, Proposal, Transfer
from fangkong.jobs.exports import EXPORTS
from fangkong.jobs.models import Job, JobStatus
from fangkong.observation.files import open_file
from fangkong.observation.models import Alert
from fangkong.people.models import ImportBatch, Resident
from fangkong.screening.campaigns import create_campaign
from fangkong.screening.models import FollowUp
from fangkong.screening.testing import reached
from fangkong.screening.visits import record_visit
from fangkong.testing import SmallCity, build_small_city, run_export
from fangkong.tracing.contacts import record_contact
from fangkong.tracing.investigations import update_investigation
from fangkong.tracing.models import DisinfectionTask, Investigation

pytestmark = pytest.mark.django_db

# ---------------------------------------------------------------------------------------------------------
# The routes


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name"
    route: str  # "cases/<int:pk>/"
    params: tuple[str, ...]

    @property
    def is_api(self) -> bool:
        return self.name.startswith("api:")

    @property
    def is_admin(self) -> bool:
        return self.name.startswith("admin:")


_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def _plain(route: str) -> str:
    """A regular-expression route (the admin's app list) written like a path: `(?P<app_label>a|b)` → `<app_label>`."""
    return re.sub(r"\(\?P<(\w+)>[^()]*\)", r"<\1>", route).replace("^", "").replace("$", "")


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}" if namespace and pattern.namespace else (pattern.namespace or namespace)
            yield from _walk(pattern, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = _plain(prefix + str(pattern.pattern))
            name = f"{namespace}:{pattern.name}" if namespace else (pattern.name or "")
            yield Route(name, route, tuple(m.group("name") for m in _PARAM.finditer(route)))


def all_routes() -> list[Route]:
    """Every route of the project, once per path (ninja serves several methods of one path from one view)."""
    seen: dict[str, Route] = {}
    for route in _walk(get_resolver()):
        if re.search(r"[\\^$()|?*+\[]", route.route):
            raise AssertionError(f"a regular-expression route the matrix cannot fill: {route}")
        seen.setdefault(route.route, route)
    return list(seen.values())


# Parameters that name no object of an area: filled with a valid value, the route is still in the matrix
# through its other parameters, or in the lists-and-exports test when it has none.
NOT_OBJECTS = {
    ("crosscheck:template", "kind"): "meter",  # the template of an evidence kind
    ("api:evidence_import", "kind"): "meter",
    ("tracing:contact_action", "action"): "reject",
    ("api:contact_action", "action"): "reject",
    ("admin:app_list", "app_label"): "accounts",
}

# Routes left out of the matrix on purpose, with the reason.
PUBLIC = {
    "selfreport:report": "the household's self-report link: whoever holds the unguessable token is let in, by design",
    "obs_selfreport:report": "the observed person's self-report link: whoever holds the unguessable token, by design",
}

# Routes without a parameter that the lists-and-exports test does not ask: they act instead of showing.
NOT_LISTS = {
    "accounts:logout": "logs the persona out",
    "set_language": "POST only; sets a cookie",
    # The import templates carry a fixed example row (张伟 of the templates is the tests' 张伟 too).
    "imports:template": "a fixed example file",
    "manage:import_template": "a fixed example file",
    "cases:import_template": "a fixed example file",
    "facilities:import_template": "a fixed example file",
    "crosscheck:template": "a fixed example file",
}


# ---------------------------------------------------------------------------------------------------------
# Area A and its objects


@dataclass
class AreaA:
    city: SmallCity
    objects: dict[str, Any]


def error_report(resident: Resident) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["行", "列", "原因"])
    sheet.append([2, "证件号码", f"{resident.name} {resident.doc_number} {resident.phone} 重复"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def build_area_a() -> AreaA:
    city = build_small_city()
    users, residents = city.users, city.residents
    community, district = users["community"], users["district"]
    today = timezone.localdate()

    # The personas of another area, beside fangkong/testing.py's grid_b, other_community and other_facility.
    def persona(key: str, role: str, **scope: Any) -> None:
        users[key] = User.objects.create_user(username=key, role=role, **scope)

    persona("other_district", Role.DISTRICT_COMMANDER, area=city.areas["wuchang"])
    persona("other_street", Role.STREET_COMMANDER, area=city.areas["ziyang"])
    persona("other_volunteer", Role.VOLUNTEER, area=city.areas["ziyangc"])
    persona("other_guard", Role.GATE_GUARD, compound=city.compounds["ziyang"])
    persona("wuchang_facility", Role.FACILITY_STAFF, facility=city.facilities["wuchang_hospital"])

    zhang, lina, wang = residents["zhangwei"], residents["lina"], residents["wanglaoshi"]
    case = cases.open_case(community, zhang, Status.CONFIRMED, "确诊", severity="severe")
    waiting = cases.open_case(community, lina, Status.CONFIRMED, "确诊", severity="mild")
    fever = cases.open_case(community, wang, Status.FEVER, "发热")
    test = samples.order_test(community, case)
    run = runs.run_placement(district)
    proposal = Proposal.objects.filter(run=run).first()
    assert proposal is not None, "the placement run of area A proposes a bed for 李娜"
    stay = beds.place(district, case, city.facilities["hospital"], "ordinary", vehicle="ambulance")
    transfer = Transfer.objects.get(stay=stay)
    slot = appointments.open_slot(district, city.facilities["clinic"], starts_at=timezone.now() + dt.timedelta(days=1),
                                  minutes=30, capacity=5)
    appointment = appointments.book(community, fever, slot)

    investigation = Investigation.objects.get(case=case)
    update_investigation(community, investigation, onset_on=today - dt.timedelta(days=3), sampled_on=None,
                         places=["汉口火车站"])
    task = DisinfectionTask.objects.filter(investigation=investigation).order_by("pk").first()
    contact, _created = record_contact(community, investigation, {
        "kind": "colleague", "name": "赵六", "phone": "13300133000", "last_exposure_on": today - dt.timedelta(days=1)})

    file = open_file(community, lina, kind="home", reason="密接", last_exposure_on=today - dt.timedelta(days=2))
    alert = Alert.objects.create(file=file, kind="missed", key="matrix", created_at=timezone.now(), area_code=file.area_code)

    record_visit(users["grid_a"], city.households["a102"], reached(wang, temperature="38.6"))
    follow_up = FollowUp.objects.get(resident=wang)
    campaign = create_campaign(community, city.areas["grid_a"], "网格A排查", today, today + dt.timedelta(days=7))
    todo = ToDo.objects.create(kind=ToDoKind.POWERED, household=city.households["a101"], resident=zhang,
                               area_code=city.households["a101"].area_code)

    qinghe, jiangan = city.areas["qinghe"].code, city.areas["jiangan"].code
    # Error reports that name area A's people, as a real one would.
    report = error_report(zhang)
    roster = ImportBatch.objects.create(user=community, filename="名单.xlsx", kind=ImportBatch.ROSTER, area_code=qinghe, report=report)
    area_batch = ImportBatch.objects.create(user=community, filename="区划.xlsx", kind="areas", area_code=qinghe, report=report)
    evidence = ImportBatch.objects.create(user=community, filename="电表.xlsx", kind="meter", area_code=qinghe, report=report)
    results = ResultImport.objects.create(user=district, filename="结果.xlsx", area_code=jiangan, report=report)
    facility_import = FacilityImport.objects.create(user=district, filename="机构.xlsx", area_code=jiangan, report=report)
    token, _key = ApiToken.issue(users["grid_a"], "grid A phone")
    job = Job.objects.create(kind="roster-import", user=community, area_code=qinghe, status=JobStatus.DONE,
                             input_name="名单.xlsx", result_name="结果.xlsx", result_data=report)
    # Grid worker A's two-factor devices (an authenticator app, backup codes).
    totp = TOTPDevice.objects.create(user=users["grid_a"], name="authenticator", confirmed=True)
    backup = StaticDevice.objects.create(user=users["grid_a"], name="backup codes", confirmed=True)

    return AreaA(city, {
        "case": case, "waiting": waiting, "test": test, "run": run, "proposal": proposal, "stay": stay,
        "transfer": transfer, "slot": slot, "appointment": appointment, "investigation": investigation,
        "task": task, "contact": contact, "file": file, "alert": alert, "follow_up": follow_up,
        "campaign": campaign, "todo": todo, "roster": roster, "area_batch": area_batch, "evidence": evidence,
        "results": results, "facility_import": facility_import, "token": token, "job": job,
        "totp": totp, "backup": backup,
    })


# Who must be refused what. GRID: objects of grid A (its people and their cases, files, contacts…);
# DISTRICT: objects of 江岸区 as a whole and of the 江岸 designated hospital.
WUCHANG = ("other_district", "other_street", "other_community", "other_volunteer", "other_guard", "wuchang_facility")
OUTSIDERS = {"grid": ("grid_b", "other_facility", *WUCHANG, None), "district": ("other_facility", *WUCHANG, None)}

Filler = Callable[[AreaA], tuple[Any, str]]


def _obj(key: str, realm: str = "grid") -> Filler:
    return lambda a: (a.objects[key].pk, realm)


def _city(kind: str, key: str, realm: str = "grid") -> Filler:
    return lambda a: (getattr(a.city, kind)[key].pk, realm)


RESIDENT = _city("residents", "zhangwei")
HOUSEHOLD = _city("households", "a101")
HOSPITAL = _city("facilities", "hospital", "district")
GRID_A_ACCOUNT = _city("users", "grid_a")

# How to fill an object parameter: by route name and parameter.
FILL: dict[tuple[str, str], Filler] = {
    ("areas:compound", "pk"): _city("compounds", "qinghe", "district"),
    ("areas:building", "pk"): _city("buildings", "a1"),
    ("people:household", "pk"): HOUSEHOLD,
    ("imports:result", "batch_id"): _obj("roster"),
    ("jobs:detail", "job_id"): _obj("job"),
    ("jobs:status", "job_id"): _obj("job"),
    ("jobs:download", "job_id"): _obj("job"),
    ("imports:report", "batch_id"): _obj("roster"),
    ("imports:areas_result", "batch_id"): _obj("area_batch"),
    ("tokens:revoke", "token_id"): _obj("token"),
    ("screening:visit", "pk"): HOUSEHOLD,
    ("screening:qr", "pk"): HOUSEHOLD,
    ("screening:qr_png", "pk"): HOUSEHOLD,
    ("screening:follow_up_take", "pk"): _obj("follow_up"),
    ("screening:follow_up_dismiss", "pk"): _obj("follow_up"),
    ("screening:campaign", "pk"): _obj("campaign"),
    ("cases:open", "resident_pk"): RESIDENT,
    ("cases:sample", "pk"): _obj("test"),
    ("cases:result", "pk"): _obj("test"),
    ("cases:import_result", "batch_id"): _obj("results", "district"),
    ("cases:import_report", "batch_id"): _obj("results", "district"),
    ("observation:handle_alert", "pk"): _obj("alert"),
    ("observation:open", "resident_pk"): RESIDENT,
    ("facilities:import_result", "batch_id"): _obj("facility_import", "district"),
    ("facilities:import_report", "batch_id"): _obj("facility_import", "district"),
    ("facilities:slot_new", "pk"): _city("facilities", "clinic", "district"),
    ("facilities:appointment_book", "case_pk"): _obj("case"),
    ("facilities:appointment_cancel", "pk"): _obj("appointment"),
    ("facilities:admit", "pk"): _obj("stay"),
    ("facilities:discharge", "pk"): _obj("stay"),
    ("facilities:run_adjust", "proposal_pk"): _obj("proposal", "district"),
    ("facilities:transfer_step", "pk"): _obj("transfer"),
    ("crosscheck:result", "batch_id"): _obj("evidence"),
    ("tracing:task_done", "pk"): _obj("task"),
    ("tracing:edit", "pk"): _obj("investigation"),
    ("tracing:new_contact", "pk"): _obj("investigation"),
    # the API
    ("api:compound_detail", "id"): _city("compounds", "qinghe", "district"),
    ("api:building_detail", "id"): _city("buildings", "a1"),
    ("api:building_households", "id"): _city("buildings", "a1"),
    ("api:household_detail", "id"): HOUSEHOLD,
    ("api:resident_create", "id"): HOUSEHOLD,
    ("api:follow_up_take", "id"): _obj("follow_up"),
    ("api:follow_up_dismiss", "id"): _obj("follow_up"),
    ("api:case_open", "id"): RESIDENT,
    ("api:test_sample", "id"): _obj("test"),
    ("api:test_result", "id"): _obj("test"),
    ("api:get_file", "file_id"): _obj("file"),
    ("api:post_report", "file_id"): _obj("file"),
    ("api:handle_alert", "alert_id"): _obj("alert"),
    ("api:stay_admit", "id"): _obj("stay"),
    ("api:stay_discharge", "id"): _obj("stay"),
    ("api:transfer_step", "id"): _obj("transfer"),
    ("api:investigation_update", "id"): _obj("investigation"),
    ("api:contact_list", "id"): _obj("investigation"),
    ("api:task_done", "id"): _obj("task"),
}

# Every route of a prefix whose parameter means the same object.
FILL_PREFIX: dict[tuple[str, str], Filler] = {
    ("people:re", "pk"): RESIDENT,  # resident, reveal, resident_edit
    ("manage:", "pk"): GRID_A_ACCOUNT,
    ("cases:", "pk"): _obj("case"),  # detail, transition, severity, order_test
    ("observation:", "pk"): _obj("file"),
    ("facilities:run", "pk"): _obj("run", "district"),
    ("facilities:", "pk"): HOSPITAL,  # detail, edit, close_beds
    ("crosscheck:", "pk"): _obj("todo"),
    ("tracing:contact", "pk"): _obj("contact"),
    ("tracing:", "pk"): _obj("case"),  # case, open, chain, add_link
    ("api:account_", "id"): GRID_A_ACCOUNT,
    ("api:resident_", "id"): RESIDENT,
    ("api:todo_", "id"): _obj("todo"),
    ("api:case_", "id"): _obj("case"),  # detail, transition, severity, rings, chain, link
    ("api:test_order", "id"): _obj("case"),
    ("api:facility_", "id"): HOSPITAL,
    ("api:placement_", "id"): _obj("run", "district"),
    ("api:investigation_", "id"): _obj("case"),  # get and open: by the case
    ("api:contact_", "id"): _obj("contact"),
}


# The admin (staff only): its object pages by model, filled with area A's objects where the model has an area.
ADMIN_OBJECTS: dict[str, Filler] = {
    "areas/area": _city("areas", "grid_a"),
    "areas/compound": _city("compounds", "qinghe", "district"),
    "areas/building": _city("buildings", "a1"),
    "accounts/user": GRID_A_ACCOUNT,
    "accounts/apitoken": _obj("token"),
    "otp_totp/totpdevice": _obj("totp"),
    "otp_static/staticdevice": _obj("backup"),
    # Not objects of an area (groups, django-axes' log-in records): the admin refuses non-staff all the same.
    "auth/group": lambda a: (1, "district"),
    "axes/accessattempt": lambda a: (1, "district"),
    "axes/accesslog": lambda a: (1, "district"),
    "axes/accessfailurelog": lambda a: (1, "district"),
    # procrastinate's queue rows (PostgreSQL only): a job's arguments are ids, no area; staff only.
    "procrastinate/procrastinatejob": lambda a: (1, "district"),
}


def _admin_filler(route: Route, param: str) -> Filler | None:
    if route.name == "admin:view_on_site":
        if param == "content_type_id":
            return lambda a: (ContentType.objects.get_for_model(Area).pk, "grid")
        return _city("areas", "grid_a")
    if param == "url":  # the admin's catch-all: any other address under /admin/
        return lambda a: ("areas/area/matrix/", "district")
    model = "/".join(route.route.split("/")[1:3])
    # id: the password form; pk: the authenticator device's key and QR code (django-otp's admin)
    return ADMIN_OBJECTS.get(model) if param in ("object_id", "id", "pk") else None


def filler(route: Route, param: str) -> Filler | None:
    if route.is_admin:
        return _admin_filler(route, param)
    if (route.name, param) in FILL:
        return FILL[(route.name, param)]
    for (prefix, name), fill in FILL_PREFIX.items():
        if name == param and route.name.startswith(prefix):
            return fill
    return None


def matrix_routes() -> list[Route]:
    """The routes with an object in their address."""
    return [r for r in all_routes() if r.name not in PUBLIC and any((r.name, p) not in NOT_OBJECTS for p in r.params)]


# ---------------------------------------------------------------------------------------------------------
# The API's methods and a body each would accept, from its OpenAPI schema: a refusal must come from the
# scope check, not from a body that fails validation first.


@functools.cache
def openapi() -> dict[str, Any]:
    return api.get_openapi_schema()


def api_operations(route: Route) -> dict[str, dict[str, Any]]:
    """{method: operation} of an API path."""
    path = "/" + re.sub(r"<(\w+)>", r"{\1}", route.route)
    return {method.upper(): op for method, op in openapi()["paths"].get(path, {}).items()}


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = openapi()["components"]["schemas"][schema["$ref"].split("/")[-1]]
    if "anyOf" in schema:
        return _resolve(next(s for s in schema["anyOf"] if s.get("type") != "null"))
    if "allOf" in schema:
        return _resolve(schema["allOf"][0])
    return schema


def example(schema: dict[str, Any], name: str = "") -> Any:
    schema = _resolve(schema)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {key: example(sub, key) for key, sub in schema.get("properties", {}).items() if key in schema.get("required", ())}
    if kind == "integer" or kind == "number":
        return 1
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    return {"date": timezone.localdate().isoformat(), "date-time": timezone.now().isoformat(),
            "uuid": str(uuid.uuid4())}.get(schema.get("format", ""), "36.5" if name == "temperature" else "矩阵")


def api_body(operation: dict[str, Any]) -> tuple[str, str] | None:
    """(content type, body) of a JSON request the schema accepts, or None for a file upload."""
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        return "application/json", json.dumps(example(content["application/json"]["schema"]))
    if content:
        return None
    return "application/json", "{}"



def fillings(route: Route, a: AreaA) -> list[tuple[str, str]]:
    """(url, realm) for a route: one per area code of area A for an area route, else one."""
    choices: list[list[tuple[str, str, str]]] = []  # per parameter: (param, value, realm)
    for param in route.params:
        if (route.name, param) in NOT_OBJECTS:
            choices.append([(param, NOT_OBJECTS[(route.name, param)], "")])
        elif param == "code":
            # the grid (grid pages, boards of a grid) and its community (the grid lists, community boards)
            choices.append([(param, a.city.areas["grid_a"].code, "grid"), (param, a.city.areas["qinghe"].code, "grid")])
        else:
            fill = filler(route, param)
            assert fill is not None, f"{route.name} {route.route}: no filler for <{param}>"
            value, realm = fill(a)
            choices.append([(param, str(value), realm)])
    combos: list[tuple[dict[str, str], str]] = [({}, "")]
    for options in choices:
        combos = [({**values, param: value}, _stronger(realm_so_far, realm))
                  for values, realm_so_far in combos for param, value, realm in options]
    result = []
    for values, realm in combos:
        url = "/" + _PARAM.sub(lambda m, values=values: values[m.group("name")], route.route)
        result.append((url, realm or "district"))
    return result


def _stronger(a: str, b: str) -> str:
    return "grid" if "grid" in (a, b) else (a or b)


# ---------------------------------------------------------------------------------------------------------
# What area A's personal data looks like, and how a response is searched for it


def personal_data(residents: list[Resident], extra: tuple[str, ...] = ()) -> list[str]:
    marks = list(extra)
    for r in residents:
        marks += [r.name, r.doc_number, r.doc_number[-4:], r.phone, r.phone[-4:]]
    return [m for m in marks if m]


def forbidden_for(a: AreaA, persona: str | None) -> list[str]:
    """Personal data the persona may not see: grid A's people for grid B; all of 江岸区's for the rest."""
    residents = a.city.residents
    own = {"grid_b": {"wangfang"}}.get(persona or "", set())
    if persona in WUCHANG:
        own = {"liuyang"}
    contact = a.objects["contact"]
    return personal_data([r for key, r in residents.items() if key not in own], extra=(contact.name, contact.phone))


def body_text(response) -> str:
    content_type = response.get("Content-Type", "")
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    if "spreadsheetml" in content_type or content[:2] == b"PK":
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
        return "\n".join(str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                         for cell in row if cell is not None)
    if content_type.startswith("image/"):
        return ""
    text = content.decode("utf-8", errors="replace")
    if "json" in content_type:
        try:
            return json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            return text
    return text


def leaks(text: str, marks: list[str], asked: str = "") -> list[str]:
    """The marks in the text; a search box showing back what was asked is not a leak, so that is taken out."""
    if asked:
        text = text.replace(asked, "")
    # The 4-digit tails are looked for as whole runs of digits, not inside longer numbers.
    found = []
    for mark in marks:
        if mark.isdigit() and len(mark) == 4:
            # not inside a longer number or a token (CSRF tokens are letters and digits)
            if re.search(rf"(?<![0-9A-Za-z*]){mark}(?![0-9A-Za-z])", text) or re.search(rf"\*{mark}(?!\d)", text):
                found.append(mark)
        elif mark in text:
            found.append(mark)
    return found


# ---------------------------------------------------------------------------------------------------------
# The clients


def clients(a: AreaA, personas: tuple[str | None, ...]) -> dict[str | None, Client]:
    out: dict[str | None, Client] = {}
    for persona in personas:
        if persona is None:
            out[None] = Client(raise_request_exception=False)
            continue
        client = Client(raise_request_exception=False)
        client.force_login(a.city.users[persona], backend="django.contrib.auth.backends.ModelBackend")
        out[persona] = client
    return out


@dataclass
class Answer:
    status: int
    location: str
    text: str


def call(client: Client, method: str, url: str, **kwargs: Any) -> Answer:
    """One request, undone afterwards: what one persona does (a write, an audit entry of a search) must not
    change what the next one is asked about."""
    with transaction.atomic():
        response = client.generic(method, url, **kwargs) if method not in ("GET", "POST") else \
            getattr(client, method.lower())(url, **kwargs)
        answer = Answer(response.status_code, response.get("Location", ""), body_text(response))
        transaction.set_rollback(True)
    return answer


def call_export(client: Client, url: str) -> Answer:
    """An export as its button makes it: POST, the job page, the file (fangkong.testing.run_export), undone
    afterwards like `call`."""
    with transaction.atomic():
        response = run_export(client, url)
        answer = Answer(response.status_code, response.get("Location", ""), body_text(response))
        transaction.set_rollback(True)
    return answer


def ask(client: Client, route: Route, url: str) -> Iterator[tuple[str, Answer]]:
    """GET and POST the url, and for an API path every other method it has, each with a body it accepts."""
    if not route.is_api:
        yield "GET", call(client, "GET", url)
        yield "POST", call(client, "POST", url, data={})
        return
    operations = api_operations(route)
    yield "GET", call(client, "GET", url)
    for method in sorted({"POST", *operations} - {"GET"}):
        body = api_body(operations[method]) if method in operations else ("application/json", "{}")
        if body is None:  # a file upload: an empty CSV
            yield method, call(client, "POST", url, data={"file": io.BytesIO(b"\xef\xbb\xbf")})
            continue
        content_type, data = body
        yield method, call(client, method, url, data=data, content_type=content_type)


def refused(route: Route, persona: str | None, answer: Answer) -> str:
    """'' when the answer is a refusal, else why not."""
    status = answer.status
    if status in (403, 404, 405):  # 405: the route has no such method
        return ""
    if persona is None and route.is_api and status == 401:
        return ""
    if status == 302:
        if route.is_admin and answer.location.startswith("/admin/login/"):
            return ""
        if persona is None and answer.location.startswith("/accounts/login/"):
            return ""
        return f"redirected to {answer.location}"
    return f"answered {status}"


# ---------------------------------------------------------------------------------------------------------
# The tests


def test_every_route_parameter_is_known():
    """A new route with an object parameter must say how the matrix fills it, or why it is left out."""
    unknown = []
    for route in matrix_routes():
        for param in route.params:
            if (route.name, param) in NOT_OBJECTS or param == "code" or filler(route, param) is not None:
                continue
            unknown.append(f"{route.name} /{route.route} <{param}>")
    assert not unknown, "routes the persona matrix cannot fill (add them to FILL, NOT_OBJECTS or PUBLIC):\n" + "\n".join(unknown)
    stale = [name for name in (*PUBLIC, *NOT_LISTS) if name not in {r.name for r in all_routes()}]
    assert not stale, f"routes named in the exemptions that no longer exist: {stale}"


def test_the_matrix_sees_the_pages_the_api_and_the_admin():
    names = {r.name for r in matrix_routes()}
    assert {"cases:detail", "api:case_detail", "api:get_file", "people:resident", "admin:accounts_user_change"} <= names
    assert len(names) > 150


# The quick suite asks the three farthest scopes (the neighbouring grid, the other district's commander,
# nobody logged in); the slow suite every other persona of another area too.
QUICK = ("grid_b", "other_district", None)
PERSONAS = [pytest.param(QUICK, id="quick"),
            pytest.param(tuple(p for p in OUTSIDERS["grid"] if p not in QUICK), id="all", marks=pytest.mark.slow)]


@pytest.mark.parametrize("personas", PERSONAS)
def test_every_object_route_refuses_the_personas_of_another_area(personas):
    a = build_area_a()
    by_persona = clients(a, personas)
    marks = {persona: forbidden_for(a, persona) for persona in by_persona}
    failures = []
    asked = 0
    for route in matrix_routes():
        for url, realm in fillings(route, a):
            for persona in OUTSIDERS[realm]:
                if persona not in personas:
                    continue
                for method, answer in ask(by_persona[persona], route, url):
                    asked += 1
                    why = refused(route, persona, answer)
                    leaked = leaks(answer.text, marks[persona])
                    if why or leaked:
                        failures.append(f"{persona or 'anonymous'} {method} {url} ({route.name}): {why or 'refused'}"
                                        + (f", shows {leaked}" if leaked else ""))
    assert asked > 500
    assert not failures, f"{len(failures)} of {asked} answers let another area in:\n" + "\n".join(failures)


OWN_AREA = {"grid_b": "grid_b", "other_district": "wuchang", "other_street": "ziyang", "other_community": "ziyangc", "other_volunteer": "ziyangc"}


def list_urls(a: AreaA, persona: str | None) -> Iterator[tuple[Route, str]]:
    """Every route without an object: as it is (a kind, an action filled in), and the area routes filled with
    the persona's own area."""
    for route in all_routes():
        if route.name in NOT_LISTS or route.name in PUBLIC or route.is_admin:
            continue
        values = {p: NOT_OBJECTS[(route.name, p)] for p in route.params if (route.name, p) in NOT_OBJECTS}
        if "code" in route.params and persona in OWN_AREA:
            values["code"] = a.city.areas[OWN_AREA[persona]].code
        if set(values) == set(route.params):
            yield route, "/" + _PARAM.sub(lambda m, values=values: values[m.group("name")], route.route)


@pytest.mark.parametrize("personas", PERSONAS)
def test_lists_searches_and_exports_show_nothing_of_another_area(personas):
    """Each list and export, and each search by 张伟's name, ID number, phone or ID tail where the route
    searches at all (its answer to ?q= differs from its answer without)."""
    a = build_area_a()
    by_persona = clients(a, personas)
    zhang = a.city.residents["zhangwei"]
    more = ({"q": zhang.doc_number}, {"q": zhang.phone}, {"q": zhang.doc_number[-4:]})
    export_routes = {export.url_name for export in EXPORTS.values()}
    failures = []
    asked = searched = downloaded = 0
    for persona, client in by_persona.items():
        marks = forbidden_for(a, persona)
        for route, url in list_urls(a, persona):
            if route.name in export_routes:  # the file, through its job
                exported = call_export(client, url)
                asked += 1
                downloaded += exported.status == 200
                if exported.status >= 500:
                    failures.append(f"{persona or 'anonymous'} exports {url}: answered {exported.status}")
                if leaked := leaks(exported.text, marks):
                    failures.append(f"{persona or 'anonymous'} exports {url} ({route.name}): shows {leaked}")
            plain = call(client, "GET", url)
            named = call(client, "GET", url, data={"q": zhang.name})
            answers = [({}, plain), ({"q": zhang.name}, named)]
            if named.text.replace(zhang.name, "") != plain.text:
                searched += 1
                answers += [(query, call(client, "GET", url, data=query)) for query in more]
            for query, answer in answers:
                asked += 1
                if answer.status >= 500:
                    failures.append(f"{persona or 'anonymous'} GET {url} {query}: answered {answer.status}")
                leaked = leaks(answer.text, marks, query.get("q", ""))
                if leaked:
                    failures.append(f"{persona or 'anonymous'} GET {url} {query} ({route.name}): shows {leaked}")
    assert asked > 100 and searched > 3 and downloaded >= 4
    assert not failures, f"{len(failures)} of {asked} lists, searches and exports show another area:\n" + "\n".join(failures)


# Routes whose filled addresses answer 404 even to those who see everything, with the reason.
NOT_FOUND_FOR_ALL = {
    "admin:view_on_site": "areas have no page of their own on the site (no get_absolute_url)",
}


def test_the_filled_addresses_reach_area_a_for_those_who_see_it():
    """The matrix is only worth its refusals if the addresses it fills exist: the city commander (the
    superuser for the admin) reaches each route through at least one of its filled addresses."""
    a = build_area_a()
    insiders = clients(a, ("city", "root"))
    missing = []
    for route in matrix_routes():
        if route.name in NOT_FOUND_FOR_ALL:
            continue
        client = insiders["root" if route.is_admin else "city"]
        answers = [(url, call(client, "GET", url).status) for url, _realm in fillings(route, a)]
        if all(status == 404 for _url, status in answers):
            missing.append(f"{route.name}: {[url for url, _status in answers]}")
    assert not missing, "filled addresses that reach nothing:\n" + "\n".join(missing)

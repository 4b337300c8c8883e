"""The XLSX exports as background jobs (fangkong.jobs.exports): the button's POST starts a job, the job page
offers its owner the same workbook the page used to send at once, the download is audit-logged with what
was exported; nobody starts an export of an area they do not cover or downloads another person's file,
and a job re-checks its user's rights when it runs."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from fangkong.audit.models import Action, AuditLog
from fangkong.cases.exports import targets_workbook
from fangkong.crosscheck import services as crosscheck
from fangkong.crosscheck.exports import todos_workbook
from fangkong.crosscheck.models import Kind as ToDoKind
from fangkong.crosscheck.models import ToDo
from fangkong.jobs.exports import EXPORTS
from fangkong.jobs.models import Job, JobStatus
from fangkong.jobs.runner import run_job
from fangkong.people.exports import export_residents
from fangkong.people.models import Resident
from fangkong.screening import coverage as cov
from fangkong.screening.exports import coverage_workbook
from fangkong.screening.testing import reached
from fangkong.screening.visits import local_today, record_visit
from fangkong.testing import run_export

pytestmark = pytest.mark.django_db

QINGHE = "420102001001"  # 青和居社区: the community worker's area, with grids A and B


@dataclass(frozen=True)
class Case:
    kind: str
    url: str
    data: dict
    page: str  # where a GET of the export's address leads


CASES = [
    Case("export-residents", f"/areas/{QINGHE}/export/", {}, f"/areas/{QINGHE}/"),
    Case("export-targets", f"/cases/areas/{QINGHE}/export/", {}, f"/cases/areas/{QINGHE}/"),
    Case("export-coverage", f"/screening/areas/{QINGHE}/coverage.xlsx", {"days": "3"}, f"/screening/areas/{QINGHE}/coverage/"),
    Case("export-todos", "/crosscheck/export/", {"area": QINGHE, "status": "all"}, "/crosscheck/"),
]
IDS = [case.kind for case in CASES]


@pytest.fixture
def data(city):
    """Something in each export: a visit (coverage), a to-do (cross-check); residents and targets are the city's."""
    record_visit(city.users["grid_a"], city.households["a101"], reached(city.residents["zhangwei"]))
    ToDo.objects.create(kind=ToDoKind.POWERED, household=city.households["a101"], resident=city.residents["zhangwei"],
                        area_code=city.households["a101"].area_code)
    return city


def cells(content: bytes) -> list[list]:
    """Every sheet's cells, with the minute the file was made taken out (the two files are made apart)."""
    book = load_workbook(io.BytesIO(content))
    return [[sheet.title] + [[re.sub(r"\d\d:\d\d", "HH:MM", v) if isinstance(v, str) else v for v in row]
                             for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets]


def made_at_once(kind: str, city) -> bytes:
    """The workbook as the page's export made it in the request, before it became a job."""
    user, area = city.users["community"], city.areas["qinghe"]
    if kind == "export-residents":
        handle, _rows = export_residents(Resident.objects.within(user, area.code))
        return handle.read()
    if kind == "export-targets":
        return targets_workbook(user, area)[0]
    if kind == "export-coverage":
        day = local_today()
        return coverage_workbook(cov.coverage(area, day, 3), user, None).getvalue()
    return todos_workbook(crosscheck.todos_in(user, area.code, kind="", status="all", q="")[:20_000])[0].getvalue()


def test_every_export_is_registered_with_an_address():
    assert sorted(EXPORTS) == sorted(IDS)
    assert {export.url_name for export in EXPORTS.values()} == {
        "people:area_export", "cases:export", "screening:coverage_export", "crosscheck:export"}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_an_export_job_gives_the_same_workbook_as_the_page_did(data, login, case):
    client = login(data.users["community"])
    response = run_export(client, case.url, case.data)
    assert response.status_code == 200, response
    job = Job.objects.get()
    assert job.kind == case.kind and job.status == JobStatus.DONE and job.user == data.users["community"]
    content = b"".join(response.streaming_content)
    assert cells(content) == cells(made_at_once(case.kind, data))
    assert response["Content-Disposition"].endswith(f'filename="{job.result_name}"')
    # The download is logged as the page's export was: the area as its object, the filters, and the file.
    entry = AuditLog.objects.get(action=Action.EXPORT)
    assert (entry.user, entry.object_type, entry.object_id, entry.area_code) == (
        data.users["community"], "areas.area", str(data.areas["qinghe"].pk), QINGHE)
    assert entry.changes["format"] == "xlsx" and entry.changes["file"] == job.result_name
    # The job page shows the rows under their label, and leads back to the page the export came from.
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "Rows" in page and f'href="{case.page}' in page


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_get_starts_nothing_and_leads_to_the_page_with_the_button(data, login, case):
    response = login(data.users["community"]).get(case.url, case.data)
    assert response.status_code == 302 and response["Location"].startswith(case.page)
    assert not Job.objects.exists() and not AuditLog.objects.filter(action=Action.EXPORT).exists()


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("persona", ["other_community", "grid_b", "volunteer"])
def test_nobody_starts_an_export_of_an_area_they_do_not_cover(data, login, case, persona):
    response = login(data.users[persona]).post(case.url, case.data)
    assert response.status_code in (403, 404)
    assert not Job.objects.exists()


@pytest.mark.parametrize("persona", ["street", "district", "grid_a", "other_community", "city"])
def test_only_the_person_who_asked_downloads_the_file(data, login, persona):
    run_export(login(data.users["community"]), f"/areas/{QINGHE}/export/")
    job = Job.objects.get()
    AuditLog.objects.filter(action=Action.EXPORT).delete()
    other = login(data.users[persona])
    assert other.get(reverse("jobs:download", args=[job.pk])).status_code in (403, 404)
    page = other.get(reverse("jobs:detail", args=[job.pk]))
    assert page.status_code in (403, 404) or "/download/" not in page.content.decode()
    assert not AuditLog.objects.filter(action=Action.EXPORT).exists()


def test_a_job_checks_its_users_rights_again_when_it_runs(data):
    """Between the click and the worker, the account lost the right (or the account is gone): nothing is written."""
    user = data.users["community"]
    job = Job.objects.create(kind="export-residents", user=user, area_code=QINGHE, params={"code": QINGHE})
    user.role = "volunteer"
    user.save()
    assert run_job(job.pk) == JobStatus.FAILED
    job.refresh_from_db()
    assert "may no longer export" in job.message and not job.result_name and not bytes(job.result_data)
    other = Job.objects.create(kind="export-targets", user=None, params={"code": QINGHE})
    assert run_job(other.pk) == JobStatus.FAILED


def test_a_job_writes_the_workbook_in_the_language_of_the_request_that_started_it(data):
    job = Job.objects.create(kind="export-todos", user=data.users["community"], area_code=QINGHE,
                             params={"code": QINGHE, "status": "all", "language": "zh-hans"})
    with translation.override("en"):  # the worker's own language
        assert run_job(job.pk) == JobStatus.DONE
    job.refresh_from_db()
    header = next(load_workbook(io.BytesIO(bytes(job.result_data))).worksheets[0].iter_rows(values_only=True))
    assert header[0] == "序号"

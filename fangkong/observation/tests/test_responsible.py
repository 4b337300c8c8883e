"""The responsible worker (包保责任人): assigned per file and for a whole area (audit-logged), and the
person's full name and phone on the board for them and the roles that may reveal the person."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from fangkong.audit.models import Action, AuditLog
from fangkong.core import permissions
from fangkong.core.errors import FieldErrors
from fangkong.observation import responsible
from fangkong.observation.access import access_file
from fangkong.observation.files import open_file
from fangkong.observation.models import Kind, ObservationFile

pytestmark = pytest.mark.django_db


def open_for(city, key: str, user: str = "community") -> ObservationFile:
    return open_file(city.users[user], city.residents[key], kind=Kind.HOME, reason="密接",
                     last_exposure_on=timezone.localdate() - dt.timedelta(days=2))


def test_the_community_worker_assigns_the_grid_worker_and_the_audit_log_keeps_it(city):
    file = open_for(city, "zhangwei")
    responsible.assign(city.users["community"], file, city.users["grid_a"].pk)
    file.refresh_from_db()
    assert file.responsible == city.users["grid_a"]
    entry = AuditLog.objects.filter(object_type="observation.file", object_id=str(file.pk), action=Action.UPDATE).last()
    assert entry.changes["responsible"] == ["", "grid_a"]
    responsible.assign(city.users["community"], file, "")  # nobody again
    file.refresh_from_db()
    assert file.responsible is None


def test_a_worker_of_another_grid_cannot_be_responsible_nor_assign(city):
    file = open_for(city, "zhangwei")  # grid A
    with pytest.raises(FieldErrors) as error:
        responsible.assign(city.users["community"], file, city.users["grid_b"].pk)
    assert "responsible" in error.value.errors
    with pytest.raises(Http404):  # the file is reached in the user's scope first
        access_file(city.users["grid_b"], file.pk, rule=permissions.can_assign_responsible)
    with pytest.raises(FieldErrors):  # a commander is nobody's 包保责任人
        responsible.assign(city.users["community"], file, city.users["street"].pk)


def test_the_candidates_are_the_grid_and_community_workers_covering_the_area(city):
    grid_a = city.areas["grid_a"].code
    assert set(responsible.candidates(city.users["community"], grid_a)) == {city.users["grid_a"], city.users["community"]}
    assert set(responsible.candidates(city.users["grid_a"], grid_a)) == {city.users["grid_a"]}
    community = city.areas["qinghe"].code
    assert set(responsible.candidates(city.users["district"], community)) == {
        city.users["grid_a"], city.users["grid_b"], city.users["community"]}


def test_a_bulk_assignment_takes_the_workers_own_people_and_skips_the_others(city):
    files = [open_for(city, key) for key in ("zhangwei", "lina", "wangfang")]  # grid A, grid A, grid B
    result = responsible.assign_in_area(city.users["community"], city.areas["qinghe"].code, city.users["grid_a"].pk,
                                        file_ids=[f.pk for f in files])
    assert (result.assigned, result.skipped) == (2, 1)
    assert {f.resident.name for f in ObservationFile.objects.filter(responsible=city.users["grid_a"])} == {"张伟", "李娜"}
    entry = AuditLog.objects.get(object_repr="Responsible worker for many files")
    assert entry.changes["count"] == 2 and sorted(entry.changes["files"]) == sorted([files[0].pk, files[1].pk])
    rest = responsible.assign_in_area(city.users["community"], city.areas["qinghe"].code, city.users["community"].pk,
                                      unassigned=True)
    assert (rest.assigned, rest.skipped) == (1, 0)
    assert ObservationFile.objects.get(pk=files[2].pk).responsible == city.users["community"]


def test_a_bulk_assignment_needs_a_worker_and_somebody_ticked(city):
    code = city.areas["qinghe"].code
    with pytest.raises(FieldErrors):
        responsible.assign_in_area(city.users["community"], code, None, unassigned=True)
    with pytest.raises(FieldErrors):
        responsible.assign_in_area(city.users["community"], code, city.users["grid_a"].pk)
    with pytest.raises(PermissionDenied):
        responsible.assign_in_area(city.users["other_community"], code, city.users["grid_a"].pk, unassigned=True)


def test_the_responsible_worker_sees_the_full_name_and_phone_on_the_board_and_the_view_is_logged(city, login):
    file = open_for(city, "zhangwei")
    responsible.assign(city.users["community"], file, city.users["grid_a"].pk)
    html = login(city.users["grid_a"]).get(f"/observation/areas/{city.areas['grid_a'].code}/").content.decode()
    assert "张伟" in html and 'href="tel:13800138000"' in html and "grid_a" in html
    entry = AuditLog.objects.get(action=Action.REVEAL, object_type="observation.file", username="grid_a")
    assert entry.changes == {"revealed": ["name", "phone"], "files": [file.pk]}


def test_somebody_who_may_not_reveal_sees_the_name_and_phone_masked(city):
    file = open_for(city, "zhangwei")
    for who in ("volunteer", "guard", "other_community"):
        contact = responsible.contact_of(city.users[who], file)
        assert (contact.name, contact.phone, contact.full) == ("张*", "138****8000", False)
    assert responsible.contact_of(city.users["grid_a"], file).full


def test_the_file_page_assigns_the_responsible_worker(city, login):
    file = open_for(city, "zhangwei")
    client = login(city.users["community"])
    page = client.get(f"/observation/files/{file.pk}/").content.decode()
    assert 'id="responsible-form"' in page and "13800138000" in page
    response = client.post(f"/observation/files/{file.pk}/responsible/", {"responsible": city.users["grid_b"].pk})
    assert response.status_code == 400  # not among the choices: grid B does not cover grid A
    response = client.post(f"/observation/files/{file.pk}/responsible/", {"responsible": city.users["grid_a"].pk})
    assert response.status_code == 302
    assert ObservationFile.objects.get(pk=file.pk).responsible == city.users["grid_a"]


def test_the_area_screen_assigns_the_ticked_people_and_everybody_without_one(city, login):
    files = [open_for(city, key) for key in ("zhangwei", "wangfang")]
    client = login(city.users["community"])
    url = f"/observation/areas/{city.areas['qinghe'].code}/responsible/"
    page = client.get(url)
    assert page.status_code == 200 and "张伟" in page.content.decode() and "王芳" in page.content.decode()
    board = client.get(f"/observation/areas/{city.areas['qinghe'].code}/").content.decode()
    assert url in board  # linked from the board
    response = client.post(url, {"responsible": city.users["grid_a"].pk, "files": [files[0].pk], "scope": "ticked"})
    assert response.status_code == 302
    response = client.post(url, {"responsible": city.users["grid_b"].pk, "scope": "unassigned"})
    assert response.status_code == 302
    assert [f.responsible for f in ObservationFile.objects.filter(pk__in=[f.pk for f in files]).order_by("id")] == [
        city.users["grid_a"], city.users["grid_b"]]
    refused = client.post(url, {"responsible": "", "scope": "unassigned"})
    assert refused.status_code == 400 and refused.context["form"].errors


def test_centralised_isolation_at_the_home_address_is_refused(city):
    resident = city.residents["zhangwei"]
    with pytest.raises(FieldErrors) as error:
        open_file(city.users["community"], resident, kind=Kind.CENTRALISED, reason="密接",
                  last_exposure_on=timezone.localdate(), place=resident.household.address)
    assert "place" in error.value.errors

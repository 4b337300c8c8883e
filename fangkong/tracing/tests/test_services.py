"""Contact tracing services: the close-contact rule of the policy, matching order, queueing a close
contact (case + observation, once), infection links, disinfection tasks, scope."""

import datetime as dt
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from fangkong.cases import services as cases
from fangkong.cases.hooks import STATUS_CHANGED
from fangkong.cases.models import Case, Placement, Source, Status
from fangkong.core.errors import FieldErrors
from fangkong.policy.schema import Policy
from fangkong.tracing.access import access_investigation, access_task
from fangkong.tracing.contacts import (
    confirm_match,
    mark_outside_registry,
    record_contact,
    register_contact,
    rematch,
)
from fangkong.tracing.infections import record_infection_link, suggested_links
from fangkong.tracing.investigations import mark_task_done, update_investigation
from fangkong.tracing.models import ContactEdge, DisinfectionTask, Investigation, MatchState, TaskStatus
from fangkong.tracing.rule import is_close

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()
ONSET = TODAY - dt.timedelta(days=5)


def contact(**extra):
    data = {"kind": "household", "name": "某人", "last_exposure_on": TODAY - dt.timedelta(days=1), "protection": "none"}
    data.update(extra)
    return data


# --- The policy rule --------------------------------------------------------------------------------

def test_an_unprotected_contact_exactly_two_days_before_onset_is_close():
    policy = Policy()
    assert is_close(policy, "none", ONSET - dt.timedelta(days=2), ONSET)
    assert not is_close(policy, "none", ONSET - dt.timedelta(days=3), ONSET)


def test_a_protected_contact_is_not_close_unless_the_policy_says_that_protection_does_not_count():
    assert not is_close(Policy(), "full_ppe", ONSET, ONSET)
    assert not is_close(Policy(), "mask", ONSET, ONSET)
    assert is_close(Policy(close_contact_unprotected=["none", "mask"]), "mask", ONSET, ONSET)


def test_the_sampling_date_counts_when_the_onset_is_not_known(city, investigation):
    update_investigation(city.users["community"], investigation, onset_on=None, sampled_on=ONSET)
    investigation.refresh_from_db()
    early, _ = record_contact(city.users["community"], investigation, contact(last_exposure_on=ONSET - dt.timedelta(days=3)))
    edge, _ = record_contact(city.users["community"], investigation, contact(last_exposure_on=ONSET - dt.timedelta(days=2)))
    assert (early.is_close, edge.is_close) == (False, True)


def test_a_later_onset_date_reclassifies_the_contacts(city, investigation):
    worker = city.users["community"]
    old, _ = record_contact(worker, investigation, contact(last_exposure_on=ONSET - dt.timedelta(days=4)))
    assert old.is_close  # no date known yet: every unprotected contact counts
    update_investigation(worker, investigation, onset_on=ONSET, sampled_on=None)
    old.refresh_from_db()
    assert not old.is_close


# --- Matching ---------------------------------------------------------------------------------------

def test_matching_prefers_the_document_number_then_the_phone_then_name_and_address(city, investigation):
    worker = city.users["community"]
    lina, wang = city.residents["lina"], city.residents["wanglaoshi"]
    # The document number wins even when the phone given is someone else's.
    by_doc, _ = record_contact(worker, investigation, contact(name="李娜", doc_number=lina.doc_number, phone=wang.phone))
    assert (by_doc.match_state, by_doc.resident_id) == (MatchState.AUTO_DOCUMENT, lina.pk)
    by_phone, _ = record_contact(worker, investigation, contact(name="王建国", phone="137-0013-7000"))
    assert (by_phone.match_state, by_phone.resident_id) == (MatchState.AUTO_PHONE, wang.pk)
    fuzzy, _ = record_contact(worker, investigation, contact(name="王芳", address="青和居2栋201"))
    assert (fuzzy.match_state, fuzzy.resident_id) == (MatchState.CANDIDATES, None)
    nobody, _ = record_contact(worker, investigation, contact(name="赵六", address="汉口火车站"))
    assert nobody.match_state == MatchState.UNMATCHED


def test_a_confirmed_fuzzy_match_becomes_a_close_contact_in_the_placement_backlog(city, investigation):
    worker = city.users["community"]
    fuzzy, _ = record_contact(worker, investigation, contact(name="王芳", address="青和居小区2栋201"))
    with mock.patch("fangkong.tracing.contacts.start_observation") as observation:
        confirm_match(worker, fuzzy, city.residents["wangfang"])
        confirm_match(worker, fuzzy, city.residents["wangfang"])  # twice: nothing more
    case = Case.objects.get(resident=city.residents["wangfang"])
    assert (case.status, case.placement, case.source, case.source_ref) == (
        Status.CLOSE_CONTACT, Placement.WAITING, Source.TRACING, f"contact:{fuzzy.pk}")
    observation.assert_called_once()
    assert observation.call_args.kwargs["last_exposure_on"] == fuzzy.last_exposure_on
    assert ContactEdge.objects.filter(contact=fuzzy, is_close=True).count() == 1


def test_a_confirmed_close_contact_gets_one_centralised_observation_file_from_the_last_exposure(city, investigation):
    from fangkong.observation.models import ObservationFile

    worker = city.users["community"]
    exposed = TODAY - dt.timedelta(days=2)
    fuzzy, _ = record_contact(worker, investigation, contact(name="王芳", address="青和居小区2栋201",
                                                             last_exposure_on=exposed))
    confirm_match(worker, fuzzy, city.residents["wangfang"])
    confirm_match(worker, fuzzy, city.residents["wangfang"])  # twice: still one file
    files = ObservationFile.objects.filter(resident=city.residents["wangfang"])
    assert files.count() == 1
    file = files.get()
    assert (file.kind, file.source, file.source_ref, file.last_exposure_on) == ("centralised", "tracing", f"contact:{fuzzy.pk}", exposed)
    assert file.planned_end_on == exposed + dt.timedelta(days=14)


def test_a_contact_whose_observation_period_is_over_gets_a_note_instead_of_a_file(city, investigation):
    from fangkong.observation.models import ObservationFile

    worker = city.users["community"]
    investigation.onset_on = TODAY - dt.timedelta(days=20)
    investigation.save()
    late, _ = record_contact(worker, investigation, contact(name="王芳", address="青和居小区2栋201",
                                                            last_exposure_on=TODAY - dt.timedelta(days=16)))
    assert late.is_close
    confirm_match(worker, late, city.residents["wangfang"])
    late.refresh_from_db()
    assert not ObservationFile.objects.filter(resident=city.residents["wangfang"]).exists()
    assert late.queued_at is not None and late.queue_note


def test_a_protected_contact_is_matched_but_not_queued(city, investigation):
    protected, _ = record_contact(city.users["community"], investigation,
                                  contact(name="李娜", doc_number=city.residents["lina"].doc_number, protection="full_ppe"))
    assert protected.is_matched and not protected.is_close and protected.queued_at is None
    assert not Case.objects.filter(resident=city.residents["lina"]).exists()


def test_the_same_client_id_records_the_contact_once(city, investigation):
    first, created = record_contact(city.users["community"], investigation, contact(), client_id="phone-1")
    again, created_again = record_contact(city.users["community"], investigation, contact(name="别人"), client_id="phone-1")
    assert (created, created_again, again.pk, again.name) == (True, False, first.pk, "某人")


def test_bad_input_names_the_field(city, investigation):
    with pytest.raises(FieldErrors) as exc:
        record_contact(city.users["community"], investigation,
                       contact(kind="pet", name="", doc_number="123", phone="12", last_exposure_on=TODAY + dt.timedelta(days=1)))
    assert set(exc.value.errors) == {"kind", "name", "doc_number", "phone", "last_exposure_on"}


def test_a_grid_worker_never_matches_a_resident_outside_their_grid_the_commander_does(city, confirmed, login):
    investigation = Investigation.objects.get(case=confirmed)
    liu = city.residents["liuyang"]  # lives in 武昌, outside grid A
    found, _ = record_contact(city.users["grid_a"], investigation, contact(name="刘洋", doc_number=liu.doc_number, phone=liu.phone))
    assert found.match_state == MatchState.UNMATCHED and found.resident_id is None
    # The resident is reached in the worker's scope (the page and the API answer 404), never by the service.
    assert login(city.users["grid_a"]).post(f"/tracing/contacts/{found.pk}/confirm/", {"resident": liu.pk}).status_code == 404
    found.refresh_from_db()
    assert found.resident_id is None
    rematch(city.users["city"], found)
    found.refresh_from_db()
    assert found.match_state == MatchState.AUTO_DOCUMENT
    assert Case.objects.get(resident=liu).status == Status.CLOSE_CONTACT


def test_the_neighbouring_grid_worker_cannot_touch_the_investigation(city, investigation):
    with pytest.raises(Http404):  # out of scope answers as if absent
        access_investigation(city.users["grid_b"], investigation.pk)
    with pytest.raises(PermissionDenied):  # facility staff do not trace
        access_investigation(city.users["facility"], investigation.pk)


def test_an_unmatched_contact_is_added_to_the_registry_in_a_chosen_household(city, investigation):
    from fangkong.core.identity import make_id_number

    number = make_id_number("420102", dt.date(1992, 5, 5), 77)
    new, _ = record_contact(city.users["community"], investigation, contact(name="陈新", doc_number=number))
    register_contact(city.users["community"], new, city.households["a102"])
    new.refresh_from_db()
    assert new.match_state == MatchState.CREATED and new.resident.household_id == city.households["a102"].pk
    assert Case.objects.get(resident=new.resident).status == Status.CLOSE_CONTACT


def test_a_contact_without_document_is_recorded_outside_the_registry(city, investigation):
    stranger, _ = record_contact(city.users["community"], investigation, contact(name="路人", address="外地"))
    with pytest.raises(FieldErrors):
        register_contact(city.users["community"], stranger, city.households["a102"])
    assert mark_outside_registry(city.users["community"], stranger).outside_registry


# --- Disinfection tasks, the status hook, links -------------------------------------------------------

def test_a_confirmed_case_gets_one_investigation_and_one_home_task_however_often_it_changes(city, confirmed):
    worker = city.users["community"]
    cases.change_severity(worker, confirmed, "severe", "加重")
    suspected = cases.open_case(worker, city.residents["wangfang"], Status.SUSPECTED, "疑似")
    cases.transition(worker, suspected, Status.CONFIRMED, "确诊", severity="mild")
    assert Investigation.objects.filter(case=confirmed).count() == 1
    assert Investigation.objects.filter(case=suspected).count() == 1
    assert list(DisinfectionTask.objects.filter(investigation__case=confirmed).values_list("kind", "place")) == [("home", "青和居小区1栋1单元101")]


def test_public_places_become_tasks_once_and_are_marked_done(city, investigation):
    worker = city.users["community"]
    update_investigation(worker, investigation, onset_on=ONSET, sampled_on=None, places=["华南海鲜市场", "地铁2号线"])
    update_investigation(worker, investigation, onset_on=ONSET, sampled_on=None, places=["华南海鲜市场"])
    tasks = DisinfectionTask.objects.filter(investigation=investigation, kind="public")
    assert tasks.count() == 2
    task = mark_task_done(worker, tasks.first(), "已消杀")
    assert task.status == TaskStatus.DONE and task.done_by == worker
    with pytest.raises(Http404):
        access_task(city.users["grid_b"], task.pk)


def test_a_close_contact_who_falls_ill_is_offered_as_infected_by_the_index_case(city, confirmed, investigation):
    worker = city.users["community"]
    lina = city.residents["lina"]
    with mock.patch("fangkong.tracing.contacts.start_observation"):
        record_contact(worker, investigation, contact(name="李娜", doc_number=lina.doc_number))
    lina_case = cases.transition(worker, Case.objects.get(resident=lina), Status.SUSPECTED, "核酸阳性")
    offered = suggested_links(worker, lina_case)
    assert [c.investigation.case_id for c in offered] == [confirmed.pk]
    link, created = record_infection_link(worker, confirmed, lina_case, "同住")
    again, created_again = record_infection_link(worker, confirmed, lina_case, "同住")
    assert created and not created_again and link.pk == again.pk
    assert suggested_links(worker, lina_case) == []
    with pytest.raises(FieldErrors):  # a circle
        record_infection_link(worker, lina_case, confirmed)


def test_tracing_rows_follow_the_index_case_who_moves(city, investigation):
    from fangkong.people.services import update_resident

    worker = city.users["community"]
    record_contact(worker, investigation, contact(name="李娜", doc_number=city.residents["lina"].doc_number, protection="mask"))
    zhang = city.residents["zhangwei"]
    raw = {"name": zhang.name, "sex": zhang.sex, "birth_date": zhang.birth_date, "doc_type": zhang.doc_type,
           "doc_number": zhang.doc_number, "phone": zhang.phone, "relation": "head"}
    update_resident(worker, zhang, raw, household=city.households["b201"])
    investigation.refresh_from_db()
    assert investigation.area_code == "420102001001002"
    assert set(investigation.contacts.values_list("area_code", flat=True)) == {"420102001001002"}
    assert set(DisinfectionTask.objects.values_list("area_code", flat=True)) == {"420102001001002"}
    assert set(ContactEdge.objects.values_list("area_code", flat=True)) == {"420102001001002"}


def test_the_fuzzy_search_never_offers_a_resident_outside_the_workers_scope(city):
    from fangkong.tracing import matching

    assert matching.candidates(city.users["grid_a"], "王芳", "青和居小区2栋201") == []  # she lives in grid B
    assert [c.resident.name for c in matching.candidates(city.users["community"], "王芳", "青和居小区2栋201")] == ["王芳"]
    assert matching.by_document(city.users["grid_a"], "id_card", city.residents["wangfang"].doc_number) is None
    assert matching.by_phone(city.users["grid_a"], city.residents["wangfang"].phone) == []


def test_status_hooks_are_called_after_every_change_with_the_status_before(city):
    calls = []

    def hook(user, case, before_status, now):
        calls.append((user.username, case.status, before_status))

    STATUS_CHANGED.register(hook)
    try:
        case = cases.open_case(city.users["community"], city.residents["lina"], Status.CLOSE_CONTACT, "密接")
        cases.transition(city.users["community"], case, Status.SUSPECTED, "阳性")
    finally:
        STATUS_CHANGED.unregister(hook)
    assert calls == [("community", "close_contact", ""), ("community", "suspected", "close_contact")]


def test_the_policy_decides_home_or_centralised_observation_of_a_close_contact(city, investigation):
    from fangkong.observation.models import ObservationFile
    from fangkong.policy.services import change_policy

    change_policy(city.users["city"], {"observation_centralised": False}, note="home observation")
    worker = city.users["community"]
    fuzzy, _ = record_contact(worker, investigation, contact(name="王芳", address="青和居小区2栋201"))
    confirm_match(worker, fuzzy, city.residents["wangfang"])
    file = ObservationFile.objects.get(resident=city.residents["wangfang"])
    # At home, at the person's own address: the category and the place agree.
    assert (file.kind, file.place) == ("home", city.residents["wangfang"].household.address)

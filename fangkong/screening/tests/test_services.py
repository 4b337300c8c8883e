"""Recording visits: validation against the policy, one transaction, idempotency, flags, scope."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from fangkong.audit.models import Action, AuditLog
from fangkong.cases.models import Case
from fangkong.cases.services import open_case
from fangkong.core.errors import FieldErrors
from fangkong.core.identity import make_id_number
from fangkong.people.models import Resident
from fangkong.policy.services import change_policy
from fangkong.screening import campaigns, followups, links, visits
from fangkong.screening.access import access_campaign_area, access_follow_up, access_household
from fangkong.screening.models import Flag, FollowUp, PersonCheck, Symptom, Visit
from fangkong.screening.testing import at, not_reached, reached
from fangkong.screening.validation import PersonInput, VisitInput

pytestmark = pytest.mark.django_db


def record(city, data, persona="grid_a", household="a101"):
    """As the visit page and the API record: the household reached through `access_household`."""
    user = city.users[persona]
    return visits.record_visit(user, access_household(user, city.households[household].pk), data)


def test_a_reached_visit_stores_the_people_with_the_households_area_code_and_local_date(city):
    zhang, li = city.residents["zhangwei"], city.residents["lina"]
    result = record(city, reached(zhang, li))
    visit = result.visit
    assert result.created
    assert visit.area_code == city.households["a101"].area_code == "420102001001001"
    assert visit.date == timezone.localdate(visit.visited_at)
    assert visit.recorded_by == city.users["grid_a"] and visit.persons_present == 2 and visit.flags == 0
    checks = list(PersonCheck.objects.filter(visit=visit).order_by("resident_id"))
    assert [c.resident_id for c in checks] == sorted([zhang.pk, li.pk])
    assert all(c.area_code == visit.area_code and c.date == visit.date and str(c.temperature) == "36.5" for c in checks)


def test_the_local_date_is_shanghais_not_utcs(city):
    # 00:30 in Shanghai is 16:30 UTC of the day before.
    local = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(0, 30)))
    if local > timezone.now():
        pytest.skip("it is not yet 00:30 in Shanghai")
    visit = record(city, reached(city.residents["zhangwei"], visited_at=local)).visit
    assert visit.date == timezone.localdate()
    assert visit.visited_at.astimezone(dt.UTC).date() == timezone.localdate() - dt.timedelta(days=1)


def test_sending_the_same_visit_twice_records_it_once_and_returns_the_first(city):
    data = reached(city.residents["zhangwei"])
    first = record(city, data)
    data.persons[0].temperature = "38.5"  # a changed resend is still the same visit
    second = record(city, data)
    assert first.created and not second.created
    assert second.visit.pk == first.visit.pk
    assert Visit.objects.count() == 1 and PersonCheck.objects.count() == 1 and FollowUp.objects.count() == 0


def test_a_client_id_of_another_household_is_refused(city):
    data = reached(city.residents["zhangwei"])
    record(city, data)
    other = reached(city.residents["wanglaoshi"])
    other.client_id = data.client_id
    with pytest.raises(FieldErrors) as caught:
        record(city, other, household="a102")
    assert set(caught.value.errors) == {"client_id"}


@pytest.mark.parametrize("value", ["33.9", "43.1", "0", "-36.5", "365", "1e6"])
def test_a_temperature_outside_the_policys_valid_range_is_a_field_error(city, value):
    with pytest.raises(FieldErrors) as caught:
        record(city, reached(city.residents["zhangwei"], temperature=value))
    assert set(caught.value.errors) == {"persons.0.temperature"}
    assert Visit.objects.count() == 0


@pytest.mark.parametrize("value,stored", [("34.0", "34.0"), ("43", "43.0"), ("36.55", "36.6"), ("３６．８", "36.8"),
                                          ("37,1", "37.1"), (36.7, "36.7"), ("36.5℃", "36.5")])
def test_temperatures_inside_the_range_are_readings(city, value, stored):
    visit = record(city, reached(city.residents["zhangwei"], temperature=value)).visit
    assert str(visit.checks.get().temperature) == stored


def test_the_valid_range_comes_from_the_policy(city):
    change_policy(city.users["city"], {"temperature_min_c": 35.0})
    with pytest.raises(FieldErrors):
        record(city, reached(city.residents["zhangwei"], temperature="34.5"))


def test_fever_is_flagged_at_the_policys_threshold_and_moves_with_it(city):
    zhang = city.residents["zhangwei"]
    assert record(city, reached(zhang, temperature="37.3")).visit.flags == Flag.FEVER
    assert record(city, reached(zhang, temperature="37.2")).visit.flags == 0
    change_policy(city.users["city"], {"fever_threshold_c": 37.5}, note="threshold raised")
    assert record(city, reached(zhang, temperature="37.3")).visit.flags == 0
    assert record(city, reached(zhang, temperature="37.5")).visit.flags == Flag.FEVER


def test_a_flagged_person_gets_one_follow_up_item_with_all_reasons(city):
    zhang, li = city.residents["zhangwei"], city.residents["lina"]
    data = reached(zhang, li)
    data.persons[0].temperature = "38.2"
    data.persons[0].symptoms = ["dry_cough", "fatigue"]
    data.persons[1].contact_14d = True
    visit = record(city, data).visit
    assert visit.flags == Flag.FEVER | Flag.SYMPTOMS | Flag.CONTACT
    items = {(f.resident_id, f.reason, tuple(f.reason_codes)) for f in FollowUp.objects.all()}
    assert items == {(zhang.pk, "fever", ("fever", "symptoms")), (li.pk, "possible_contact", ("possible_contact",))}
    item = FollowUp.objects.get(resident=zhang)
    assert item.visit == visit and item.status == "open" and item.area_code == visit.area_code
    assert item.reasons == Flag.FEVER | Flag.SYMPTOMS
    assert item.person_check.symptoms == Symptom.DRY_COUGH | Symptom.FATIGUE


def test_an_open_item_gains_the_reasons_found_later(city):
    zhang = city.residents["zhangwei"]
    first = record(city, reached(zhang, symptoms=["dry_cough"], visited_at=at(0, 8))).visit
    fever = record(city, reached(zhang, temperature="38.3")).visit
    item = FollowUp.objects.get()
    assert (item.reason, item.reason_codes) == ("fever", ["fever", "symptoms"])
    assert item.visit == fever and item.person_check.temperature == Decimal("38.3")  # the latest evidence
    assert item.created_at == first.visited_at  # flagged since the first visit
    assert followups.take_up_categories(item) == ["fever", "suspected"]
    record(city, reached(zhang, contact_14d=True))
    item.refresh_from_db()
    assert item.reasons == Flag.FEVER | Flag.SYMPTOMS | Flag.CONTACT
    assert followups.take_up_categories(item) == ["fever", "suspected", "close_contact"]


def test_a_fever_reported_again_keeps_one_open_item_until_it_is_handled(city):
    zhang = city.residents["zhangwei"]
    record(city, reached(zhang, temperature="38.0"))
    record(city, reached(zhang, temperature="38.4"))
    assert FollowUp.objects.filter(status="open").count() == 1
    followups.dismiss_follow_up(city.users["community"], FollowUp.objects.get(), "measured again: 36.6")
    record(city, reached(zhang, temperature="38.1"))
    assert FollowUp.objects.filter(status="open").count() == 1 and FollowUp.objects.count() == 2


def test_one_bad_person_row_saves_nothing_of_the_visit(city):
    data = reached(city.residents["zhangwei"], city.residents["lina"])
    data.persons[0].temperature = "38.5"
    data.persons[1].symptoms = ["sneezing"]
    new_doc = make_id_number("420102", dt.date(1995, 5, 5), 301)
    data.persons.append(PersonInput(new_resident={"name": "赵新", "doc_number": new_doc}, temperature="36.6"))
    with pytest.raises(FieldErrors) as caught:
        record(city, data)
    assert set(caught.value.errors) == {"persons.1.symptoms"}
    assert not Visit.objects.exists() and not PersonCheck.objects.exists() and not FollowUp.objects.exists()
    assert not Resident.objects.filter(doc_number=new_doc).exists()


def test_someone_not_on_the_roster_is_added_as_a_new_occupant_and_audited(city):
    doc = make_id_number("420102", dt.date(1995, 5, 5), 301)
    data = reached(city.residents["zhangwei"])
    data.persons.append(PersonInput(new_resident={"name": "赵新", "doc_number": doc, "relation": "tenant"},
                                    temperature="37.6"))
    visit = record(city, data).visit
    newcomer = Resident.objects.get(doc_number=doc)
    assert newcomer.is_new_occupant and newcomer.household == city.households["a101"]
    assert newcomer.area_code == city.households["a101"].area_code
    assert visit.checks.filter(resident=newcomer, flags=Flag.FEVER).exists()
    assert FollowUp.objects.get().resident == newcomer
    entry = AuditLog.objects.get(action=Action.CREATE, object_id=str(newcomer.pk))
    assert entry.changes["is_new_occupant"] == [None, True] and entry.username == "grid_a"


def test_a_new_occupant_with_a_bad_id_number_is_a_field_error_of_that_row(city):
    doc = make_id_number("420102", dt.date(1995, 5, 5), 301)
    bad = doc[:-1] + ("0" if doc[-1] != "0" else "1")
    data = reached(city.residents["zhangwei"])
    data.persons.append(PersonInput(new_resident={"name": "赵新", "doc_number": bad}, temperature="36.6"))
    with pytest.raises(FieldErrors) as caught:
        record(city, data)
    assert set(caught.value.errors) == {"persons.1.new_resident.doc_number"}
    assert not Visit.objects.exists()


def test_a_new_occupant_already_on_the_roster_elsewhere_is_refused(city):
    data = reached(city.residents["zhangwei"])
    data.persons.append(PersonInput(new_resident={"name": "刘洋", "doc_number": city.residents["liuyang"].doc_number},
                                    temperature="36.6"))
    with pytest.raises(FieldErrors) as caught:
        record(city, data)
    assert set(caught.value.errors) == {"persons.1.new_resident.doc_number"}


@pytest.mark.parametrize("change,field", [
    ({"resident": "wangfang"}, "persons.0.resident_id"),  # of another household
    ({"present": False, "temperature": "36.5"}, "persons.0.temperature"),
    ({"temperature": ""}, "persons.0.temperature"),
    ({"temperature": "warm"}, "persons.0.temperature"),
    ({"symptoms": ["headache"]}, "persons.0.symptoms"),
])
def test_person_rows_are_checked(city, change, field):
    resident = city.residents[change.pop("resident", "zhangwei")]
    data = VisitInput(client_id=uuid.uuid4(), method="door", outcome="reached",
                      persons=[PersonInput(resident_id=resident.pk, **{"temperature": "36.5", **change})])
    with pytest.raises(FieldErrors) as caught:
        record(city, data)
    assert set(caught.value.errors) == {field}


def test_neighbours_word_needs_no_temperature_and_away_people_none(city):
    data = VisitInput(client_id=uuid.uuid4(), method="neighbour", outcome="reached", persons=[
        PersonInput(resident_id=city.residents["zhangwei"].pk, present=True),
        PersonInput(resident_id=city.residents["lina"].pk, present=False, travel_14d=True),
    ])
    visit = record(city, data).visit
    assert visit.persons_present == 1 and visit.flags == Flag.CONTACT


def test_the_outcome_decides_whether_people_are_recorded(city):
    with pytest.raises(FieldErrors) as caught:
        record(city, VisitInput(client_id=uuid.uuid4(), method="door", outcome="reached"))
    assert set(caught.value.errors) == {"persons"}
    with_people = reached(city.residents["zhangwei"])
    with_people.outcome = "nobody_home"
    with pytest.raises(FieldErrors):
        record(city, with_people)
    visit = record(city, not_reached("vacant")).visit
    assert visit.is_screened and visit.persons_present == 0


def test_visit_times_are_neither_in_the_future_nor_older_than_a_week(city):
    for when in (timezone.now() + dt.timedelta(hours=1), timezone.now() - dt.timedelta(days=8)):
        with pytest.raises(FieldErrors) as caught:
            record(city, reached(city.residents["zhangwei"], visited_at=when))
        assert set(caught.value.errors) == {"visited_at"}
    assert record(city, reached(city.residents["zhangwei"], visited_at=at(6))).visit.date == at(6).date()


def test_grid_b_cannot_record_a_visit_in_grid_a(city):
    with pytest.raises(Http404):  # out of scope: the same answer as a household that does not exist
        record(city, reached(city.residents["zhangwei"]), persona="grid_b")
    with pytest.raises(Http404):
        record(city, not_reached(), persona="other_community")
    assert not Visit.objects.exists()


@pytest.mark.parametrize("persona", ["volunteer", "guard", "facility"])
def test_only_screening_roles_record_visits(city, persona):
    with pytest.raises(PermissionDenied):
        record(city, not_reached(), persona=persona)


def test_dismissing_needs_a_reason_is_audited_and_happens_once(city):
    record(city, reached(city.residents["zhangwei"], temperature="38.0"))
    item = FollowUp.objects.get()
    with pytest.raises(FieldErrors):
        followups.dismiss_follow_up(city.users["community"], item, "  ")
    with pytest.raises(PermissionDenied):  # a grid worker sees the queue but does not handle it
        access_follow_up(city.users["grid_a"], item.pk)
    with pytest.raises(Http404):
        access_follow_up(city.users["other_community"], item.pk)
    followups.dismiss_follow_up(city.users["community"], item, "thermometer fault; 36.6 at 11:00")
    item.refresh_from_db()
    assert item.status == "dismissed" and item.handled_by == city.users["community"] and item.handled_at
    entry = AuditLog.objects.get(object_type="screening.followup")
    assert entry.changes["status"] == ["open", "dismissed"] and entry.area_code == item.area_code
    with pytest.raises(followups.FollowUpClosed):
        followups.take_follow_up(city.users["street"], item)


def test_taking_an_item_up_is_a_plain_status_change(city):
    record(city, reached(city.residents["zhangwei"], travel_14d=True))
    item = followups.take_follow_up(city.users["street"], FollowUp.objects.get(), "to the four-categories list")
    assert item.status == "taken" and item.reason == "possible_contact"


def test_a_self_report_is_an_online_screening_without_a_worker(city):
    link = links.link_for(city.users["grid_a"], city.households["a101"])
    data = reached(city.residents["zhangwei"], city.residents["lina"], method="door")
    visit = visits.record_self_report(link, data).visit
    assert (visit.method, visit.outcome, visit.recorded_by, visit.is_screened) == ("online", "reached", None, True)
    assert visit.is_self_report


def test_a_self_report_cannot_add_people_to_the_roster(city):
    link = links.link_for(city.users["grid_a"], city.households["a101"])
    data = reached(city.residents["zhangwei"])
    data.persons.append(PersonInput(new_resident={"name": "赵新", "doc_number": "x"}, temperature="36.6"))
    with pytest.raises(FieldErrors) as caught:
        visits.record_self_report(link, data)
    assert "persons.1" in caught.value.errors


def test_links_are_made_once_per_household_and_renewed_on_demand(city):
    first = links.link_for(city.users["grid_a"], city.households["a101"])
    assert links.link_for(city.users["community"], city.households["a101"]).token == first.token
    assert len(first.token) >= 32
    with pytest.raises(Http404):
        access_household(city.users["grid_b"], city.households["a101"].pk)
    renewed = links.renew_link(city.users["grid_a"], city.households["a101"])
    assert renewed.token != first.token and links.link_by_token(first.token) is None
    assert links.link_by_token(renewed.token).household == city.households["a101"]


def test_campaigns_are_created_by_commanders_in_their_scope(city):
    today = timezone.localdate()
    campaign = campaigns.create_campaign(city.users["street"], city.areas["dazhi"], "三天拉网排查", today,
                                        today + dt.timedelta(days=2))
    assert campaign.area_code == "420102001" and campaign.days == 3
    with pytest.raises(Http404):
        access_campaign_area(city.users["street"], city.areas["ziyang"].code)
    with pytest.raises(PermissionDenied):
        access_campaign_area(city.users["community"], city.areas["qinghe"].code)
    with pytest.raises(FieldErrors) as caught:
        campaigns.create_campaign(city.users["city"], city.areas["wuhan"], "", today, today - dt.timedelta(days=1))
    assert set(caught.value.errors) == {"name", "end_date"}


def test_taking_up_a_fever_item_opens_a_fever_case_from_the_flag_in_the_same_transaction(city):
    zhang = city.residents["zhangwei"]
    record(city, reached(zhang, temperature="38.3"))
    item = FollowUp.objects.get()
    followups.take_follow_up(city.users["community"], item, "测体温复核")
    case = Case.objects.get(resident=zhang)
    assert case.status == "fever" and case.flagged_at == item.created_at
    assert case.source == "screening" and case.source_ref == f"screening-follow-up:{item.pk}"
    item.refresh_from_db()
    assert item.status == "taken" and item.handled_by == city.users["community"]


def test_a_possible_contact_is_taken_up_as_a_close_contact_or_as_suspected_and_nothing_else(city):
    li = city.residents["lina"]
    data = reached(li)
    data.persons[0].contact_14d = True
    record(city, data)
    item = FollowUp.objects.get()
    with pytest.raises(FieldErrors) as caught:
        followups.take_follow_up(city.users["community"], item, category="fever")
    assert "category" in caught.value.errors
    item.refresh_from_db()
    assert item.status == "open" and not Case.objects.exists()
    followups.take_follow_up(city.users["community"], item, category="suspected")
    assert Case.objects.get(resident=li).status == "suspected"


def test_a_take_up_the_state_machine_refuses_leaves_the_item_open(city):
    zhang = city.residents["zhangwei"]
    open_case(city.users["community"], zhang, "confirmed", "确诊", severity="mild")
    record(city, reached(zhang, temperature="38.3"))
    item = FollowUp.objects.get()
    with pytest.raises(FieldErrors):
        followups.take_follow_up(city.users["community"], item)  # confirmed → fever is not a transition
    item.refresh_from_db()
    assert item.status == "open" and Case.objects.get(resident=zhang).status == "confirmed"


# ---------------------------------------------------------------- how the temperature was taken (R7)

def test_a_reading_records_how_it_was_taken_forehead_by_default(city):
    zhang, li = city.residents["zhangwei"], city.residents["lina"]
    data = reached(zhang, li)
    data.persons[1].temperature_method = "armpit"
    visit = record(city, data).visit
    assert [(c.temperature_method, c.outdoors, c.reading_unreliable) for c in visit.checks.order_by("id")] == [
        ("forehead", False, False), ("armpit", False, False)]
    data = reached(zhang)
    data.persons[0].temperature_method = "mouth"
    with pytest.raises(FieldErrors) as exc:
        record(city, data)
    assert exc.value.errors == {"persons.0.temperature_method": "Choose how the temperature was taken."}


def test_a_forehead_reading_outdoors_in_the_cold_is_kept_but_marked_unreliable(city):
    zhang = city.residents["zhangwei"]
    visit = record(city, reached(zhang, outdoors=True, ambient_c="4")).visit
    check = visit.checks.get()
    assert (check.temperature, check.outdoors, check.ambient_c, check.reading_unreliable) == (
        Decimal("36.5"), True, Decimal("4.0"), True)
    assert visits.unreliable_checks(visit) == [check]
    mild = record(city, reached(zhang, outdoors=True, ambient_c="22.5")).visit.checks.get()
    assert not mild.reading_unreliable
    ear = record(city, reached(zhang, temperature_method="ear", outdoors=True, ambient_c="4")).visit.checks.get()
    assert (ear.outdoors, ear.ambient_c, ear.reading_unreliable) == (False, None, False)  # the ear reads fine outdoors


def test_a_forehead_reading_outdoors_needs_a_plausible_outdoor_temperature(city):
    zhang = city.residents["zhangwei"]
    for value, message in (("", "Enter the outdoor temperature for a forehead reading taken outdoors."),
                           ("hot", "Not an outdoor temperature: write it like 12 or -3."),
                           ("75", "Not an outdoor temperature: write it like 12 or -3.")):
        with pytest.raises(FieldErrors) as exc:
            record(city, reached(zhang, outdoors=True, ambient_c=value))
        assert exc.value.errors == {"persons.0.ambient_c": message}
    assert not Visit.objects.exists()


def probe_forehead_ambient_min_c(city, policy_change) -> tuple[bool, bool]:
    """Policy probe: a forehead reading outdoors at 15 °C is unreliable under the default minimum (18 °C) and
    reliable once the minimum is 12 °C. Returns (before, after)."""
    zhang = city.residents["zhangwei"]
    before = record(city, reached(zhang, outdoors=True, ambient_c="15")).visit.checks.get().reading_unreliable
    policy_change({"forehead_ambient_min_c": 12.0})
    after = record(city, reached(zhang, outdoors=True, ambient_c="15")).visit.checks.get().reading_unreliable
    return before, after


def probe_forehead_ambient_max_c(city, policy_change) -> tuple[bool, bool]:
    """Policy probe: outdoors at 31 °C is unreliable under the default maximum (28 °C), reliable under 33 °C."""
    zhang = city.residents["zhangwei"]
    before = record(city, reached(zhang, outdoors=True, ambient_c="31")).visit.checks.get().reading_unreliable
    policy_change({"forehead_ambient_max_c": 33.0})
    after = record(city, reached(zhang, outdoors=True, ambient_c="31")).visit.checks.get().reading_unreliable
    return before, after


@pytest.mark.parametrize("probe", [probe_forehead_ambient_min_c, probe_forehead_ambient_max_c])
def test_the_forehead_ambient_range_comes_from_the_policy(city, probe):
    def policy_change(values):
        change_policy(city.users["city"], values, note="another thermometer")

    assert probe(city, policy_change) == (True, False)

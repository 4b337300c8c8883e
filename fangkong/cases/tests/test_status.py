"""The status state machine: allowed moves with their history and audit, refusals with clear messages."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from fangkong.audit.models import AuditLog
from fangkong.cases import placement, services
from fangkong.cases.access import access_case, access_resident
from fangkong.cases.models import Case, Placement, Status, StatusChange
from fangkong.cases.transitions import TRANSITIONS
from fangkong.core.errors import FieldErrors

pytestmark = pytest.mark.django_db


def test_a_grid_worker_takes_up_a_screening_flag_as_a_fever_patient(city):
    zhang = city.residents["zhangwei"]
    case = services.open_case_from_flag(city.users["grid_a"], zhang, "体温37.9°C，咳嗽", source_ref="followup-17")
    assert case.status == Status.FEVER and case.category == "fever" and case.area_code == zhang.area_code
    assert case.placement == Placement.WAITING  # fever patients go to a fever clinic first
    change = case.history.get()
    assert (change.from_status, change.to_status, change.reason, change.changed_by) == ("", Status.FEVER, "体温37.9°C，咳嗽", city.users["grid_a"])
    entry = AuditLog.objects.get(object_type="cases.case", object_id=str(case.pk))
    assert entry.changes["status"] == [None, "fever"] and entry.area_code == zhang.area_code


def test_taking_up_the_same_flag_twice_changes_nothing(city):
    zhang = city.residents["zhangwei"]
    first = services.open_case_from_flag(city.users["grid_a"], zhang, "发热")
    again = services.open_case_from_flag(city.users["community"], zhang, "发热")
    assert first.pk == again.pk and StatusChange.objects.count() == 1


def test_a_fever_patient_walks_the_whole_pipeline_to_release(city):
    user = city.users["community"]
    case = services.open_case(user, city.residents["zhangwei"], Status.FEVER, "发热")
    for target, extra in ((Status.TESTED, {}), (Status.SUSPECTED, {}), (Status.CONFIRMED, {"severity": "mild"}),
                          (Status.DISCHARGED, {"cure_override": "外院报告两次阴性"}), (Status.RECOVERY, {}), (Status.RELEASED, {})):
        case = services.transition(user, case, target, "按诊疗方案", **extra)
    assert case.status == Status.RELEASED and case.category == "" and case.placement == Placement.NONE
    assert [c.to_status for c in case.history.all()] == ["fever", "tested", "suspected", "confirmed", "discharged", "recovery", "released"]


@pytest.mark.parametrize(("start", "target"), [
    (Status.FEVER, Status.CONFIRMED), (Status.FEVER, Status.EXCLUDED), (Status.CLOSE_CONTACT, Status.EXCLUDED),
    (Status.CONFIRMED, Status.SUSPECTED), (Status.CONFIRMED, Status.RELEASED),
])
def test_an_illegal_transition_is_refused_with_the_allowed_next_statuses(city, start, target):
    user = city.users["community"]
    case = services.open_case(user, city.residents["zhangwei"], start, "登记", severity="mild")
    with pytest.raises(services.TransitionRefused) as refused:
        services.transition(user, case, target, "试图跳过")
    message = str(refused.value)
    assert "cannot go from" in message and "Allowed next" in message
    assert refused.value.errors.keys() == {"to_status"}
    assert Case.objects.get(pk=case.pk).status == start and case.history.count() == 1


def test_the_deceased_status_is_final(city):
    user = city.users["community"]
    case = services.open_case(user, city.residents["zhangwei"], Status.CONFIRMED, "确诊", severity="critical")
    case = services.transition(user, case, Status.DECEASED, "抢救无效")
    with pytest.raises(services.TransitionRefused, match="is final"):
        services.transition(user, case, Status.FEVER, "再次发热")


def test_confirming_needs_a_severity_and_a_reason(city):
    user = city.users["community"]
    case = services.open_case(user, city.residents["zhangwei"], Status.SUSPECTED, "疑似")
    with pytest.raises(FieldErrors) as missing:
        services.transition(user, case, Status.CONFIRMED, "核酸阳性")
    assert "severity" in missing.value.errors
    with pytest.raises(FieldErrors) as no_reason:
        services.transition(user, case, Status.CONFIRMED, "  ", severity="severe")
    assert "reason" in no_reason.value.errors


def test_a_severity_change_is_history_and_moves_the_patient_back_to_the_backlog(city):
    user = city.users["district"]
    case = services.open_case(user, city.residents["zhangwei"], Status.CONFIRMED, "确诊", severity="mild")
    case = services.change_severity(user, case, "critical", "血氧下降", evidence="SpO2 88%")
    assert case.category == "critical" and case.placement == Placement.WAITING
    last = case.history.last()
    assert (last.from_severity, last.to_severity, last.evidence) == ("mild", "critical", "SpO2 88%")
    with pytest.raises(services.TransitionRefused):
        services.change_severity(user, services.open_case(user, city.residents["lina"], Status.FEVER, "发热"), "mild", "x")


def test_a_closed_case_opens_a_new_episode_with_tests_counted_afresh(city):
    user = city.users["community"]
    case = services.open_case(user, city.residents["zhangwei"], Status.CLOSE_CONTACT, "流调")
    Case.objects.filter(pk=case.pk).update(tested=True)
    case = services.transition(user, Case.objects.get(pk=case.pk), Status.RELEASED, "观察期满")
    case = services.open_case_from_flag(user, case.resident, "再次发热")
    assert case.status == Status.FEVER and not case.tested


def test_people_outside_the_scope_cannot_be_taken_up_or_changed(city):
    """The access functions refuse them (403 for the role, 404 for the scope); the services trust them."""
    zhang = city.residents["zhangwei"]
    for persona in ("grid_b", "other_community", "volunteer", "guard", "facility"):
        with pytest.raises((PermissionDenied, Http404)):
            services.open_case(city.users[persona], access_resident(city.users[persona], zhang.pk), Status.FEVER, "发热")
    case = services.open_case(city.users["grid_a"], access_resident(city.users["grid_a"], zhang.pk), Status.FEVER, "发热")
    for persona in ("grid_b", "other_community", "volunteer", "facility"):
        with pytest.raises((PermissionDenied, Http404)):
            services.transition(city.users[persona], access_case(city.users[persona], case.pk), Status.TESTED, "采样")


def test_a_dismissed_flag_is_kept_in_the_audit_log(city):
    services.dismiss_flag(city.users["grid_a"], city.residents["zhangwei"], "复测体温正常", source_ref="followup-3")
    entry = AuditLog.objects.get(object_type="people.resident", object_id=str(city.residents["zhangwei"].pk))
    assert entry.changes == {"flag_dismissed": "复测体温正常", "source_ref": "followup-3"}
    assert not Case.objects.exists()


def test_the_transition_table_names_every_status_and_only_known_ones():
    known = set(Status.values)
    assert set(TRANSITIONS) - {None} == known
    for targets in TRANSITIONS.values():
        assert targets <= known


def test_a_close_contact_waits_for_no_bed_when_the_policy_observes_close_contacts_at_home(city):
    from fangkong.cases.models import Placement, Status
    from fangkong.policy.services import change_policy

    case = services.open_case(city.users["community"], city.residents["zhangwei"], Status.CLOSE_CONTACT, "密接")
    assert case.placement == Placement.WAITING
    change_policy(city.users["city"], {"observation_centralised": False}, note="居家观察")
    case.refresh_from_db()
    assert placement.refresh_placement(case).placement == Placement.NONE

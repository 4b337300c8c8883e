"""After a cure: the post-discharge period (recovery station or home monitoring) ends after the policy's
post_discharge_days; the case page and lists show its end, and a list names those due or overdue."""

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.cases import services
from fangkong.cases.models import Case, Status
from fangkong.policy.schema import Policy
from fangkong.policy.services import change_policy

pytestmark = pytest.mark.django_db


def cured(city, who):
    user = city.users["community"]
    case = services.open_case(user, city.residents[who], Status.CONFIRMED, "确诊", severity="mild")
    return services.transition(user, case, Status.DISCHARGED, "治愈出院", cure_override="外院两次阴性")


def test_the_period_ends_after_the_policy_days_and_changing_them_changes_the_end(city):
    today = timezone.localdate()
    assert cured(city, "zhangwei").post_discharge_until == today + dt.timedelta(days=14)
    change_policy(city.users["city"], {"post_discharge_days": 7}, note="7+3")
    assert cured(city, "lina").post_discharge_until == today + dt.timedelta(days=7)
    # The pure rule, as the policy probe reads it.
    noon = dt.datetime(2020, 2, 20, 4, 0, tzinfo=dt.UTC)
    assert services.post_discharge_end(noon, Policy(post_discharge_days=21)) == dt.date(2020, 3, 12)


def test_recovery_keeps_the_end_and_a_re_positive_patient_leaves_the_period(city):
    user = city.users["community"]
    case = services.transition(user, cured(city, "zhangwei"), Status.RECOVERY, "入住康复驿站")
    assert case.post_discharge_until is not None
    case = services.transition(user, case, Status.CONFIRMED, "复阳", severity="mild")
    assert case.post_discharge_until is None


def test_the_list_names_who_is_due_or_overdue_and_the_board_counts_them(city, login):
    due, later = cured(city, "zhangwei"), cured(city, "lina")
    Case.objects.filter(pk=due.pk).update(post_discharge_until=timezone.localdate() - dt.timedelta(days=1))
    client = login(city.users["community"])
    board = client.get("/cases/areas/420102001001/").content.decode()
    assert 'id="post-discharge-due">1 due' in board
    everyone = client.get("/cases/areas/420102001001/post-discharge/").content.decode()
    assert f'post-discharge-{due.pk}' in everyone and f'post-discharge-{later.pk}' in everyone and "overdue" in everyone
    only_due = client.get("/cases/areas/420102001001/post-discharge/?due=1").content.decode()
    assert f'post-discharge-{due.pk}' in only_due and f'post-discharge-{later.pk}' not in only_due
    page = client.get(f"/cases/{later.pk}/").content.decode()
    assert 'id="post-discharge-until"' in page and later.post_discharge_until.isoformat() in page
    people = client.get("/cases/areas/420102001001/people/").content.decode()
    assert f"period until {later.post_discharge_until:%m-%d}" in people


def test_a_neighbouring_grid_sees_nobody_of_the_other_grid_in_the_period(city, login):
    cured(city, "zhangwei")
    page = login(city.users["grid_b"]).get("/cases/areas/420102001001002/post-discharge/").content.decode()
    assert "张伟" not in page
    assert login(city.users["grid_b"]).get("/cases/areas/420102001001001/post-discharge/").status_code == 404

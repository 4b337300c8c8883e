import importlib

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from pydantic import ValidationError

from fangkong.audit.models import Action, AuditLog
from fangkong.policy.models import PolicyVersion
from fangkong.policy.services import change_policy, current_policy


def test_the_2020_defaults_are_in_force_until_changed(db):
    policy = current_policy()
    assert policy.fever_threshold_c == 37.3
    assert (policy.temperature_min_c, policy.temperature_max_c) == (34.0, 43.0)
    assert policy.observation_days == 14 and policy.close_contact_lookback_days == 2
    assert policy.home_reports_per_day == 2 and len(policy.home_report_windows) == 2
    assert policy.routing["severe"] == ["designated_hospital"]
    assert policy.routing["mild"] == ["shelter_hospital"]
    assert policy.routing["close_contact"] == ["isolation_site"]
    assert (policy.volunteer_min_age, policy.volunteer_max_age) == (18, 55)


def test_a_city_commander_change_is_a_new_audited_version(city):
    version = change_policy(city.users["city"], {"observation_days": 7}, note="2022 edition: 7+3")
    assert version.version == 1
    assert current_policy().observation_days == 7
    entry = AuditLog.objects.get(action=Action.POLICY)
    assert entry.changes["observation_days"] == [14, 7]
    second = change_policy(city.users["city"], {"fever_threshold_c": 37.5})
    assert second.version == 2 and current_policy().observation_days == 7


def test_only_city_commanders_change_the_policy(city):
    with pytest.raises(PermissionDenied):
        change_policy(city.users["district"], {"observation_days": 7})


def test_inconsistent_values_are_refused_and_nothing_is_stored(city):
    with pytest.raises(ValidationError):
        change_policy(city.users["city"], {"fever_threshold_c": 44.0})
    with pytest.raises(ValidationError):
        change_policy(city.users["city"], {"routing": {"mild": ["nowhere"]}})
    assert current_policy().fever_threshold_c == 37.3


def test_a_stored_version_whose_report_count_disagrees_with_its_windows_loads_with_the_windows_count(city):
    data = {**current_policy().model_dump(), "home_reports_per_day": 3}  # stored before the count was checked
    PolicyVersion.objects.create(version=1, data=data)
    importlib.import_module("fangkong.policy.migrations.0002_report_count_follows_windows").count_from_windows(apps, None)
    assert current_policy().home_reports_per_day == 2

import datetime as dt
import re

import pytest
from django.utils import timezone

from fangkong.audit import labels
from fangkong.audit.labels import object_types_for, resolve_model
from fangkong.audit.models import Action, AuditLog
from fangkong.audit.services import record
from fangkong.audit.views import change_lines
from fangkong.cases.models import NucleicAcidTest
from fangkong.observation.models import ObservationFile
from fangkong.people.services import reveal

pytestmark = pytest.mark.django_db


def test_grid_workers_and_community_workers_may_not_browse_the_audit_log(city, login):
    assert login(city.users["grid_a"]).get("/audit/").status_code == 403
    assert login(city.users["community"]).get("/audit/").status_code == 403


def test_a_district_commander_sees_only_entries_of_his_district(city, login):
    reveal(city.users["community"], city.residents["zhangwei"])
    reveal(city.users["other_community"], city.residents["liuyang"])
    response = login(city.users["district"]).get("/audit/?action=reveal")
    assert response.status_code == 200
    shown = [entry for entry, _lines in response.context["rows"]]
    assert [e.object_repr for e in shown] == ["张伟"]
    assert "刘洋" not in response.content.decode()


def test_the_city_commander_and_the_superuser_see_both_districts(city, login):
    reveal(city.users["community"], city.residents["zhangwei"])
    reveal(city.users["other_community"], city.residents["liuyang"])
    for who in ("city", "root"):
        page = login(city.users[who]).get("/audit/").content.decode()
        assert "张伟" in page and "刘洋" in page


def test_changes_show_as_before_and_after_with_identifiers_masked(city, login):
    record(city.users["community"], Action.UPDATE, city.residents["zhangwei"], changes={"phone": ["13800138000", "13911112222"]})
    page = login(city.users["district"]).get("/audit/?action=update").content.decode()
    assert "138****8000 → 139****2222" in page
    assert "13911112222" not in page


def test_filters_by_action_user_object_type_and_date(city, login):
    reveal(city.users["community"], city.residents["zhangwei"])
    reveal(city.users["grid_a"], city.residents["lina"])
    record(city.users["community"], Action.EXPORT, object_type="areas.area", object_repr="青和居社区", area_code="420102001001")
    old = record(city.users["community"], Action.EXPORT, object_type="areas.area", object_repr="旧导出", area_code="420102001001")
    AuditLog.objects.filter(pk=old.pk).update(time=timezone.now() - dt.timedelta(days=10))
    client = login(city.users["district"])

    def shown(query):
        return sorted(e.object_repr for e, _lines in client.get("/audit/" + query).context["rows"])

    assert shown("?action=reveal") == ["张伟", "李娜"]
    assert shown("?action=reveal&username=GRID_A") == ["李娜"]
    assert shown("?object_type=areas.area") == ["旧导出", "青和居社区"]
    today = timezone.localdate().isoformat()
    assert shown(f"?object_type=areas.area&date_from={today}&date_to={today}") == ["青和居社区"]


def test_a_reversed_date_range_is_a_field_error(city, login):
    response = login(city.users["district"]).get("/audit/?date_from=2020-02-01&date_to=2020-01-01")
    assert "date_to" in response.context["form"].errors
    assert response.context["rows"] == []


def test_the_log_is_paginated(city, login):
    AuditLog.objects.bulk_create(
        AuditLog(username="community", action=Action.EXPORT, object_repr=f"导出{i}", area_code="420102001001") for i in range(60))
    client = login(city.users["district"])
    first = client.get("/audit/?action=export")
    assert len(first.context["rows"]) == 50 and first.context["page"].has_next()
    assert "action=export&amp;page=2" in first.content.decode()
    assert len(client.get("/audit/?action=export&page=2").context["rows"]) == 10


# --- Words, not identifiers (defect 10) ------------------------------------------------------------

IDENTIFIERS = ("cases.case", "observation.file", "planned_end_on", "area_code", "is_close", "True", "False",
               "open → done", "close_contact", "suspected", "full_ppe", "colleague", "tracing.contact")


def _log_changes_of_several_kinds(city) -> None:
    user = city.users["community"]
    resident = city.residents["zhangwei"]
    record(user, Action.UPDATE, resident, object_type="cases.case", object_repr="张伟",
           changes={"status": ["close_contact", "suspected"], "reason": "隔离期间核酸阳性"})
    record(user, Action.UPDATE, resident, object_type="observation.file", object_repr="张伟",
           changes={"decision": "extend", "planned_end_on": ["2020-02-10", "2020-02-14"]})
    record(user, Action.CREATE, resident, object_type="tracing.contact", object_repr="李娜",
           changes={"is_close": True, "protection": "full_ppe", "kind": "colleague", "area_code": "420102001001001"})
    record(user, Action.UPDATE, resident, object_type="tracing.disinfectiontask", object_repr="青和居1栋",
           changes={"status": ["open", "done"]})


def test_the_chinese_audit_page_shows_model_field_and_choice_names_and_no_identifiers(city, login, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    _log_changes_of_several_kinds(city)
    response = login(city.users["district"]).get("/audit/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    table = response.content.decode().split('<table class="list audit">')[1].split("</table>")[0]
    table = re.sub(r"<span[^>]*>|</span>", "", table)  # the words, whatever marks the data among them
    for identifier in IDENTIFIERS:
        assert identifier not in table, identifier
    for words in ("病例", "密切接触者 → 疑似病例", "计划结束日期", "2020-02-10 → 2020-02-14", "延长", "是", "同事",
                  "待处理 → 已完成", "区域编码"):
        assert words in table, words


def test_labels_are_read_from_the_models_meta(city):
    assert resolve_model("observation.file") is ObservationFile and resolve_model("cases.test") is NucleicAcidTest
    assert resolve_model("nothing.here") is None and resolve_model("") is None
    assert "observation.file" in object_types_for(ObservationFile)
    lines = change_lines({"status": ["close_contact", "suspected"], "tested": [False, True]}, "cases.case")
    assert lines == [("status", "Close contact", "Suspected case", True), ("tested", "No", "Yes", True)]


def test_the_object_type_filter_offers_models_by_name_and_finds_their_short_types(city, login):
    _log_changes_of_several_kinds(city)
    response = login(city.users["district"]).get("/audit/?object_type=observation.observationfile")
    assert [e.object_type for e, _lines in response.context["rows"]] == ["observation.file"]
    assert "people.resident" not in response.content.decode().split("<table")[0].replace('value="people.resident"', "")


def test_an_app_gives_words_for_keys_and_values_that_are_not_model_fields(city, monkeypatch):
    monkeypatch.setitem(labels._WORDS, "policy.policyversion",
                        lambda: {"routing": "Routing", "critical": "Critical", "designated_hospital": "Designated hospital"})
    lines = change_lines({"routing": [{"critical": ["designated_hospital"]}, {"critical": []}]}, "policy.policy")
    assert lines == [("Routing", "Critical: Designated hospital", "Critical: ∅", True)]

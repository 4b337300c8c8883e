"""Household, resident and search pages: masked by default, revealed only by POST and logged,
changed only through the services, and never across a scope boundary."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from fangkong.audit.models import Action, AuditLog
from fangkong.core.identity import make_id_number
from fangkong.people.models import Resident, SpecialGroup

pytestmark = pytest.mark.django_db


def edit_data(resident: Resident, **changes) -> dict:
    data = {
        "name": resident.name, "sex": resident.sex, "birth_date": resident.birth_date.isoformat(),
        "doc_type": resident.doc_type, "doc_number": "", "phone": "", "relation": resident.relation,
        "registered_address": resident.registered_address, "note": resident.note,
    }
    data.update(changes)
    return data


def test_household_page_lists_residents_masked(city, login):
    zhang = city.residents["zhangwei"]
    response = login(city.users["grid_a"]).get(reverse("people:household", args=[city.households["a101"].pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "张伟" in html and "李娜" in html
    assert zhang.masked_doc_number in html and zhang.masked_phone in html
    assert zhang.doc_number not in html and zhang.phone not in html


def test_household_page_shows_special_group_tags(city, login):
    html = login(city.users["grid_a"]).get(reverse("people:household", args=[city.households["a102"].pk])).content.decode()
    assert str(SpecialGroup.LABELS[SpecialGroup.LONELY_ELDERLY]) in html


@pytest.mark.parametrize("persona", ["root", "city", "district", "street", "community", "grid_a", "volunteer", "guard"])
def test_every_persona_in_scope_sees_the_resident_page_masked(city, login, persona):
    zhang = city.residents["zhangwei"]
    response = login(city.users[persona]).get(reverse("people:resident", args=[zhang.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert zhang.masked_doc_number in html and zhang.doc_number not in html and zhang.phone not in html
    assert "青和居小区1栋1单元101" in html


def test_grid_b_cannot_reach_grid_a_people_through_any_page(city, login):
    client = login(city.users["grid_b"])
    zhang = city.residents["zhangwei"]
    assert client.get(reverse("people:resident", args=[zhang.pk])).status_code == 404
    assert client.get(reverse("people:resident_edit", args=[zhang.pk])).status_code == 404
    assert client.post(reverse("people:reveal", args=[zhang.pk])).status_code == 404
    assert client.get(reverse("people:household", args=[city.households["a101"].pk])).status_code == 404
    assert client.get(reverse("areas:building", args=[city.buildings["a1"].pk])).status_code == 404
    assert not AuditLog.objects.filter(action=Action.REVEAL).exists()


def test_other_community_cannot_reach_qinghe_people(city, login):
    client = login(city.users["other_community"])
    assert client.get(reverse("people:resident", args=[city.residents["wangfang"].pk])).status_code == 404
    assert client.get(reverse("people:household", args=[city.households["b201"].pk])).status_code == 404


def test_search_by_name_phone_and_document_finds_within_scope_masked(city, login):
    zhang = city.residents["zhangwei"]
    client = login(city.users["grid_a"])
    for query in ("张伟", zhang.phone, zhang.doc_number, zhang.doc_number[-4:]):
        response = client.get(reverse("people:search"), {"q": query})
        assert list(response.context["page"].object_list) == [zhang], query
        html = response.content.decode()
        assert zhang.masked_doc_number in html and "青和居小区1栋1单元101" in html
        assert html.count(zhang.doc_number) == (1 if query == zhang.doc_number else 0)  # only echoed in the box
        assert html.count(zhang.phone) == (1 if query == zhang.phone else 0)


def test_search_from_grid_b_finds_nothing_of_grid_a(city, login):
    zhang = city.residents["zhangwei"]
    client = login(city.users["grid_b"])
    for query in ("张伟", zhang.phone, zhang.doc_number):
        response = client.get(reverse("people:search"), {"q": query})
        assert response.status_code == 200
        assert response.context["page"].paginator.count == 0
        assert "青和居小区1栋" not in response.content.decode()


def test_a_short_or_empty_search_gives_a_hint(city, login):
    client = login(city.users["city"])
    for query in ("", " ", "张"):
        response = client.get(reverse("people:search"), {"q": query})
        assert response.status_code == 200 and response.context["page"] is None
        assert "at least" in response.content.decode()


def test_search_is_paginated_at_50(city, login):
    household = city.households["a102"]
    for seq in range(60):
        Resident(household=household, name=f"测试{seq:02d}", sex="M" if seq % 2 else "F", birth_date=dt.date(1990, 1, 1),
                 doc_number=make_id_number("420102", dt.date(1990, 1, 1), 100 + seq)).save()
    client = login(city.users["grid_a"])
    page = client.get(reverse("people:search"), {"q": "测试"}).context["page"]
    assert page.paginator.count == 60 and len(page.object_list) == 50
    html = client.get(reverse("people:search"), {"q": "测试", "page": 2}).content.decode()
    assert "测试59" in html and "测试00" not in html


def test_reveal_by_grid_a_shows_full_values_and_is_logged(city, login):
    zhang = city.residents["zhangwei"]
    response = login(city.users["grid_a"]).post(reverse("people:reveal", args=[zhang.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert zhang.doc_number in html and zhang.phone in html
    assert response["Cache-Control"] == "no-store"
    entry = AuditLog.objects.get(action=Action.REVEAL)
    assert entry.user == city.users["grid_a"] and entry.object_id == str(zhang.pk)


@pytest.mark.parametrize("persona", ["volunteer", "guard"])
def test_reveal_is_refused_to_volunteers_and_guards(city, login, persona):
    zhang = city.residents["zhangwei"]
    client = login(city.users[persona])
    assert "Show full information" not in client.get(reverse("people:resident", args=[zhang.pk])).content.decode()
    response = client.post(reverse("people:reveal", args=[zhang.pk]))
    assert response.status_code in (403, 404)
    assert zhang.doc_number.encode() not in response.content
    assert not AuditLog.objects.filter(action=Action.REVEAL).exists()


def test_reveal_by_get_is_not_allowed(city, login):
    response = login(city.users["grid_a"]).get(reverse("people:reveal", args=[city.residents["zhangwei"].pk]))
    assert response.status_code == 405
    assert not AuditLog.objects.filter(action=Action.REVEAL).exists()


def test_edit_form_does_not_show_the_full_values(city, login):
    zhang = city.residents["zhangwei"]
    html = login(city.users["grid_a"]).get(reverse("people:resident_edit", args=[zhang.pk])).content.decode()
    assert zhang.doc_number not in html and zhang.phone not in html and zhang.masked_doc_number in html


def test_edit_with_a_bad_id_number_shows_the_field_error_and_changes_nothing(city, login):
    zhang = city.residents["zhangwei"]
    bad = zhang.doc_number[:-1] + ("0" if zhang.doc_number[-1] != "0" else "1")
    response = login(city.users["grid_a"]).post(
        reverse("people:resident_edit", args=[zhang.pk]), edit_data(zhang, name="张大伟", doc_number=bad))
    assert response.status_code == 400
    assert response.context["form"].errors["doc_number"]
    assert 'class="field-error"' in response.content.decode()
    zhang.refresh_from_db()
    assert zhang.name == "张伟"
    assert not AuditLog.objects.filter(action=Action.UPDATE).exists()


def test_a_valid_edit_writes_before_and_after_to_the_audit_log(city, login):
    zhang = city.residents["zhangwei"]
    response = login(city.users["grid_a"]).post(
        reverse("people:resident_edit", args=[zhang.pk]),
        edit_data(zhang, phone="13811112222", note="行动不便", special_groups=[SpecialGroup.CHRONIC_ILLNESS]))
    assert response.status_code == 302
    zhang_before_doc = zhang.doc_number
    zhang.refresh_from_db()
    assert (zhang.phone, zhang.note, zhang.special_groups) == ("13811112222", "行动不便", SpecialGroup.CHRONIC_ILLNESS)
    assert zhang.doc_number == zhang_before_doc  # left empty: kept
    entry = AuditLog.objects.get(action=Action.UPDATE)
    assert entry.changes["phone"] == ["13800138000", "13811112222"]
    assert entry.changes["note"] == ["", "行动不便"]
    assert "doc_number" not in entry.changes


def test_the_phone_can_be_removed(city, login):
    zhang = city.residents["zhangwei"]
    login(city.users["grid_a"]).post(reverse("people:resident_edit", args=[zhang.pk]), edit_data(zhang, clear_phone="on"))
    zhang.refresh_from_db()
    assert zhang.phone == ""


def test_volunteers_cannot_edit(city, login):
    zhang = city.residents["zhangwei"]
    client = login(city.users["volunteer"])
    assert client.get(reverse("people:resident_edit", args=[zhang.pk])).status_code == 403
    assert client.post(reverse("people:resident_edit", args=[zhang.pk]), edit_data(zhang, name="X")).status_code == 403
    zhang.refresh_from_db()
    assert zhang.name == "张伟"


def test_add_a_resident_to_a_household(city, login):
    household = city.households["a102"]
    number = make_id_number("420102", dt.date(2015, 5, 5), 61)
    response = login(city.users["grid_a"]).post(reverse("people:household", args=[household.pk]), {
        "name": "王小明", "doc_type": "id_card", "doc_number": number, "relation": "grandchild", "phone": "",
    })
    assert response.status_code == 302
    created = Resident.objects.get(doc_number=number)
    assert created.household == household and created.area_code == "420102001001001"
    assert AuditLog.objects.filter(action=Action.CREATE, object_id=str(created.pk)).exists()


def test_adding_a_resident_with_errors_shows_them_and_writes_nothing(city, login):
    household = city.households["a102"]
    before = Resident.objects.count()
    response = login(city.users["grid_a"]).post(reverse("people:household", args=[household.pk]), {
        "name": "", "doc_type": "id_card", "doc_number": "123", "relation": "head", "phone": "12",
    })
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"name", "doc_number", "phone"} <= set(errors)
    assert Resident.objects.count() == before


def test_adding_a_duplicate_document_is_a_field_error(city, login):
    response = login(city.users["grid_a"]).post(reverse("people:household", args=[city.households["a102"].pk]), {
        "name": "张伟", "doc_type": "id_card", "doc_number": city.residents["zhangwei"].doc_number, "relation": "head",
    })
    assert response.status_code == 400 and "doc_number" in response.context["form"].errors


def test_volunteers_get_no_add_form_and_cannot_post_one(city, login):
    client = login(city.users["volunteer"])
    url = reverse("people:household", args=[city.households["a102"].pk])
    assert client.get(url).context["form"] is None
    assert client.post(url, {"name": "X"}).status_code == 403


def test_pages_use_a_fixed_number_of_queries(city, login, django_assert_max_num_queries):
    household = city.households["a102"]
    for seq in range(30):
        Resident(household=household, name=f"测试{seq:02d}", sex="M" if seq % 2 else "F", birth_date=dt.date(1990, 1, 1),
                 doc_number=make_id_number("420102", dt.date(1990, 1, 1), 200 + seq)).save()
    client = login(city.users["grid_a"])
    with django_assert_max_num_queries(12):
        assert client.get(reverse("people:search"), {"q": "测试"}).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("people:household", args=[household.pk])).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("people:resident", args=[city.residents["zhangwei"].pk])).status_code == 200


def test_search_by_a_phones_last_digits_or_a_formatted_phone(city, login):
    zhang = city.residents["zhangwei"]  # 13800138000
    client = login(city.users["grid_a"])
    for query in ("38000", "+86 138-0013-8000", "8613800138000"):
        found = list(client.get(reverse("people:search"), {"q": query}).context["page"].object_list)
        assert found == [zhang], query


def test_search_by_name_matches_its_beginning(city, login):
    client = login(city.users["community"])
    names = {r.name for r in client.get(reverse("people:search"), {"q": "王建"}).context["page"].object_list}
    assert names == {"王建国"}

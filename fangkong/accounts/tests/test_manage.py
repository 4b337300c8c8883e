"""Account management: who may manage whom, the screens, field errors, audit entries, lock-out unlock.

Personas (fangkong/testing.py): the 大智街道 street commander manages the 青和居 community worker,
grid workers, volunteer and gate guard, and must see nothing of 紫阳 (武昌区); grid workers manage nobody.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils import translation

from fangkong.accounts import forms, services
from fangkong.accounts.access import access_account, managed_accounts
from fangkong.accounts.models import ApiToken, Role, User
from fangkong.audit.models import Action, AuditLog
from fangkong.core.errors import FieldErrors

pytestmark = pytest.mark.django_db

LIST = reverse("manage:list")
CREATE = reverse("manage:create")
STRONG = "Wuhan-Grid-2020"


def url(name: str, account: User) -> str:
    return reverse(f"manage:{name}", args=[account.pk])


def new_grid_worker(city, **overrides) -> dict:
    return {"username": "grid_new", "full_name": "王小明", "phone": "+86 138-0013-8001", "role": Role.GRID_WORKER,
            "area": city.areas["grid_a"].code, "password": "", **overrides}


def changes_logged():
    """Audit entries about account changes (log-ins are audited too, with the same object type)."""
    return AuditLog.objects.filter(object_type="accounts.user", action__in=[Action.CREATE, Action.UPDATE])


def listed(response) -> list[str]:
    return sorted(a.username for a in response.context["page"].object_list)


# --- Who may manage whom ------------------------------------------------------------------------------

def test_a_street_commander_lists_only_the_accounts_below_him_in_his_street(city, login):
    response = login(city.users["street"]).get(LIST)
    assert response.status_code == 200
    assert listed(response) == ["community", "grid_a", "grid_b", "guard", "volunteer"]


def test_each_manager_reaches_the_roles_below_theirs_inside_their_scope(city):
    def reach(who: str) -> list[str]:
        return sorted(managed_accounts(city.users[who]).values_list("username", flat=True))

    everyone_but_root = sorted(u for u in city.users if u != "root")
    assert reach("root") == everyone_but_root
    assert reach("city") == sorted(set(everyone_but_root) - {"city"})
    assert reach("district") == ["community", "grid_a", "grid_b", "guard", "street", "volunteer"]
    assert reach("community") == ["grid_a", "grid_b", "guard", "volunteer"]
    assert reach("other_community") == []
    for nobody in ("grid_a", "volunteer", "guard", "facility"):
        assert reach(nobody) == []


@pytest.mark.parametrize("persona", ["grid_a", "volunteer", "guard", "facility"])
def test_workers_who_manage_nobody_cannot_reach_the_screens(city, login, persona):
    client = login(city.users[persona])
    target = city.users["grid_b"]
    assert client.get(LIST).status_code == 403
    assert client.get(CREATE).status_code == 403
    assert client.get(url("detail", target)).status_code == 403
    assert client.post(url("deactivate", target)).status_code == 403
    assert client.post(CREATE, new_grid_worker(city)).status_code == 403
    assert not User.objects.filter(username="grid_new").exists()
    assert reverse("manage:list") not in client.get(reverse("people:search")).content.decode()


def test_the_header_links_to_accounts_for_managers_only(city, login):
    assert f'href="{LIST}"' in login(city.users["street"]).get(reverse("people:search")).content.decode()
    assert f'href="{LIST}"' not in login(city.users["grid_a"]).get(reverse("people:search")).content.decode()


def test_accounts_outside_the_street_answer_404_to_every_screen(city, login):
    client = login(city.users["street"])
    for outsider in ("other_community", "district", "city", "root", "facility", "street"):
        account = city.users[outsider]
        assert client.get(url("detail", account)).status_code == 404, outsider
        assert client.get(url("edit", account)).status_code == 404, outsider
        assert client.post(url("edit", account), {"full_name": "x", "role": Role.GRID_WORKER}).status_code == 404
        for action in ("deactivate", "reactivate", "reset_password", "unlock"):
            assert client.post(url(action, account)).status_code == 404, (outsider, action)
    other = User.objects.get(username="other_community")
    assert other.is_active and other.check_password("Fk-test-pass-2020") and other.first_name == ""
    assert not changes_logged().exists()


def test_a_street_commander_cannot_grant_an_equal_or_higher_role(city, login):
    client = login(city.users["street"])
    for role, area in ((Role.STREET_COMMANDER, "dazhi"), (Role.DISTRICT_COMMANDER, "jiangan"),
                       (Role.CITY_COMMANDER, "wuhan"), (Role.FACILITY_STAFF, None)):
        response = client.post(CREATE, new_grid_worker(city, role=role, area=city.areas[area].code if area else ""))
        assert response.status_code == 400
        assert "role" in response.context["form"].errors, role
    assert not User.objects.filter(username="grid_new").exists()
    choices = [value for value, _label in client.get(CREATE).context["form"].fields["role"].choices]
    assert choices == ["", Role.COMMUNITY_WORKER, Role.GRID_WORKER, Role.VOLUNTEER, Role.GATE_GUARD]


def test_the_service_refuses_roles_and_areas_beyond_the_managers_reach(city):
    street = city.users["street"]
    with pytest.raises(FieldErrors) as exc:
        services.create_account(street, services.AccountInput(username="x1", full_name="某", role=Role.STREET_COMMANDER,
                                                              area_code=city.areas["dazhi"].code))
    assert set(exc.value.errors) == {"role"}
    with pytest.raises(FieldErrors) as exc:
        services.create_account(street, services.AccountInput(username="x2", full_name="某", role=Role.COMMUNITY_WORKER,
                                                              area_code=city.areas["ziyangc"].code))
    assert set(exc.value.errors) == {"area"}
    with pytest.raises(FieldErrors) as exc:
        services.update_account(street, city.users["grid_a"], services.AccountInput(
            full_name="网格员", role=Role.VOLUNTEER, area_code=city.areas["ziyangc"].code))
    assert set(exc.value.errors) == {"area"}
    # Accounts reach the operations through access_account, which the operations trust: beyond the
    # manager's reach it answers 404, and a user who manages nobody gets 403.
    with pytest.raises(Http404):
        access_account(street, city.users["other_community"].pk)
    with pytest.raises(PermissionDenied):
        access_account(city.users["grid_a"], city.users["grid_b"].pk)
    assert not User.objects.filter(username__in=["x1", "x2"]).exists()


def test_a_community_worker_manages_grid_workers_volunteers_and_guards_of_his_community(city, login):
    client = login(city.users["community"])
    assert listed(client.get(LIST)) == ["grid_a", "grid_b", "guard", "volunteer"]
    form = client.get(CREATE).context["form"]
    assert [v for v, _label in form.fields["role"].choices] == ["", Role.GRID_WORKER, Role.VOLUNTEER, Role.GATE_GUARD]
    assert [v for v, _label in form.fields["compound"].choices] == ["", str(city.compounds["qinghe"].pk)]
    base = {"full_name": "赵门岗", "role": Role.GATE_GUARD, "password": STRONG}
    refused = client.post(CREATE, {**base, "username": "guard2", "compound": city.compounds["ziyang"].pk})
    assert refused.status_code == 400 and "compound" in refused.context["form"].errors
    assert client.post(CREATE, {**base, "username": "guard2", "compound": city.compounds["qinghe"].pk}).status_code == 302
    guard = User.objects.get(username="guard2")
    assert guard.compound == city.compounds["qinghe"] and guard.area is None and guard.scope.compound_id == guard.compound_id
    refused = client.post(CREATE, {**base, "username": "cw2", "role": Role.COMMUNITY_WORKER, "area": city.areas["qinghe"].code})
    assert "role" in refused.context["form"].errors


def test_facility_staff_are_managed_by_city_commanders_and_superusers_only(city, login):
    client = login(city.users["city"])
    assert "facility" in listed(client.get(LIST))
    nurse_data = {"username": "nurse", "full_name": "护士长", "role": Role.FACILITY_STAFF, "password": STRONG}
    unknown = client.post(CREATE, {**nurse_data, "facility_id": "999999"})
    assert "facility_id" in unknown.context["form"].errors  # a facility that does not exist is a field error
    hospital = city.facilities["hospital"]
    response = client.post(CREATE, {**nurse_data, "facility_id": str(hospital.pk)})
    assert response.status_code == 302
    nurse = User.objects.get(username="nurse")
    assert nurse.facility_id == hospital.pk and nurse.scope.facility_id == hospital.pk
    assert changes_logged().get(object_id=str(nurse.pk)).area_code == city.areas["wuhan"].code
    assert login(city.users["district"]).get(url("detail", nurse)).status_code == 404
    assert "facility_id" not in login(city.users["district"]).get(CREATE).context["form"].fields


def test_superusers_grant_any_role_but_superuser_and_never_see_superusers(city, login):
    client = login(city.users["root"])
    assert "root" not in listed(client.get(LIST))
    assert client.get(url("detail", city.users["root"])).status_code == 404
    response = client.post(CREATE, {"username": "city2", "full_name": "新指挥长", "role": Role.CITY_COMMANDER,
                                    "area": city.areas["wuhan"].code, "password": STRONG, "is_superuser": "on"})
    assert response.status_code == 302
    created = User.objects.get(username="city2")
    assert created.role == Role.CITY_COMMANDER and not created.is_superuser and not created.is_staff
    assert "superuser" not in [v for v, _label in client.get(CREATE).context["form"].fields["role"].choices]


# --- Creating -----------------------------------------------------------------------------------------

def test_a_street_commander_creates_a_grid_worker_with_a_generated_password_shown_once(city, login):
    client = login(city.users["street"])
    form = client.get(CREATE).context["form"]
    offered = [code for _group, options in form.fields["area"].choices[1:] for code, _label in options]
    assert offered == [city.areas[k].code for k in ("qinghe", "grid_a", "grid_b")]

    response = client.post(CREATE, new_grid_worker(city))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    password = response.context["new_password"]
    assert password and password in response.content.decode()
    account = User.objects.get(username="grid_new")
    assert (account.role, account.area, account.phone, account.first_name) == (Role.GRID_WORKER, city.areas["grid_a"], "13800138001", "王小明")
    assert account.is_active and account.check_password(password) and not account.is_staff
    assert password not in client.get(url("detail", account)).content.decode()  # once only

    entry = AuditLog.objects.get(action=Action.CREATE, object_type="accounts.user")
    assert entry.username == "street" and entry.object_id == str(account.pk)
    assert entry.area_code == city.areas["grid_a"].code
    assert entry.changes["role"] == [None, Role.GRID_WORKER] and entry.changes["phone"] == [None, "13800138001"]
    assert password not in str(entry.changes) and "password" not in entry.changes


def test_a_password_chosen_by_the_manager_is_checked_by_djangos_validators(city, login):
    client = login(city.users["street"])
    for weak in ("abc", "password123", "12345678"):
        response = client.post(CREATE, new_grid_worker(city, password=weak))
        assert response.status_code == 400 and "password" in response.context["form"].errors, weak
    assert not User.objects.filter(username="grid_new").exists()
    response = client.post(CREATE, new_grid_worker(city, password=STRONG))
    assert response.status_code == 302 and response["Location"] == url("detail", User.objects.get(username="grid_new"))
    assert User.objects.get(username="grid_new").check_password(STRONG)
    assert STRONG not in str(list(AuditLog.objects.values_list("changes", flat=True)))


def test_bad_input_gives_field_errors_and_saves_nothing(city, login):
    client = login(city.users["street"])
    cases = [
        ({"username": ""}, "username"),
        ({"username": "GRID_A"}, "username"),  # taken, whatever the case
        ({"username": "has space"}, "username"),
        ({"full_name": "  "}, "full_name"),
        ({"phone": "12345"}, "phone"),
        ({"phone": "0271234567"}, "phone"),
        ({"role": ""}, "role"),
        ({"role": "superuser"}, "role"),
        ({"area": ""}, "area"),
        ({"area": city.areas["qinghe"].code}, "area"),  # a community for a grid worker
        ({"area": city.areas["ziyangc"].code}, "area"),  # outside the street
        ({"area": "not-a-code"}, "area"),
    ]
    for overrides, field in cases:
        response = client.post(CREATE, new_grid_worker(city, **overrides))
        assert response.status_code == 400, overrides
        errors = response.context["form"].errors
        assert field in errors, (overrides, errors)
        assert 'class="field-error"' in response.content.decode()
    assert User.objects.count() == len(city.users)


def test_service_field_errors_are_in_the_users_language(city):
    street = city.users["street"]
    data = services.AccountInput(username="", full_name="", phone="123", role=Role.GRID_WORKER, area_code=city.areas["qinghe"].code)
    with translation.override("en"), pytest.raises(FieldErrors) as english:
        services.create_account(street, data)
    assert set(english.value.errors) == {"username", "full_name", "phone", "area"}
    assert "level" in english.value.errors["area"]
    with translation.override("zh-hans"), pytest.raises(FieldErrors) as chinese:
        services.create_account(street, data)
    assert "网格" in chinese.value.errors["area"] and "用户名" in chinese.value.errors["username"]


def test_the_form_speaks_chinese_by_default_zh(city, login, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    response = login(city.users["street"]).post(CREATE, new_grid_worker(city, phone="123"))
    assert response.status_code == 400
    assert "手机号" in response.context["form"].errors["phone"][0]


# --- Listing --------------------------------------------------------------------------------------------

def test_the_list_masks_phones_and_filters(city, login):
    User.objects.filter(username="grid_a").update(phone="13800138000", first_name="张网格")
    User.objects.filter(username="volunteer").update(is_active=False)
    client = login(city.users["street"])
    html = client.get(LIST).content.decode()
    assert "138****8000" in html and "13800138000" not in html
    assert listed(client.get(LIST, {"role": Role.GRID_WORKER})) == ["grid_a", "grid_b"]
    assert listed(client.get(LIST, {"q": "张网"})) == ["grid_a"]
    assert listed(client.get(LIST, {"q": "GRID_"})) == ["grid_a", "grid_b"]
    assert listed(client.get(LIST, {"active": "no"})) == ["volunteer"]
    assert listed(client.get(LIST, {"area": city.areas["grid_b"].code})) == ["grid_b"]
    assert listed(client.get(LIST, {"area": city.areas["qinghe"].code})) == ["community", "grid_a", "grid_b", "guard", "volunteer"]
    assert listed(client.get(LIST, {"role": Role.DISTRICT_COMMANDER})) == []  # not a choice: nothing
    assert listed(client.get(LIST, {"area": city.areas["ziyangc"].code})) == []


def test_the_list_is_paginated(city, login):
    User.objects.bulk_create([User(username=f"vol{i:03d}", role=Role.VOLUNTEER, area=city.areas["qinghe"]) for i in range(60)])
    client = login(city.users["community"])
    first = client.get(LIST)
    assert len(first.context["page"].object_list) == 50 and first.context["page"].paginator.count == 64
    second = client.get(LIST, {"page": 2})
    assert len(second.context["page"].object_list) == 14
    assert "page=2" in first.content.decode()


# --- Editing, deactivating, resetting -----------------------------------------------------------------

def test_editing_changes_role_area_name_and_phone_with_before_and_after_in_the_audit_log(city, login):
    grid_a = city.users["grid_a"]
    User.objects.filter(pk=grid_a.pk).update(phone="13800138000")
    client = login(city.users["street"])
    form = client.get(url("edit", grid_a)).context["form"]
    assert "username" not in form.fields and "password" not in form.fields
    assert "138****8000" in form.fields["phone"].help_text
    assert "13800138000" not in client.get(url("edit", grid_a)).content.decode()

    # Left empty, the phone is kept; the role and area change together.
    response = client.post(url("edit", grid_a), {"full_name": "李志愿", "phone": "", "role": Role.VOLUNTEER,
                                                 "area": city.areas["qinghe"].code})
    assert response.status_code == 302
    grid_a.refresh_from_db()
    assert (grid_a.role, grid_a.area, grid_a.phone, grid_a.first_name) == (Role.VOLUNTEER, city.areas["qinghe"], "13800138000", "李志愿")
    entry = AuditLog.objects.get(action=Action.UPDATE, object_id=str(grid_a.pk))
    assert entry.changes == {
        "first_name": ["", "李志愿"],
        "role": [Role.GRID_WORKER, Role.VOLUNTEER],
        "area": ["第一网格 (420102001001001)", "青和居社区 (420102001001)"],
    }
    assert entry.area_code == city.areas["qinghe"].code

    client.post(url("edit", grid_a), {"full_name": "李志愿", "clear_phone": "on", "role": Role.VOLUNTEER, "area": city.areas["qinghe"].code})
    grid_a.refresh_from_db()
    assert grid_a.phone == ""
    # The district commander reads both entries in the audit log, the phone masked.
    audit = login(city.users["district"]).get("/audit/?action=update").content.decode()
    assert "138****8000" in audit and "13800138000" not in audit


def test_an_edit_with_bad_input_keeps_the_account_unchanged(city, login):
    grid_a = city.users["grid_a"]
    client = login(city.users["street"])
    response = client.post(url("edit", grid_a), {"full_name": "", "phone": "99", "role": Role.GRID_WORKER,
                                                 "area": city.areas["qinghe"].code})
    assert response.status_code == 400
    assert {"full_name", "phone", "area"} <= set(response.context["form"].errors)
    grid_a.refresh_from_db()
    assert grid_a.area == city.areas["grid_a"] and not changes_logged().exists()


def test_an_edit_without_changes_writes_no_audit_entry(city, login):
    grid_a = city.users["grid_a"]
    response = login(city.users["street"]).post(url("edit", grid_a), {"full_name": "", "role": Role.GRID_WORKER,
                                                                      "area": city.areas["grid_a"].code})
    assert response.status_code == 400  # the name is required
    User.objects.filter(pk=grid_a.pk).update(first_name="网格员甲")
    response = login(city.users["street"]).post(url("edit", grid_a), {"full_name": "网格员甲", "role": Role.GRID_WORKER,
                                                                      "area": city.areas["grid_a"].code})
    assert response.status_code == 302 and not changes_logged().exists()


def test_deactivating_stops_log_in_and_tokens_and_reactivating_restores_it(city, login, client, password):
    grid_a = city.users["grid_a"]
    _token, key = ApiToken.issue(grid_a, "手机")
    manager = login(city.users["street"])
    assert manager.get(url("deactivate", grid_a)).status_code == 405
    assert manager.post(url("deactivate", grid_a)).status_code == 302
    grid_a.refresh_from_db()
    assert not grid_a.is_active and ApiToken.authenticate(key) is None
    assert manager.post(url("reactivate", grid_a)).status_code == 302
    grid_a.refresh_from_db()
    assert grid_a.is_active
    changes = [e.changes for e in changes_logged().filter(object_id=str(grid_a.pk)).order_by("id")]
    assert changes == [{"is_active": [True, False]}, {"is_active": [False, True]}]


def test_a_password_reset_is_shown_once_and_never_logged(city, login, password):
    grid_a = city.users["grid_a"]
    response = login(city.users["street"]).post(url("reset_password", grid_a))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    new = response.context["new_password"]
    assert new in response.content.decode()
    grid_a.refresh_from_db()
    assert grid_a.check_password(new) and not grid_a.check_password(password)
    entry = changes_logged().get(object_id=str(grid_a.pk))
    assert entry.changes == {"password": "reset"} and new not in str(entry.changes)


# --- Lock-out -------------------------------------------------------------------------------------------

def test_a_locked_out_account_is_shown_and_unlocked_by_its_manager(city, client, password, django_user_model):
    from django.test import Client

    def attempt(pw: str):
        return client.post(reverse("accounts:login"), {"username": "grid_a", "password": pw})

    for _ in range(5):
        attempt("wrong")
    assert attempt(password).status_code == 429  # locked, even with the right password

    manager = Client()
    manager.force_login(city.users["street"], backend="django.contrib.auth.backends.ModelBackend")
    assert "grid_a" in manager.get(LIST).context["locked"]
    detail = manager.get(url("detail", city.users["grid_a"]))
    assert detail.context["locked"] and 'id="unlock"' in detail.content.decode()

    # A manager elsewhere does not even see it.
    outsider = Client()
    outsider.force_login(city.users["other_community"], backend="django.contrib.auth.backends.ModelBackend")
    assert outsider.post(url("unlock", city.users["grid_a"])).status_code == 404

    assert manager.post(url("unlock", city.users["grid_a"])).status_code == 302
    assert "grid_a" not in manager.get(LIST).context["locked"]
    entry = AuditLog.objects.get(action=Action.UPDATE, object_id=str(city.users["grid_a"].pk))
    # Six: the refused attempt with the right password counts too.
    assert entry.changes == {"lockout": "cleared", "failed_logins": 6} and entry.username == "street"
    response = attempt(password)
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(city.users["grid_a"].pk)


def test_unlocking_an_account_that_is_not_locked_changes_nothing(city, login):
    response = login(city.users["street"]).post(url("unlock", city.users["grid_a"]), follow=True)
    assert response.status_code == 200
    assert not changes_logged().exists()


def test_beyond_the_picker_limit_areas_are_typed_as_codes_and_compounds_as_numbers(city, login, monkeypatch):
    from django import forms as django_forms

    monkeypatch.setattr(forms, "MAX_CHOICES", 0)
    client = login(city.users["street"])
    form = client.get(CREATE).context["form"]
    assert type(form.fields["area"]) is django_forms.CharField
    assert type(form.fields["compound"]) is django_forms.IntegerField
    assert client.post(CREATE, new_grid_worker(city, area="420106001001001")).context["form"].errors["area"]
    assert client.post(CREATE, new_grid_worker(city, role=Role.GATE_GUARD, area="", compound=city.compounds["ziyang"].pk)
                       ).context["form"].errors["compound"]
    assert client.post(CREATE, new_grid_worker(city)).status_code == 200
    assert User.objects.get(username="grid_new").area == city.areas["grid_a"]


def test_the_database_refuses_two_usernames_that_differ_only_by_case(city):
    # Two managers creating "Li" and "li" at the same moment pass the form's check; the constraint holds.
    from django.db import IntegrityError, transaction

    User.objects.create_user("li_wei", password="x-Long-Enough-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("LI_WEI", password="x-Long-Enough-1")

"""Every endpoint sees what the persona's scope covers, and answers 404 for the rest."""

import pytest


def test_grid_b_cannot_read_grid_a_resident_household_or_building(city, api):
    grid_b = api("grid_b")
    assert grid_b.get(f"/api/residents/{city.residents['zhangwei'].pk}").status_code == 404
    assert grid_b.get(f"/api/households/{city.households['a101'].pk}").status_code == 404
    assert grid_b.get(f"/api/buildings/{city.buildings['a1'].pk}").status_code == 404
    assert grid_b.get(f"/api/buildings/{city.buildings['a1'].pk}/households").status_code == 404
    assert grid_b.get(f"/api/areas/{city.areas['grid_a'].code}").status_code == 404
    assert grid_b.post(f"/api/residents/{city.residents['zhangwei'].pk}/reveal").status_code == 404
    assert grid_b.patch(f"/api/residents/{city.residents['zhangwei'].pk}", {"note": "x"}).status_code == 404
    new_resident = {"name": "王小明", "doc_number": city.residents["zhangwei"].doc_number[:-1] + "X"}
    assert grid_b.post(f"/api/households/{city.households['a101'].pk}/residents", new_resident).status_code == 404


def test_grid_a_reads_its_own_resident_household_and_building(city, api):
    grid_a = api("grid_a")
    assert grid_a.get(f"/api/residents/{city.residents['zhangwei'].pk}").json()["name"] == "张伟"
    household = grid_a.get(f"/api/households/{city.households['a101'].pk}").json()
    assert sorted(r["name"] for r in household["residents"]) == ["张伟", "李娜"]
    building = grid_a.get(f"/api/buildings/{city.buildings['a1'].pk}").json()
    assert building["households"] == 2 and building["residents"] == 3
    rooms = grid_a.get(f"/api/buildings/{city.buildings['a1'].pk}/households").json()
    assert [h["room"] for h in rooms["items"]] == ["101", "102"]
    assert rooms["items"][0]["resident_count"] == 2


@pytest.mark.parametrize("persona", ["grid_b", "other_community", "facility"])
@pytest.mark.parametrize("field", ["name", "phone", "doc_number", "phone_tail", "doc_tail"])
def test_searching_for_a_grid_a_resident_from_outside_finds_nothing(city, api, persona, field):
    zhang = city.residents["zhangwei"]
    text = {"name": zhang.name, "phone": zhang.phone, "doc_number": zhang.doc_number,
            "phone_tail": zhang.phone[-4:], "doc_tail": zhang.doc_number[-6:]}[field]
    found = api(persona).get("/api/residents", {"q": text}).json()
    assert zhang.pk not in [r["id"] for r in found["items"]]


@pytest.mark.parametrize("field", ["name", "phone", "doc_number"])
def test_grid_a_finds_its_resident_by_name_phone_or_document(city, api, field):
    zhang = city.residents["zhangwei"]
    found = api("grid_a").get("/api/residents", {"q": getattr(zhang, field)}).json()
    assert [r["id"] for r in found["items"]] == [zhang.pk]
    assert found["count"] == 1


def test_district_commander_of_jiangan_cannot_see_wuchang(city, api):
    district = api("district")
    assert district.get(f"/api/areas/{city.areas['wuchang'].code}").status_code == 404
    assert district.get(f"/api/areas/{city.areas['wuchang'].code}/children").status_code == 404
    assert district.get(f"/api/compounds/{city.compounds['ziyang'].pk}").status_code == 404
    assert district.get(f"/api/residents/{city.residents['liuyang'].pk}").status_code == 404
    assert district.get("/api/residents", {"q": "刘洋"}).json()["count"] == 0
    assert district.get(f"/api/areas/{city.areas['jiangan'].code}").json()["counts"]["residents"] == 4


def test_the_city_commander_sees_districts_with_their_counts(city, api):
    children = api("city").get(f"/api/areas/{city.areas['wuhan'].code}/children").json()
    by_name = {child["name"]: child["counts"] for child in children["items"]}
    assert by_name == {
        "江岸区": {"households": 3, "residents": 4, "special": 1},
        "武昌区": {"households": 1, "residents": 1, "special": 0},
    }
    city_area = api("city").get(f"/api/areas/{city.areas['wuhan'].code}").json()
    assert city_area["counts"]["residents"] == 5
    assert city_area["child_level"] == "district"


def test_compounds_are_scoped_and_filtered_by_area(city, api):
    assert [c["name"] for c in api("city").get("/api/compounds").json()["items"]] == ["青和居小区", "紫阳小区"]
    filtered = api("city").get("/api/compounds", {"community": city.areas["ziyangc"].code}).json()
    assert [c["name"] for c in filtered["items"]] == ["紫阳小区"]
    assert [c["name"] for c in api("other_community").get("/api/compounds").json()["items"]] == ["紫阳小区"]
    assert [c["name"] for c in api("guard").get("/api/compounds").json()["items"]] == ["青和居小区"]


def test_a_grid_worker_sees_only_the_buildings_of_its_grid_in_a_shared_compound(city, api):
    compound = api("grid_a").get(f"/api/compounds/{city.compounds['qinghe'].pk}").json()
    assert [b["name"] for b in compound["buildings"]] == ["1栋"]
    compound = api("community").get(f"/api/compounds/{city.compounds['qinghe'].pk}").json()
    assert [b["name"] for b in compound["buildings"]] == ["1栋", "2栋"]


def test_resident_lists_and_details_mask_document_and_phone(city, api):
    zhang = city.residents["zhangwei"]
    for body in (
        api("community").get("/api/residents", {"q": "张伟"}).json()["items"][0],
        api("community").get(f"/api/residents/{zhang.pk}").json(),
        api("community").get(f"/api/households/{city.households['a101'].pk}").json()["residents"][0],
    ):
        assert body["masked_doc_number"] == zhang.doc_number[:4] + "**********" + zhang.doc_number[-4:]
        assert body["masked_phone"] == "138****8000"
        assert zhang.doc_number not in str(body) and zhang.phone not in str(body)
        assert "birth_date" not in body


def test_resident_list_filters_by_area_and_paginates(city, api):
    listed = api("community").get("/api/residents", {"area": city.areas["grid_a"].code, "limit": 2}).json()
    assert listed["count"] == 3
    assert len(listed["items"]) == 2
    everything = api("root").get("/api/residents").json()
    assert everything["count"] == 5


def test_audit_is_for_commanders_and_scoped(city, api):
    api("grid_a").post(f"/api/residents/{city.residents['zhangwei'].pk}/reveal")
    assert api("grid_a").get("/api/audit").status_code == 403
    assert api("volunteer").get("/api/audit").status_code == 403
    district_entries = api("district").get("/api/audit", {"action": "reveal"}).json()
    assert district_entries["count"] == 1
    other_street = api("city").get("/api/audit", {"action": "reveal"}).json()
    assert other_street["count"] == 1
    # The wuchang side of the city never sees jiangan's entries.
    api("root").post(f"/api/residents/{city.residents['liuyang'].pk}/reveal")
    assert api("district").get("/api/audit", {"action": "reveal"}).json()["count"] == 1

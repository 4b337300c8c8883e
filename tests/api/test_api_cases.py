"""The four categories and the admission pipeline through the API: same rules, same scoping, 422 per field."""

import io

import pytest
from openpyxl import Workbook

from fangkong.cases import services as cases
from fangkong.cases.models import Case, NucleicAcidTest
from fangkong.facilities import beds
from fangkong.facilities.models import BedPool


def open_fever(api, city, persona="grid_a", who="zhangwei"):
    response = api(persona).post(f"/api/residents/{city.residents[who].pk}/case",
                                 {"status": "fever", "reason": "体温38.2°C", "source": "screening", "flagged_at": "2020-02-05T08:30:00"})
    assert response.status_code == 201, response.content
    return response.json()


def test_a_fever_patient_goes_from_a_flag_through_a_positive_test_to_a_bed(city, api):
    case = open_fever(api, city)
    assert case["status"] == "fever" and case["placement"] == "waiting" and case["masked_doc_number"].count("*") == 10
    grid = api("grid_a")
    test = grid.post(f"/api/cases/{case['id']}/tests", {"sample_number": "S-0001"}).json()
    assert grid.post(f"/api/tests/{test['id']}/sample", {"place": "江岸发热门诊", "taker": "李护士"}).json()["sampled_at"]
    assert grid.post(f"/api/tests/{test['id']}/result", {"result": "positive", "lab": "疾控"}).json()["result"] == "positive"
    detail = grid.get(f"/api/cases/{case['id']}").json()
    assert [h["to_status"] for h in detail["history"]] == ["fever", "tested", "suspected"]
    district = api("district")
    assert [p["case_id"] for p in district.get("/api/placement/backlog").json()["items"]] == [case["id"]]
    run = district.post("/api/placement/runs").json()
    plan = district.get(f"/api/placement/runs/{run['id']}").json()
    assert plan["proposals"][0]["bed_kind"] == "single_room"
    assert district.post(f"/api/placement/runs/{run['id']}/confirm", {}).json() == {"confirmed": 1, "refused": 0}
    transfer = district.get("/api/transfers").json()["items"][0]
    for step in ("dispatched", "picked_up", "arrived"):
        transfer = district.post(f"/api/transfers/{transfer['id']}/status", {"status": step, "vehicle_label": "鄂A-120"}).json()
    assert transfer["status"] == "arrived" and transfer["arrived_at"]
    stays = district.get(f"/api/facilities/{transfer['to_facility_id']}/stays").json()
    admitted = district.post(f"/api/stays/{stays[0]['id']}/admit").json()
    assert admitted["status"] == "admitted"
    assert Case.objects.get(pk=case["id"]).placement == "placed"


def test_an_illegal_transition_answers_422_on_to_status_with_the_reason(city, api, error_fields):
    case = open_fever(api, city)
    response = api("grid_a").post(f"/api/cases/{case['id']}/transitions", {"to_status": "confirmed", "severity": "mild", "reason": "x"})
    assert response.status_code == 422 and error_fields(response) == {"to_status"}
    assert "cannot go from Fever patient to Confirmed case" in response.json()["detail"][0]["msg"]
    bad = api("grid_a").post(f"/api/cases/{case['id']}/transitions", {"to_status": "zombie", "reason": ""})
    assert bad.status_code == 422 and "to_status" in error_fields(bad)


def test_the_last_bed_refused_answers_422_on_facility(city, api, error_fields):
    BedPool.objects.filter(facility=city.facilities["isolation"]).update(capacity=1)
    ids = []
    for who in ("zhangwei", "lina"):
        ids.append(api("community").post(f"/api/residents/{city.residents[who].pk}/case",
                                         {"status": "close_contact", "reason": "流调"}).json()["id"])
    body = {"facility_id": city.facilities["isolation"].pk, "bed_kind": "single_room"}
    assert api("district").post("/api/placement/place", {"case_id": ids[0], **body}).status_code == 201
    refused = api("district").post("/api/placement/place", {"case_id": ids[1], **body})
    assert refused.status_code == 422 and error_fields(refused) == {"facility"}
    assert "No free Single room is left" in refused.json()["detail"][0]["msg"]


@pytest.mark.parametrize("persona", ["grid_b", "other_community", "facility", "volunteer", "guard"])
def test_cases_tests_and_targets_do_not_cross_scope(city, api, persona):
    case = open_fever(api, city)
    test = api("grid_a").post(f"/api/cases/{case['id']}/tests", {}).json()
    outsider = api(persona)
    assert outsider.get(f"/api/cases/{case['id']}").status_code in (403, 404)
    assert outsider.post(f"/api/cases/{case['id']}/transitions", {"to_status": "deceased", "reason": "x"}).status_code in (403, 404)
    assert outsider.post(f"/api/tests/{test['id']}/sample", {"place": "x"}).status_code in (403, 404)
    assert outsider.get("/api/targets/420102001001").status_code in (403, 404)
    listed = outsider.get("/api/cases")
    assert listed.status_code == 403 or listed.json()["count"] == 0
    assert NucleicAcidTest.objects.get(pk=test["id"]).sampled_at is None


def test_targets_of_an_area(city, api):
    open_fever(api, city)
    targets = api("street").get("/api/targets/420102001").json()
    assert targets["awaiting_test"] == 1 and targets["by_status"]["fever"] == 1
    rates = {r["key"]: r for r in targets["rates"]}
    assert rates["fever_tested"] == {"key": "fever_tested", "done": 0, "total": 1, "percent": 0.0}


def test_lab_results_import_through_the_api(city, api):
    case = open_fever(api, city)
    grid = api("grid_a")
    test = grid.post(f"/api/cases/{case['id']}/tests", {}).json()
    grid.post(f"/api/tests/{test['id']}/sample", {"place": "门诊", "sampled_at": "2020-02-05T09:00:00"})
    workbook = Workbook()
    workbook.active.append(["样本编号", "证件号码", "检测结果", "报告时间"])
    workbook.active.append([test["sample_number"], city.residents["zhangwei"].doc_number, "阴性", "2020-02-05 15:00"])
    workbook.active.append(["NOPE", city.residents["zhangwei"].doc_number, "阴性", "2020-02-05 15:00"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = grid.upload("/api/imports/lab-results", "lab.xlsx", buffer.getvalue()).json()
    assert (result["updated"], result["error_rows"]) == (1, 1) and result["errors"][0]["row"] == 3


def test_facility_staff_see_their_facility_only(city, api):
    staff = api("facility")
    assert [f["name"] for f in staff.get("/api/facilities").json()] == ["金银潭医院"]
    assert staff.get(f"/api/facilities/{city.facilities['shelter'].pk}").status_code == 404
    assert staff.post(f"/api/facilities/{city.facilities['hospital'].pk}/closed-beds", {"kind": "icu", "delta": 1}).json()["closed"] == 1
    assert staff.post("/api/placement/runs").status_code == 403


def test_a_discharge_through_the_api_states_its_outcome_and_a_cure_needs_the_tests(city, api, error_fields):
    case = cases.open_case(city.users["community"], city.residents["zhangwei"], "confirmed", "确诊", severity="severe")
    stay = beds.admit(city.users["district"], beds.place(city.users["district"], case, city.facilities["hospital"], "ordinary"))
    staff = api("facility")
    assert staff.post(f"/api/stays/{stay.pk}/discharge", {}).status_code == 422  # no outcome, no default
    refused = staff.post(f"/api/stays/{stay.pk}/discharge", {"outcome": "discharged"})
    assert refused.status_code == 422 and error_fields(refused) == {"cure_override"}
    done = staff.post(f"/api/stays/{stay.pk}/discharge", {"outcome": "discharged", "cure_override": "外院报告两次阴性"})
    assert done.status_code == 200 and done.json()["end_reason"] == "discharged"
    assert api("district").get(f"/api/cases/{case.pk}").json()["post_discharge_until"]

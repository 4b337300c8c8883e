"""A person who moves house takes their case and its tests to the new area: the new grid sees them,
the old grid no longer does — whether the move is an edit of the resident or a roster re-import."""

import csv

from fangkong.cases import samples, services
from fangkong.cases.models import Case, NucleicAcidTest, Status
from fangkong.core.tabular import COLUMNS
from fangkong.people.importer import import_roster
from fangkong.people.services import update_resident
from fangkong.people.validation import DOC_TYPE_LABEL, RELATION_LABEL, SEX_LABEL


def fever_case_with_a_test(city):
    zhang = city.residents["zhangwei"]
    case = services.open_case(city.users["community"], zhang, Status.FEVER, "发热 38.2")
    samples.order_test(city.users["community"], case)
    return zhang, case


def test_editing_a_residents_household_moves_their_case_and_tests_to_the_new_grid(city):
    zhang, case = fever_case_with_a_test(city)
    raw = {"name": zhang.name, "doc_type": zhang.doc_type, "doc_number": zhang.doc_number, "sex": zhang.sex,
           "birth_date": zhang.birth_date, "phone": zhang.phone, "relation": zhang.relation}
    update_resident(city.users["community"], zhang, raw, household=city.households["b201"])
    grid_b = city.areas["grid_b"].code
    case.refresh_from_db()
    assert case.area_code == grid_b and NucleicAcidTest.objects.get(case=case).area_code == grid_b
    assert Case.objects.restrict(city.users["grid_b"]).filter(pk=case.pk).exists()
    assert not Case.objects.restrict(city.users["grid_a"]).filter(pk=case.pk).exists()


def test_a_roster_import_that_moves_a_resident_moves_their_case(city, tmp_path):
    zhang, case = fever_case_with_a_test(city)
    path = tmp_path / "roster.csv"
    row = {"name": zhang.name, "sex": SEX_LABEL[zhang.sex], "doc_type": DOC_TYPE_LABEL[zhang.doc_type],
           "doc_number": zhang.doc_number, "birth_date": zhang.birth_date.isoformat(), "phone": zhang.phone,
           "district": "江岸区", "street": "大智街道", "community": "青和居社区", "compound": "青和居小区",
           "building": "2栋", "unit": "1单元", "room": "201", "relation": RELATION_LABEL[zhang.relation]}
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([zh for _key, zh in COLUMNS])
        writer.writerow([row.get(key, "") for key, _zh in COLUMNS])
    result = import_roster(path, filename=path.name)
    assert result.summary()["updated"] == 1
    case.refresh_from_db()
    assert case.area_code == city.areas["grid_b"].code

"""One resident's fields, as typed in a form or a roster file, are checked and normalised."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import Workbook, load_workbook

from fangkong.core.errors import FieldErrors
from fangkong.core.identity import make_id_number
from fangkong.people.validation import clean_resident, parse_date, parse_special_groups

TODAY = dt.date(2020, 2, 1)
NUMBER = make_id_number("420102", dt.date(1985, 3, 2), 11)


@pytest.mark.parametrize("text", ["1985-03-02", "1985/3/2", "19850302", "1985年3月2日", "1985年03月02", "1985.3.2",
                                  " 1985-03-02 ", "1985-03-02 00:00:00", "１９８５－０３－０２"])
def test_dates_are_read_in_the_usual_spellings(text):
    assert parse_date(text) == dt.date(1985, 3, 2)


def test_excel_date_cells_and_serial_numbers_are_dates(tmp_path):
    workbook = Workbook()
    workbook.active.append([dt.date(1985, 3, 2), dt.datetime(1985, 3, 2, 0, 0)])
    workbook.save(tmp_path / "d.xlsx")
    cells = next(load_workbook(tmp_path / "d.xlsx").active.iter_rows(values_only=True))
    assert [parse_date(c) for c in cells] == [dt.date(1985, 3, 2)] * 2
    assert parse_date(31108) == dt.date(1985, 3, 2)  # the serial number Excel stores


@pytest.mark.parametrize("text", ["1985-02-30", "85-3-2", "yesterday", "1985/13/1"])
def test_impossible_or_unknown_dates_are_refused(text):
    with pytest.raises(ValueError):
        parse_date(text)


def test_special_groups_become_a_bit_mask_and_unknown_ones_are_refused():
    assert parse_special_groups("孤寡老人、独居") == 1 | 64
    assert parse_special_groups("慢性病, 残疾人") == 32 | 8
    assert parse_special_groups(3.0) == 3
    with pytest.raises(ValueError):
        parse_special_groups("外星人")
    with pytest.raises(ValueError):
        parse_special_groups(4096)


def test_sex_and_birth_date_are_read_from_an_id_card():
    values = clean_resident({"name": " 张  伟 ", "doc_number": NUMBER.lower()}, today=TODAY)
    assert values["name"] == "张 伟" and values["doc_number"] == NUMBER
    assert (values["sex"], values["birth_date"], values["doc_type"], values["relation"]) == ("M", dt.date(1985, 3, 2), "id_card", "head")


def test_values_are_plain_strings_not_enum_members():
    values = clean_resident({"name": "张伟", "doc_number": NUMBER, "sex": "男", "relation": "配偶"}, today=TODAY)
    assert type(values["sex"]) is str and type(values["relation"]) is str and type(values["doc_type"]) is str


def test_a_birth_date_or_sex_contradicting_the_id_card_is_an_error():
    with pytest.raises(FieldErrors) as excinfo:
        clean_resident({"name": "张伟", "doc_number": NUMBER, "sex": "女", "birth_date": "1985-03-03"}, today=TODAY)
    assert set(excinfo.value.errors) == {"sex", "birth_date"}


def test_a_bad_id_number_is_the_only_error_not_the_sex_and_birth_date_it_would_give():
    with pytest.raises(FieldErrors) as excinfo:
        clean_resident({"name": "张伟", "doc_number": NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")}, today=TODAY)
    assert set(excinfo.value.errors) == {"doc_number"}


def test_a_blank_date_cell_is_empty_not_a_bad_date():
    values = clean_resident({"name": "张伟", "doc_number": NUMBER, "birth_date": "   "}, today=TODAY)
    assert values["birth_date"] == dt.date(1985, 3, 2)


def test_a_passport_needs_sex_and_birth_date():
    with pytest.raises(FieldErrors) as excinfo:
        clean_resident({"name": "John Smith", "doc_type": "护照", "doc_number": "E12345678"}, today=TODAY)
    assert set(excinfo.value.errors) == {"sex", "birth_date"}
    values = clean_resident({"name": "John Smith", "doc_type": "passport", "doc_number": "e1234 5678", "sex": "male",
                             "birth_date": "1980/1/1"}, today=TODAY)
    assert (values["doc_type"], values["doc_number"], values["sex"]) == ("passport", "E12345678", "M")


def test_unknown_coded_values_are_field_errors():
    with pytest.raises(FieldErrors) as excinfo:
        clean_resident({"name": "张伟", "doc_number": NUMBER, "relation": "邻居", "special_groups": "外星人",
                        "phone": "123", "doc_type": "驾照"}, today=TODAY)
    assert set(excinfo.value.errors) == {"relation", "special_groups", "phone", "doc_type"}

"""One canonical spelling per building, unit and room; the nearest existing name for a typo."""

from __future__ import annotations

import pytest

from fangkong.areas.notation import nearest, normalise_place


@pytest.mark.parametrize("written", ["1栋", "1 栋", " 1栋 ", "一栋", "１栋", "1号楼", "1幢", "1号", "第1栋", "第一栋", "01", "1", "1 号楼"])
def test_every_way_of_writing_building_one_is_1栋(written):
    assert normalise_place("building", written) == "1栋"


@pytest.mark.parametrize(("written", "canonical"), [
    ("十栋", "10栋"), ("十一栋", "11栋"), ("二十栋", "20栋"), ("九十九号楼", "99栋"), ("2a栋", "2A栋"), ("B座", "B栋"),
    ("综合楼", "综合楼"), ("", ""),
])
def test_chinese_numerals_letters_and_names_of_buildings(written, canonical):
    assert normalise_place("building", written) == canonical


@pytest.mark.parametrize("written", ["1单元", "一单元", "1 单元", "１单元", "第1单元", "1", "01单元"])
def test_units(written):
    assert normalise_place("unit", written) == "1单元"


@pytest.mark.parametrize(("written", "canonical"), [
    ("101", "101"), ("101室", "101"), ("０１０１", "101"), ("一〇一", "101"), (101.0, "101"), ("1 01", "101"), ("B101", "B101"),
])
def test_rooms(written, canonical):
    assert normalise_place("room", written) == canonical


def test_compound_names_lose_spaces_and_full_width_forms_only():
    assert normalise_place("compound", " 长江 华庭 ") == "长江华庭"
    assert normalise_place("compound", "长江华庭Ａ区") == "长江华庭A区"


def test_the_nearest_existing_name_is_proposed_for_a_typo():
    assert nearest("长江华廷", ["青和居小区", "长江华庭"]) == "长江华庭"
    assert nearest("99栋", ["1栋", "9栋"]) == "9栋"
    assert nearest("完全不同", ["青和居小区"]) is None

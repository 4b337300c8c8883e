"""Identity documents and phones are normalised before they are compared or stored."""

from __future__ import annotations

import datetime as dt

import pytest
from stdnum.cn import ric

from fangkong.core.identity import (
    IdentityError,
    id_card_birth_date,
    id_card_sex,
    make_id_number,
    normalize_document,
    normalize_id_card,
    normalize_phone,
    upgrade_15_to_18,
)

ZHANG = make_id_number("420102", dt.date(1985, 3, 2), 11)


def test_generated_numbers_pass_the_maintained_checksum():
    assert ric.calc_check_digit(ZHANG) == ZHANG[-1]
    assert normalize_id_card(ZHANG) == ZHANG


def test_an_old_15_digit_number_becomes_its_18_digit_form():
    old = "420102850302011"
    new = upgrade_15_to_18(old)
    assert new[:17] == "42010219850302011" and len(new) == 18
    assert normalize_id_card(old) == new
    assert ric.is_valid(new) or ric.calc_check_digit(new) == new[-1]


def test_a_lower_case_x_check_digit_is_upper_cased():
    number = next(n for n in (make_id_number("110101", dt.date(1990, 1, 1), s) for s in range(200)) if n.endswith("X"))
    assert normalize_id_card(number.lower()) == number


def test_full_width_digits_and_spaces_are_folded():
    wide = "".join(chr(ord(c) + 0xFEE0) for c in ZHANG)
    assert normalize_id_card(f" {wide[:6]}\u3000{wide[6:14]} {wide[14:]} ") == ZHANG


@pytest.mark.parametrize("bad", [ZHANG[:-1] + str((int(ZHANG[-1]) + 1) % 10) if ZHANG[-1] != "X" else ZHANG[:-1] + "0"])
def test_a_wrong_check_digit_is_refused(bad):
    with pytest.raises(IdentityError, match="check digit"):
        normalize_id_card(bad)


@pytest.mark.parametrize("bad", ["12345", "42010219850302011A", "4201021985030201123"])
def test_malformed_numbers_are_refused(bad):
    with pytest.raises(IdentityError):
        normalize_id_card(bad)


def test_an_impossible_birth_date_is_refused():
    body = "42010219850230011"  # 30 February
    with pytest.raises(IdentityError, match="birth date"):
        normalize_id_card(body + ric.calc_check_digit(body + "0"))


def test_a_resident_born_before_the_county_code_existed_is_accepted():
    # 江岸区's code dates from 1983; people born earlier were numbered under it in 1985.
    assert normalize_id_card(make_id_number("420102", dt.date(1940, 1, 9), 31))


def test_birth_date_and_sex_are_read_from_the_number():
    assert id_card_birth_date(ZHANG) == dt.date(1985, 3, 2)
    assert id_card_sex(ZHANG) == "M"
    assert id_card_sex(make_id_number("420102", dt.date(1985, 3, 2), 12)) == "F"


@pytest.mark.parametrize("raw", ["13800138000", "+86 138 0013 8000", "0086-138-0013-8000", "138-0013-8000",
                                 "8613800138000", "１３８００１３８０００", "(138) 0013 8000"])
def test_mobile_numbers_are_normalised(raw):
    assert normalize_phone(raw) == "13800138000"


@pytest.mark.parametrize("raw", ["12800138000", "1380013800", "027-12345678", "phone"])
def test_other_phone_numbers_are_refused(raw):
    with pytest.raises(IdentityError):
        normalize_phone(raw)


def test_other_documents_are_compacted_and_upper_cased():
    assert normalize_document("passport", " e1234 5678 ") == "E12345678"
    with pytest.raises(IdentityError):
        normalize_document("passport", "12")

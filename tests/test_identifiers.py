"""Identifier rules: 居民身份证 (GB 11643-1999), 统一社会信用代码 (GB 32100-2015), other ID shapes, phones, masking."""
from datetime import date

import pytest

from server.services.applications.identifiers import (
    credit_code_problem,
    id_number_problem,
    mask_id_number,
    mask_phone,
    mobile_problem,
    new_credit_code,
    resident_id_problem,
)
from tests.helpers import valid_credit_code, valid_resident_id


@pytest.mark.parametrize("number", [
    "11010519491231002X",  # the standard's own example, check character X
    valid_resident_id("45140219900307123"),
    valid_resident_id("45140220000229123"),  # 2000 is a leap year
    valid_resident_id("45140219960229123"),
])
def test_valid_resident_ids(number):
    assert resident_id_problem(number) is None


@pytest.mark.parametrize("number,fragment", [
    ("110105194912310021", "校验码"),
    ("11010519491231002x", "18位"),
    ("1101051949123100", "18位"),
    ("11010519491231002XX", "18位"),
    ("A1010519491231002X", "18位"),
    (valid_resident_id("00010519491231002"), "地址码"),
    (valid_resident_id("45140219000229123"), "出生日期不存在"),  # 1900 is not a leap year
    (valid_resident_id("45140219990229123"), "出生日期不存在"),
    (valid_resident_id("45140219991301123"), "出生日期不存在"),
    (valid_resident_id("45140219990431123"), "出生日期不存在"),
    (valid_resident_id("45140218990101123"), "不合理"),
    (valid_resident_id("45140230000101123"), "不合理"),  # in the future
])
def test_invalid_resident_ids(number, fragment):
    problem = resident_id_problem(number)
    assert problem and fragment in problem


def test_birth_date_today_is_fine_and_tomorrow_is_not():
    today = date(2026, 11, 23)
    assert resident_id_problem(valid_resident_id("45140220261123123"), today=today) is None
    assert resident_id_problem(valid_resident_id("45140220261124123"), today=today)


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L", valid_credit_code(), new_credit_code("451400"),
                                  new_credit_code("451402", "92")])
def test_valid_credit_codes(code):
    assert credit_code_problem(code) is None


def _with_wrong_org_check() -> str:
    """A code whose final check character is right but whose embedded organisation code check is not."""
    from server.services.applications.identifiers import credit_code_check

    good = valid_credit_code()
    wrong = "0" if good[16] != "0" else "1"
    return good[:16] + wrong + credit_code_check(good[:16] + wrong)


@pytest.mark.parametrize("code,fragment", [
    ("91350100M000100Y44", "校验码"),
    ("91350100M000100Y4", "18位"),
    ("91350100M000100Y4I", "不允许的字符"),
    ("91350100M000100O43", "不允许的字符"),
    ("913501A0M000100Y43", "行政区划码"),
    (_with_wrong_org_check(), "组织机构代码"),
    (None, "18位"),
])
def test_invalid_credit_codes(code, fragment):
    problem = credit_code_problem(code)
    assert problem and fragment in problem


@pytest.mark.parametrize("id_type,number,ok", [
    ("hk_macao_permit", "H12345678", True), ("hk_macao_permit", "M1234567890", True),
    ("hk_macao_permit", "X12345678", False), ("hk_macao_permit", "H1234567", False),
    ("taiwan_permit", "12345678", True), ("taiwan_permit", "1234567A", False),
    ("passport", "E12345678", True), ("passport", "e1", False), ("passport", "E1234-5678", False),
    ("foreign_permanent_id", "USA123456789012", True), ("foreign_permanent_id", "912345678901234567", True),
    ("foreign_permanent_id", "US123456789012", False),
    ("other", "AB-123", True), ("other", "X", False),
    ("driving_licence", "123456", False),
])
def test_other_id_shapes(id_type, number, ok):
    assert (id_number_problem(id_type, number) is None) is ok


@pytest.mark.parametrize("phone,ok", [("13800138000", True), ("19912345678", True), ("12800138000", False),
                                      ("1380013800", False), ("138001380001", False), ("+8613800138000", False),
                                      ("1380013800a", False), (None, False)])
def test_mainland_mobile_numbers(phone, ok):
    assert (mobile_problem(phone) is None) is ok


def test_masking_hides_the_middle():
    assert mask_id_number("11010519491231002X") == "1101**********002X"
    assert mask_phone("13800138000") == "138****8000"
    assert mask_id_number(None) is None and mask_phone("") == ""

"""Identifier rules that must be exact: 居民身份证 (GB 11643-1999), 统一社会信用代码 (GB 32100-2015), other IDs, phones."""
from __future__ import annotations

import re
import secrets
from datetime import date

from server import clock
from server.crypto import blind_index
from server.vocabulary import IdType

# GB 11643-1999: ISO 7064 MOD 11-2 over the first 17 digits.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_PROVINCES = {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42",
              "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82"}

# GB 32100-2015: 31 characters (no I, O, Z, S, V), weights 3^(i-1) mod 31.
CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
# GB 11714-1997 organisation code: 8 body characters, weights below, check = 11 - sum mod 11 (10 → X, 11 → 0).
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

_OTHER_ID_SHAPES = {
    "hk_macao_permit": (re.compile(r"^[HM]\d{8}(\d{2})?$"), "港澳居民来往内地通行证号码应为 H 或 M 加 8 位或 10 位数字"),
    "taiwan_permit": (re.compile(r"^\d{8}$"), "台湾居民来往大陆通行证号码应为 8 位数字"),
    "foreign_permanent_id": (re.compile(r"^([A-Z]{3}\d{12}|9\d{17})$"), "外国人永久居留身份证号码应为 3 位字母加 12 位数字，或以 9 开头的 18 位数字"),
    "passport": (re.compile(r"^[A-Z0-9]{5,17}$"), "护照号码应为 5 至 17 位字母或数字"),
    "other": (re.compile(r"^\S{2,32}$"), "证件号码应为 2 至 32 个字符"),
}
ID_TYPES = IdType.values()

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def resident_id_problem(value: str, today: date | None = None) -> str | None:
    """None when valid, else the reason in Chinese."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{17}[\dX]", value):
        return "居民身份证号码应为18位，前17位为数字，最后一位为数字或大写 X"
    if value[:2] not in _PROVINCES:
        return "居民身份证号码的地址码无效"
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "居民身份证号码中的出生日期不存在"
    if born.year < 1900 or born > (today or clock.today()):
        return "居民身份证号码中的出生日期不合理"
    total = sum(int(digit) * weight for digit, weight in zip(value[:17], _ID_WEIGHTS))
    if _ID_CHECK[total % 11] != value[17]:
        return "居民身份证号码校验码不正确"
    return None


def normalise_id_number(id_type: str, value: str) -> str:
    return value.strip().upper() if isinstance(value, str) else value


def id_number_problem(id_type: str, value: str) -> str | None:
    if id_type == "resident_id":
        return resident_id_problem(value)
    shape = _OTHER_ID_SHAPES.get(id_type)
    if shape is None:
        return "证件类型无效"
    return None if isinstance(value, str) and shape[0].fullmatch(value) else shape[1]


def organization_code_check(body: str) -> str:
    total = sum(_org_value(char) * weight for char, weight in zip(body, _ORG_WEIGHTS))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def _org_value(char: str) -> int:
    return int(char) if char.isdigit() else ord(char) - ord("A") + 10


def credit_code_check(first17: str) -> str:
    total = sum(CREDIT_CHARSET.index(char) * weight for char, weight in zip(first17, _CREDIT_WEIGHTS))
    return CREDIT_CHARSET[(31 - total % 31) % 31]


def credit_code_problem(value: str) -> str | None:
    if not isinstance(value, str) or len(value) != 18:
        return "统一社会信用代码应为18位"
    if any(char not in CREDIT_CHARSET for char in value):
        return "统一社会信用代码含有不允许的字符（不使用 I、O、Z、S、V）"
    if not value[2:8].isdigit():
        return "统一社会信用代码第3至8位应为登记管理机关行政区划码"
    if organization_code_check(value[8:16]) != value[16]:
        return "统一社会信用代码第9至17位不是有效的组织机构代码"
    if credit_code_check(value[:17]) != value[17]:
        return "统一社会信用代码校验码不正确"
    return None


def new_credit_code(division_code: str, category: str = "91") -> str:
    """A fresh valid code for an enterprise registered by the market regulator (9 工商, 1 企业; 92 个体工商户)."""
    while True:
        body = "".join(secrets.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
        org_check = organization_code_check(body)
        if org_check in CREDIT_CHARSET:
            first17 = category + division_code + body + org_check
            return first17 + credit_code_check(first17)


def mobile_problem(value: str) -> str | None:
    if isinstance(value, str) and _MOBILE.fullmatch(value):
        return None
    return "手机号码应为11位中国大陆手机号"


def mask_id_number(value: str | None) -> str | None:
    """4514**********0013 (issue 11): the division's first four digits and the last four, no birth date."""
    if not value:
        return value
    return value[:4] + "*" * (len(value) - 8) + value[-4:] if len(value) > 8 else "****"


def id_number_evidence(value: str | None) -> dict:
    """How evidence names a person's ID number: masked for readers, and its keyed blind index to match it later.

    A plain SHA-256 would give the number away: the ID numbers of a county's births are a few million guesses.
    """
    number = (value or "").upper()
    return {"id_number_masked": mask_id_number(number), "id_number_index": blind_index(number) if number else None}


def mask_phone(value: str | None) -> str | None:
    if not value:
        return value
    return value[:3] + "****" + value[-4:] if len(value) >= 7 else "****"


def mask_name(value: str | None) -> str | None:
    """张三 → 张*, 欧阳明华 → 欧***, John Smith → J*********: enough for a signer to recognise, no more."""
    if not value:
        return value
    return value[0] + "*" * max(1, len(value) - 1)


def filing_reference(application_id) -> str:
    """The reference printed on a filing's documents and sent to the notary: YCT- and 16 hex digits of its id."""
    return "YCT-" + str(application_id).replace("-", "")[:16].upper()

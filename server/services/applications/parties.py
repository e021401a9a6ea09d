"""Parties of an application (投资人、法定代表人、董事、监事、经理、联络员、财务负责人): exact validation and completeness.

A present value is validated exactly (422 naming e.g. parties[1].id_number); what is still absent, and the role
counts and share totals of server/data/materials.yaml, are reported as `missing` instead.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from server.errors import Invalid
from server.services.applications import materials
from server.services.applications.identifiers import (
    credit_code_problem,
    id_number_problem,
    mobile_problem,
    normalise_id_number,
)
from server.vocabulary import EntityType, IdType, PartyKind, PartyOrigin, PartyRole

ROLES = PartyRole.values()
KINDS = PartyKind.values()
ORIGINS = PartyOrigin.values()
ID_TYPES = IdType.values()
MAX_PARTIES = 10200
_PERSON_ONLY = ("id_type", "id_number")
# An enterprise acts through a contact person: their name here, their phone in `phone` (the signing link goes there).
_ENTERPRISE_ONLY = ("origin", "credit_code", "contact_name")
_KNOWN = {"id", "role", "kind", "name", "id_type", "id_number", "phone", "email", "contact_name", "origin", "credit_code",
          "share_percent"}


@dataclass
class PartyInput:
    id: uuid.UUID | None
    role: str
    kind: str
    name: str
    id_type: str | None = None
    id_number: str | None = None
    phone: str | None = None
    origin: str | None = None
    credit_code: str | None = None
    share_percent: Decimal | None = None
    email: str | None = None
    contact_name: str | None = None


EMAIL_PATTERN = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def _text(value, field: str, max_length: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(field, f"{field}：应为文本")
    value = value.strip()
    if len(value) > max_length:
        raise Invalid(field, f"{field}：不能超过{max_length}个字符")
    return value or None


def _share(value, field: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise Invalid(field, "出资比例应为数字")
    try:
        share = Decimal(str(value).strip())
    except InvalidOperation:
        raise Invalid(field, "出资比例应为数字") from None
    if not share.is_finite() or share <= 0 or share > 100:
        raise Invalid(field, "出资比例应大于0且不超过100")
    if share.as_tuple().exponent < -4:
        raise Invalid(field, "出资比例最多保留4位小数")
    return share


def validate_party(raw, index: int, business_type: str, entity_type: str) -> PartyInput:
    """One party as sent; Invalid names the field (parties[1].id_number)."""
    prefix = f"parties[{index}]"
    if not isinstance(raw, dict):
        raise Invalid(prefix, "每个当事人应为一个对象")
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        raise Invalid(f"{prefix}.{unknown[0]}", "不认识的字段")
    party_id = None
    if raw.get("id") is not None:
        try:
            party_id = uuid.UUID(str(raw["id"]))
        except ValueError:
            raise Invalid(f"{prefix}.id", "当事人编号无效") from None
    role = raw.get("role")
    if role not in ROLES:
        raise Invalid(f"{prefix}.role", f"角色应为 {'、'.join(ROLES)} 之一")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise Invalid(f"{prefix}.kind", "类型应为 person（自然人）或 enterprise（企业）")
    name = _text(raw.get("name"), f"{prefix}.name", 128)
    if not name:
        raise Invalid(f"{prefix}.name", "请填写姓名或名称")
    party = PartyInput(id=party_id, role=role, kind=kind, name=name)
    foreign_fields = _ENTERPRISE_ONLY if kind == "person" else _PERSON_ONLY
    for key in foreign_fields:
        if raw.get(key) is not None:
            label = "自然人" if kind == "person" else "企业"
            raise Invalid(f"{prefix}.{key}", f"{label}不填写此项")
    if kind == "person":
        _person_fields(party, raw, prefix)
    else:
        _enterprise_fields(party, raw, prefix)
    _contact_fields(party, raw, prefix)
    party.share_percent = _share(raw.get("share_percent"), f"{prefix}.share_percent")
    if party.share_percent is not None and role != "investor":
        raise Invalid(f"{prefix}.share_percent", "只有投资人填写出资比例")
    rule = materials.party_rules(business_type, entity_type).get(role, {})
    if kind == "enterprise" and (role != "investor" or rule.get("persons_only")):
        raise Invalid(f"{prefix}.kind", f"{PartyRole(role).label}应为自然人")
    return party


def _person_fields(party: PartyInput, raw: dict, prefix: str) -> None:
    id_type = raw.get("id_type")
    if id_type is not None and id_type not in ID_TYPES:
        raise Invalid(f"{prefix}.id_type", f"证件类型应为 {'、'.join(ID_TYPES)} 之一")
    id_number = _text(raw.get("id_number"), f"{prefix}.id_number", 32)
    if id_number is not None:
        if id_type is None:
            raise Invalid(f"{prefix}.id_type", "填写证件号码时须选择证件类型")
        id_number = normalise_id_number(id_type, id_number)
        problem = id_number_problem(id_type, id_number)
        if problem:
            raise Invalid(f"{prefix}.id_number", problem)
    party.id_type, party.id_number = id_type, id_number


def _contact_fields(party: PartyInput, raw: dict, prefix: str) -> None:
    """The phone that receives the signing link and 事后确认, and an optional e-mail address for the latter."""
    phone = _text(raw.get("phone"), f"{prefix}.phone", 20)
    if phone is not None and mobile_problem(phone):
        raise Invalid(f"{prefix}.phone", mobile_problem(phone))
    email = _text(raw.get("email"), f"{prefix}.email", 254)
    if email is not None and not EMAIL_PATTERN.fullmatch(email):
        raise Invalid(f"{prefix}.email", "电子邮箱格式不正确")
    party.phone, party.email = phone, email
    if party.kind == "enterprise":
        party.contact_name = _text(raw.get("contact_name"), f"{prefix}.contact_name", 64)


def _enterprise_fields(party: PartyInput, raw: dict, prefix: str) -> None:
    origin = raw.get("origin")
    if origin is not None and origin not in ORIGINS:
        raise Invalid(f"{prefix}.origin", "企业来源应为 home_province（本省）、other_province（外省）或 foreign（境外）")
    credit_code = _text(raw.get("credit_code"), f"{prefix}.credit_code", 18)
    if credit_code is not None:
        credit_code = credit_code.upper()
        if origin == "foreign":
            raise Invalid(f"{prefix}.credit_code", "境外企业没有统一社会信用代码，请上传其主体资格证明")
        problem = credit_code_problem(credit_code)
        if problem:
            raise Invalid(f"{prefix}.credit_code", problem)
    party.origin, party.credit_code = origin, credit_code


def validate_parties(raw, business_type: str, entity_type: str) -> list[PartyInput]:
    """The whole list as sent (a PATCH replaces the list); role maximums are exact, minimums are `missing`."""
    if not isinstance(raw, list):
        raise Invalid("parties", "parties 应为列表")
    if len(raw) > MAX_PARTIES:
        raise Invalid("parties", "当事人过多")
    parties = [validate_party(item, index, business_type, entity_type) for index, item in enumerate(raw)]
    seen_ids = set()
    for index, party in enumerate(parties):
        if party.id is not None:
            if party.id in seen_ids:
                raise Invalid(f"parties[{index}].id", "当事人编号重复")
            seen_ids.add(party.id)
    rules = materials.party_rules(business_type, entity_type)
    for role, rule in rules.items():
        count = sum(1 for party in parties if party.role == role)
        if count > rule["max"]:
            label = PartyRole(role).label
            message = (f"{EntityType(entity_type).label}不登记{label}" if rule["max"] == 0
                       else f"{label}最多{rule['max']}名")
            raise Invalid("parties", message)
    return parties


def missing_for_parties(parties: list, business_type: str, entity_type: str) -> list[dict]:
    """What the parties still lack: role counts, each party's identity and contact, the investors' share total."""
    missing: list[dict] = []
    rules = materials.party_rules(business_type, entity_type)
    for role, rule in rules.items():
        count = sum(1 for party in parties if party.role == role)
        if count < rule["min"]:
            label = PartyRole(role).label
            need = f"至少{rule['min']}名" if rule["min"] != rule["max"] else f"{rule['min']}名"
            missing.append({"field": "parties", "message": f"请填写{label}（需{need}，已填{count}名）"})
        shares_total = rule.get("shares_total")
        if shares_total is not None and count:
            shares = [party.share_percent for party in parties if party.role == role]
            if any(share is None for share in shares):
                missing.append({"field": "parties", "message": "请填写每位投资人的出资比例"})
            else:
                total = sum(shares, Decimal(0))
                if total != Decimal(shares_total):
                    missing.append({"field": "parties", "message": f"投资人出资比例合计应为{shares_total}%，"
                                                                   f"当前为{format(total.normalize(), 'f')}%"})
    for index, party in enumerate(parties):
        prefix = f"parties[{index}]"
        if party.kind == "person":
            if not party.id_type:
                missing.append({"field": f"{prefix}.id_type", "message": f"请选择{party.name}的证件类型"})
            if not party.id_number:
                missing.append({"field": f"{prefix}.id_number", "message": f"请填写{party.name}的证件号码"})
            if not party.phone:
                missing.append({"field": f"{prefix}.phone", "message": f"请填写{party.name}的手机号码"})
        else:
            if not party.origin:
                missing.append({"field": f"{prefix}.origin", "message": f"请选择{party.name}的企业来源（本省、外省或境外）"})
            if party.origin != "foreign" and not party.credit_code:
                missing.append({"field": f"{prefix}.credit_code", "message": f"请填写{party.name}的统一社会信用代码"})
            if party.origin != "foreign":
                # An enterprise (an investor) signs by e-seal or e-license: its contact person receives the link.
                if not party.contact_name:
                    missing.append({"field": f"{prefix}.contact_name", "message": f"请填写{party.name}的联系人姓名"})
                if not party.phone:
                    missing.append({"field": f"{prefix}.phone", "message": f"请填写{party.name}联系人的手机号码"})
    return missing

"""名称查重 (规定第十七条): names of the same 设区的市 whose 字号 equals the proposed one in the same industry, and the
investment relationships (投资关系) that lift such a conflict.

规定第十七条: in one registration authority a proposed 字号 may not equal the 字号 of a name of the same industry, or
of a name without an industry term, that (一) is registered or reserved, 有投资关系的除外; (二) was cancelled or changed
less than a year ago, 有投资关系或者受让企业名称的除外. Two enterprises have an investment relationship here when one
invests in the other: the registered one is among the proposed enterprise's investors, or the proposed (existing)
enterprise is among the registered one's investors as the registry records them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from tortoise import connections

from server.services.applications import industries
from server.services.applications.name_words import word_lists

PROTECTION_AFTER_EXIT = timedelta(days=365)
RULE_REGISTERED = "《企业名称登记管理规定》第十七条第（一）项"
RULE_EXITED = "《企业名称登记管理规定》第十七条第（二）项"
RULE_SIMILAR = "《企业名称登记管理规定》第十六条第三款"
_RULE_BY_KIND = {"registered": RULE_REGISTERED, "reserved": RULE_REGISTERED, "cancelled": RULE_EXITED,
                 "changed": RULE_EXITED}
_KIND_WORDS = {
    "registered": "已登记的企业名称",
    "reserved": "已被他人保留的名称",
    "cancelled": "注销未满一年的企业名称",
    "changed": "变更未满一年的原企业名称",
}
_RELATION_WORDS = {
    "invested_by_registered": "“{other}”是拟申请企业的投资人",
    "invests_in_registered": "拟申请企业是“{other}”的投资人（登记簿记载）",
}


@dataclass(frozen=True)
class Investor:
    name: str
    credit_code: str | None = None


@dataclass
class Verdict:
    conflicts: list[dict] = field(default_factory=list)
    exceptions: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    # The first moment time alone changes how a candidate counts (a reservation lapsing, a former name's year of
    # protection ending); None when no candidate has such a moment ahead.
    changes_at: datetime | None = None


_CANDIDATES_SQL = """
SELECT name, trade_name, industry, status AS kind, status_date AS since, credit_code,
       CAST(NULL AS INTEGER) AS applicant_id, investors
  FROM registered_entity WHERE city_code = {city} AND (trade_name IN ({names}) OR trade_pinyin = {pinyin})
UNION ALL
SELECT r.name, r.trade_name, r.industry, 'changed', r.retired_at, r.credit_code, CAST(NULL AS INTEGER), e.investors
  FROM retired_name r LEFT JOIN registered_entity e ON e.credit_code = r.credit_code
 WHERE r.city_code = {city} AND (r.trade_name IN ({names}) OR r.trade_pinyin = {pinyin})
UNION ALL
SELECT name, trade_name, industry, 'reserved', expires_at, NULL, applicant_id, NULL
  FROM name_reservation WHERE city_code = {city} AND (trade_name IN ({names}) OR trade_pinyin = {pinyin})
"""


async def candidates(city: str, trade_name: str, pinyin: str, variants: set[str], connection=None) -> list[dict]:
    """Registered, retired and reserved names of the city with this 字号, a near-synonym of it, or its sound.

    One round trip over the (city_code, trade_name) and (city_code, trade_pinyin) indexes; time limits are
    applied by the caller, so the query is the same on SQLite and PostgreSQL.
    """
    conn = connection or connections.get("default")
    trade_names = [trade_name, *sorted(variants)]
    if conn.capabilities.dialect == "postgres":
        marks = [f"${index}" for index in range(1, len(trade_names) + 3)]
    else:
        marks = ["?"] * (len(trade_names) + 2)
    sql = _CANDIDATES_SQL.format(city=marks[0], names=", ".join(marks[1:-1]), pinyin=marks[-1])
    values = [city, *trade_names, pinyin]
    if conn.capabilities.dialect != "postgres":
        # "?" marks are taken in order of appearance: each of the three selects needs its own copy of the values.
        values *= 3
    rows = await conn.execute_query_dict(sql, values)
    for row in rows:
        row["since"] = _as_datetime(row["since"])
        row["investors"] = _as_investors(row["investors"])
    return rows


def _as_datetime(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _as_investors(value) -> list[Investor] | None:
    """None: the registry does not know the investors; []: it knows there are none."""
    if value is None:
        return None
    if isinstance(value, str):
        value = json.loads(value)
    return [Investor(item["name"], item.get("credit_code")) for item in value]


@lru_cache(maxsize=1)
def _synonyms() -> dict[str, set[str]]:
    table: dict[str, set[str]] = {}
    for group in word_lists()["near_synonyms"]:
        for word in group:
            table.setdefault(word, set()).update(other for other in group if other != word)
    return table


def near_synonym_variants(trade_name: str) -> set[str]:
    """字号 that differ from this one by one near-synonym character (兴/興/星 …)."""
    variants = set()
    for index, char in enumerate(trade_name):
        for other in _synonyms().get(char, ()):
            variants.add(trade_name[:index] + other + trade_name[index + 1:])
    variants.discard(trade_name)
    return variants


def _relation(row: dict, investors: list[Investor], own_credit_code: str | None) -> str | None:
    """Which investment relationship links the proposed enterprise with this row's, if any."""
    if row["kind"] == "reserved":
        return None
    for investor in investors:
        if investor.credit_code and row["credit_code"]:
            if investor.credit_code == row["credit_code"]:
                return "invested_by_registered"
        elif investor.name == row["name"]:
            return "invested_by_registered"
    if own_credit_code and row["investors"]:
        if any(item.credit_code == own_credit_code for item in row["investors"]):
            return "invests_in_registered"
    return None


def _industry_words(row: dict, industry: str) -> str:
    if row["industry"] == industry:
        return "且行业表述相同"
    if not row["industry"] or not industry:
        return "且其中一个名称未使用行业字词"
    term = industries.classify(row["industry"]) or industries.classify(industry)
    if term is not None and not term.codes:
        return "且其中一个名称的经营特点不限于某一行业"
    return f"且“{row['industry']}”与“{industry}”属国民经济行业分类同一大类"


def _unlifted_reason(row: dict, investors: list[Investor]) -> str:
    if row["kind"] == "reserved":
        return ""
    if row["investors"] is None:
        hint = ("登记簿中没有该企业的投资人信息。两企业有投资关系的可以除外：如该企业投资拟申请企业，请在投资人中填写"
                "该企业的名称和统一社会信用代码；如拟申请企业投资该企业，请提交该企业的股东信息，由登记机关核实")
    else:
        hint = ("登记簿记载的该企业投资人中没有拟申请企业，拟申请企业的投资人中也没有该企业，"
                "不属于有投资关系的除外情形")
    if investors and row["investors"] is None:
        hint = "所填投资人中没有该企业；" + hint
    return "。" + hint


def _time_limit(row: dict) -> datetime | None:
    """When a candidate stops counting by the passing of time: a reservation at its expiry, a cancelled or former
    name a year after it left the register."""
    if row["since"] is None:
        return None
    if row["kind"] == "reserved":
        return row["since"]
    if row["kind"] in ("cancelled", "changed"):
        return row["since"] + PROTECTION_AFTER_EXIT
    return None


def judge(rows: list[dict], trade_name: str, industry: str, name: str, entity_type: str, applicant_id,
          own_credit_code: str | None, investors: list[Investor], now: datetime) -> Verdict:
    """Sort the candidate rows into conflicts, conflicts lifted by an investment relationship, and warnings."""
    verdict = Verdict()
    seen: set[str] = set()
    for row in rows:
        limit = _time_limit(row)
        if limit is not None and limit > now and (verdict.changes_at is None or limit < verdict.changes_at):
            verdict.changes_at = limit
        if own_credit_code and row.get("credit_code") == own_credit_code:
            continue
        if row["kind"] == "reserved" and (row["since"] <= now or (applicant_id is not None
                                                                   and row["applicant_id"] == applicant_id)):
            continue
        if row["kind"] in ("cancelled", "changed") and row["since"] and row["since"] <= now - PROTECTION_AFTER_EXIT:
            continue
        if not industries.same_industry(industry, row["industry"]) or row["name"] in seen:
            continue
        seen.add(row["name"])
        rule = _RULE_BY_KIND[row["kind"]]
        if entity_type == "branch":
            # A branch carries its company's name: only the very same branch name is taken.
            if row["name"] == name:
                verdict.conflicts.append({"name": row["name"], "kind": row["kind"], "reason": "与已有名称完全相同",
                                          "rule": "《企业名称登记管理规定》第四条、第十三条"})
            continue
        if row["trade_name"] == trade_name:
            reason = f"{_KIND_WORDS[row['kind']]}，字号相同{_industry_words(row, industry)}"
            relation = _relation(row, investors, own_credit_code)
            if relation:
                lifted_by = _RELATION_WORDS[relation].format(other=row["name"])
                verdict.exceptions.append({
                    "name": row["name"], "kind": row["kind"], "relation": relation,
                    "reason": f"{reason}，但{lifted_by}，两企业有投资关系，依法除外", "rule": rule})
            else:
                verdict.conflicts.append({"name": row["name"], "kind": row["kind"],
                                          "reason": reason + _unlifted_reason(row, investors), "rule": rule})
        elif row["trade_name"] in near_synonym_variants(trade_name):
            verdict.warnings.append({"code": "near_synonym", "level": "warning", "rule": RULE_SIMILAR,
                                     "message": f"字号与“{row['name']}”近似（近义或异体字），存在被认定为近似名称的风险"})
        else:
            verdict.warnings.append({"code": "similar_sound", "level": "warning", "rule": RULE_SIMILAR,
                                     "message": f"字号与“{row['name']}”读音相同，存在混淆风险"})
    return verdict

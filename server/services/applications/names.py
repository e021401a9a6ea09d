"""自主核名: parse an enterprise name, judge it by the 企业名称登记管理规定 rules, and reserve it.

A name is 行政区划 + 字号 + 行业/经营特点 + 组织形式, or 字号（行政区划）+ 行业 + 组织形式. Two names conflict within
one 设区的市 when their 字号 are equal and they share the industry (or one of them names none); organisation form
and where the division stands make no difference. Word lists live in server/data/names.yaml.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

import yaml
from pypinyin import lazy_pinyin
from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.errors import Conflict, Invalid
from server.models.applications import ENTITY_TYPES
from server.models.names import NameReservation
from server.services import authorities

NAMES_FILE = Path(__file__).resolve().parents[2] / "data" / "names.yaml"
PROTECTION_AFTER_EXIT = timedelta(days=365)
MAX_NAME_LENGTH = 60
_HAN = re.compile(r"[\u4e00-\u9fff]")
_ALLOWED_CHARS = re.compile(r"^[\u4e00-\u9fff（）]+$")
_DIVISION_SUFFIXES = ("自治区", "自治县", "自治州", "省", "市", "区", "县")


@lru_cache(maxsize=1)
def word_lists() -> dict:
    return yaml.safe_load(NAMES_FILE.read_text(encoding="utf-8"))


@dataclass
class ParsedName:
    region: str = ""
    trade_name: str = ""
    industry: str = ""
    org_form: str = ""
    region_code: str = ""
    region_in_brackets: bool = False

    def public(self) -> dict:
        return {"region": self.region or None, "trade_name": self.trade_name or None,
                "industry": self.industry or None, "org_form": self.org_form or None}


def normalise(name: str) -> str:
    """Full-width brackets, no spaces: 云帆(崇左)科技 and 云帆（崇左）科技 are one name."""
    return re.sub(r"\s+", "", name).replace("(", "（").replace(")", "）")


def short_division_name(name: str) -> str:
    """崇左市 → 崇左, 融水苗族自治县 → 融水, 广西壮族自治区 → 广西; too short a stem keeps the full name (藤县)."""
    for suffix in _DIVISION_SUFFIXES:
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            stripped = True
            while stripped:
                stripped = False
                for group in word_lists()["ethnic_groups"]:
                    if stem.endswith(group) and len(stem) - len(group) >= 2:
                        stem, stripped = stem[: -len(group)], True
            return stem if len(stem) >= 2 else name
    return name


@lru_cache(maxsize=64)
def region_aliases(authority_code: str) -> dict[str, tuple[str, str]]:
    """Every way a name may write a division, for an authority: alias → (code, full name).

    Full names of every division of the province are recognised; short forms only for the province, the
    authority's city and that city's counties, so a 字号 such as 江南 is not mistaken for 南宁's 江南区.
    """
    city = authorities.city_code(authority_code)
    aliases: dict[str, tuple[str, str]] = {}
    for code, full in authorities.shipped_divisions(authority_code[:2]):
        aliases[full] = (code, full)
        if code.endswith("0000") or code == city or code[:4] == city[:4]:
            aliases.setdefault(short_division_name(full), (code, full))
    return aliases


@lru_cache(maxsize=1)
def _all_org_forms() -> tuple[str, ...]:
    forms = {form for per_type in word_lists()["org_forms"].values() for form in per_type}
    forms.update(form for per_type in word_lists()["forbidden_forms"].values() for form in per_type)
    return tuple(sorted(forms, key=len, reverse=True))


@lru_cache(maxsize=1)
def _industries() -> tuple[str, ...]:
    return tuple(sorted(set(word_lists()["industries"]), key=len, reverse=True))


_PARTNERSHIP_SUFFIX = re.compile(r"（(普通合伙|有限合伙|特殊普通合伙)）$")
_PARTNERSHIP_CARRIERS = ("企业", "中心", "事务所", "工作室", "商行")


def _split_org_form(rest: str, entity_type: str) -> tuple[str, str]:
    partnership = _PARTNERSHIP_SUFFIX.search(rest)
    if partnership:
        body, form = rest[: partnership.start()], partnership.group(0)
        for carrier in _PARTNERSHIP_CARRIERS:
            if body.endswith(carrier) and len(body) > len(carrier):
                return body[: -len(carrier)], carrier + form
        return body, form
    for form in _all_org_forms():
        if rest.endswith(form) and len(rest) > len(form):
            return rest[: -len(form)], form
    return rest, ""


@lru_cache(maxsize=64)
def _alias_lengths(authority_code: str) -> tuple[int, ...]:
    return tuple(sorted({len(alias) for alias in region_aliases(authority_code)}, reverse=True))


def _split_region(rest: str, aliases: dict[str, tuple[str, str]], lengths: tuple[int, ...]) -> tuple[str, str, str, bool]:
    """(rest without the division, division name, division code, whether it stood in brackets).

    Nested divisions in front (崇左市扶绥县…) count as one: the most specific is the name's division.
    """
    region = code = ""
    matched = True
    while matched:
        matched = False
        for length in lengths:
            alias = rest[:length]
            if len(rest) > length and alias in aliases:
                candidate = aliases[alias][0]
                if not code or (candidate != code and candidate.startswith(_scope_of(code))):
                    code, region = aliases[alias]
                    rest, matched = rest[length:], True
                    break
    if region:
        return rest, region, code, False
    match = re.search(r"（([^（）]+)）", rest)
    if match and match.group(1) in aliases and match.start() > 0:
        code, full = aliases[match.group(1)]
        return rest[: match.start()] + rest[match.end():], full, code, True
    return rest, "", "", False


@lru_cache(maxsize=1)
def _industry_table() -> tuple[frozenset[str], tuple[int, ...]]:
    industries = frozenset(_industries())
    return industries, tuple(sorted({len(term) for term in industries}, reverse=True))


def _split_industry(rest: str) -> tuple[str, str]:
    """The longest industry term the rest ends with, leaving a non-empty 字号."""
    industries, lengths = _industry_table()
    for length in lengths:
        if len(rest) > length and rest[-length:] in industries:
            return rest[:-length], rest[-length:]
    return rest, ""


def parse(name: str, entity_type: str, authority_code: str) -> ParsedName:
    """Split a (normalised) name into its four parts; parts the name lacks stay empty."""
    aliases = region_aliases(authority_code)
    if entity_type == "branch" and name.endswith("分公司"):
        parent, parsed = name[: -len("分公司")], None
        for form in _all_org_forms():
            index = parent.rfind(form)
            if index > 0:
                parsed = parse(parent[: index + len(form)], "llc", authority_code)
                break
        parsed = parsed or ParsedName(trade_name=parent)
        parsed.org_form = "分公司"
        return parsed
    rest, org_form = _split_org_form(name, entity_type)
    rest, region, region_code, in_brackets = _split_region(rest, aliases, _alias_lengths(authority_code))
    trade_name, industry = _split_industry(rest)
    return ParsedName(region=region, trade_name=trade_name, industry=industry, org_form=org_form,
                      region_code=region_code, region_in_brackets=in_brackets)


def pinyin_key(trade_name: str) -> str:
    """The 字号's sound, character by character (so stored and proposed names are read the same way)."""
    return " ".join(_char_pinyin(char) for char in trade_name)[:255]


@lru_cache(maxsize=20000)
def _char_pinyin(char: str) -> str:
    return lazy_pinyin(char)[0]


def _problem(code: str, message: str, level: str = "error") -> dict:
    return {"code": code, "message": message, "level": level}


def rule_problems(name: str, parsed: ParsedName, entity_type: str, authority_code: str) -> list[dict]:
    """Problems with the name itself, before any comparison with other names."""
    words = word_lists()
    problems: list[dict] = []
    if not _ALLOWED_CHARS.match(name):
        problems.append(_problem("non_chinese", "企业名称应当使用规范汉字，不能含有字母、数字或其他符号"))
    if not parsed.org_form:
        problems.append(_problem("org_form_missing", "名称缺少组织形式（如有限公司、个人独资企业的“厂”“店”、合伙企业的“（普通合伙）”）"))
    else:
        allowed = words["org_forms"][entity_type]
        forbidden = [form for form in words["forbidden_forms"].get(entity_type, []) if form in name]
        label = _ENTITY_LABELS[entity_type]
        if forbidden:
            problems.append(_problem("org_form_mismatch", f"{label}的名称不得使用“{forbidden[0]}”字样"))
        elif not any(parsed.org_form.endswith(form) for form in allowed):
            problems.append(_problem("org_form_mismatch", f"组织形式“{parsed.org_form}”与主体类型“{label}”不符，"
                                                          f"可用：{'、'.join(allowed)}"))
    if not parsed.region:
        problems.append(_problem("region_missing", "名称应当含有登记机关所在地的行政区划名称，如“崇左”或“云帆（崇左）科技有限公司”"))
    elif not authority_code.startswith(_scope_of(parsed.region_code)):
        problems.append(_problem("region_mismatch", f"行政区划“{parsed.region}”不是登记机关所在地或其上级行政区划"))
    if len(_HAN.findall(parsed.trade_name)) < 2:
        problems.append(_problem("trade_name_too_short", "字号应当由两个以上汉字组成"))
    checked = name.replace(parsed.region, "") if parsed.region else name
    for category, listed in words["forbidden_words"].items():
        hit = next((word for word in listed if word in checked), None)
        if hit:
            problems.append(_problem("forbidden_word", f"名称不得含有{words['category_labels'][category]}（“{hit}”）"))
    restricted = next((word for word in words["restricted_words"] if word in checked), None)
    if restricted:
        problems.append(_problem("restricted_word", f"名称中使用“{restricted}”字样须经国务院批准，不能自主申报"))
    return problems


def _scope_of(region_code: str) -> str:
    level = authorities.level_of(region_code)
    return region_code[:2] if level == "province" else region_code[:4] if level == "city" else region_code


_ENTITY_LABELS = {"llc": "有限责任公司", "joint_stock": "股份有限公司", "sole_proprietorship": "个人独资企业",
                  "partnership": "合伙企业", "cooperative": "农民专业合作社", "individual_business": "个体工商户",
                  "branch": "分公司"}


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


def _industries_collide(a: str, b: str) -> bool:
    return a == b or not a or not b


_CANDIDATES_SQL = """
SELECT name, trade_name, industry, status AS kind, status_date AS since, credit_code, CAST(NULL AS INTEGER) AS applicant_id
  FROM registered_entity WHERE city_code = {city} AND (trade_name IN ({names}) OR trade_pinyin = {pinyin})
UNION ALL
SELECT name, trade_name, industry, 'changed', retired_at, credit_code, CAST(NULL AS INTEGER)
  FROM retired_name WHERE city_code = {city} AND (trade_name IN ({names}) OR trade_pinyin = {pinyin})
UNION ALL
SELECT name, trade_name, industry, 'reserved', expires_at, NULL, applicant_id
  FROM name_reservation WHERE city_code = {city} AND (trade_name IN ({names}) OR trade_pinyin = {pinyin})
"""


async def _candidates(city: str, parsed: ParsedName, pinyin: str, variants: set[str], connection=None) -> list[dict]:
    """Registered, retired and reserved names of the city with this 字号, a near-synonym of it, or its sound.

    One round trip over the (city_code, trade_name) and (city_code, trade_pinyin) indexes; time limits are
    applied by the caller, so the query is the same on SQLite and PostgreSQL.
    """
    conn = connection or connections.get("default")
    trade_names = [parsed.trade_name, *sorted(variants)]
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
    return rows


def _as_datetime(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


_KIND_REASONS = {
    "registered": "已登记的企业名称，字号相同{industry}",
    "reserved": "已被他人保留的名称，字号相同{industry}",
    "cancelled": "注销未满一年的企业名称，字号相同{industry}",
    "changed": "变更未满一年的原企业名称，字号相同{industry}",
}


def _judge(rows: list[dict], parsed: ParsedName, name: str, entity_type: str, applicant_id, exclude_credit_code,
           now: datetime) -> tuple[list[dict], list[dict]]:
    conflicts: list[dict] = []
    warnings: list[dict] = []
    seen: set[str] = set()
    for row in rows:
        if exclude_credit_code and row.get("credit_code") == exclude_credit_code:
            continue
        if row["kind"] == "reserved" and (row["since"] <= now or (applicant_id is not None
                                                                   and row["applicant_id"] == applicant_id)):
            continue
        if row["kind"] in ("cancelled", "changed") and row["since"] and row["since"] <= now - PROTECTION_AFTER_EXIT:
            continue
        if not _industries_collide(parsed.industry, row["industry"]) or row["name"] in seen:
            continue
        seen.add(row["name"])
        if entity_type == "branch":
            # A branch carries its company's name: only the very same branch name is taken.
            if row["name"] == name:
                conflicts.append({"name": row["name"], "kind": row["kind"], "reason": "与已有名称完全相同"})
            continue
        if row["trade_name"] == parsed.trade_name:
            industry = "且属同一行业" if row["industry"] == parsed.industry else "且其中一个名称未使用行业字词"
            conflicts.append({"name": row["name"], "kind": row["kind"],
                              "reason": _KIND_REASONS[row["kind"]].format(industry=industry)})
        elif row["trade_name"] in near_synonym_variants(parsed.trade_name):
            warnings.append(_problem("near_synonym", f"字号与“{row['name']}”近似（近义或异体字），存在被认定为近似名称的风险",
                                     "warning"))
        else:
            warnings.append(_problem("similar_sound", f"字号与“{row['name']}”读音相同，存在混淆风险", "warning"))
    return conflicts, warnings


def _validate_input(name, entity_type: str, authority_code: str) -> str:
    if not isinstance(name, str) or not normalise(name):
        raise Invalid("name", "请填写企业名称")
    name = normalise(name)
    if len(name) > MAX_NAME_LENGTH:
        raise Invalid("name", f"企业名称不能超过{MAX_NAME_LENGTH}个字")
    if entity_type not in ENTITY_TYPES:
        raise Invalid("entity_type", "主体类型无效")
    if not (isinstance(authority_code, str) and len(authority_code) == 6 and authority_code.isdigit()):
        raise Invalid("authority_code", "登记机关代码应为6位行政区划代码")
    try:
        known = {code for code, _ in authorities.shipped_divisions(authority_code[:2])}
    except FileNotFoundError:
        known = set()
    if authority_code not in known:
        raise Invalid("authority_code", f"登记机关 {authority_code} 不存在")
    return name


async def check(name: str, entity_type: str, authority_code: str, applicant_id=None, exclude_credit_code=None,
                connection=None) -> dict:
    """名称查重 for applicants and staff alike.

    → {available, name, parsed: {region, trade_name, industry, org_form}, problems: [{code, message, level}],
    conflicts: [{name, kind, reason}]}. Problems of level "warning" (近似、同音) do not make a name unavailable.
    A reservation held by `applicant_id`, and the entity `exclude_credit_code` itself (a change keeping its
    name), are not conflicts.
    """
    name = _validate_input(name, entity_type, authority_code)
    parsed = parse(name, entity_type, authority_code)
    problems = rule_problems(name, parsed, entity_type, authority_code)
    conflicts: list[dict] = []
    if parsed.trade_name:
        rows = await _candidates(authorities.city_code(authority_code), parsed, pinyin_key(parsed.trade_name),
                                 near_synonym_variants(parsed.trade_name), connection)
        conflicts, warnings = _judge(rows, parsed, name, entity_type, applicant_id, exclude_credit_code,
                                     datetime.now(timezone.utc))
        problems += warnings
    available = not conflicts and not any(problem["level"] == "error" for problem in problems)
    return {"available": available, "name": name, "parsed": parsed.public(), "problems": problems,
            "conflicts": conflicts}


def proposed_name(application) -> str | None:
    """The name the application asks for: an establishment's name, or the new name a change records."""
    if application.business_type == "change":
        for change in (application.entity or {}).get("changes", []):
            if change.get("item") == "name" and change.get("after"):
                return change["after"]
    return application.name


async def name_usable_by(application) -> bool:
    """Whether the application's name may still be used by its applicant: available, or reserved by them.

    A change keeps its own registered name (its credit code is not a conflict with itself).
    """
    name = proposed_name(application)
    if not name:
        return False
    exclude = application.credit_code if application.business_type != "establish" else None
    try:
        result = await check(name, application.entity_type, application.authority_id,
                             applicant_id=application.applicant_id, exclude_credit_code=exclude)
    except Invalid:
        return False
    return result["available"]


def _lock_key(city: str, trade_name: str) -> int:
    digest = hashlib.sha256(f"{city}:{trade_name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def reserve(applicant_id: int, name: str, entity_type: str, authority_code: str, reservation_days: int) -> dict:
    """Hold an available name for the applicant → {id, name, expires_at}; Conflict when not available.

    Of two applicants racing for one 字号 exactly one wins: on PostgreSQL an advisory lock on (city, 字号)
    serialises the check-and-insert, and a unique key on (city, 字号, 行业) backs it on every database.
    Reserving the same name again returns the applicant's existing reservation.
    """
    result = await check(name, entity_type, authority_code, applicant_id=applicant_id)
    if not result["available"]:
        raise Conflict("该名称不可使用：" + _first_reason(result), field="name", check=result)
    name = result["name"]
    parsed = parse(name, entity_type, authority_code)
    city = authorities.city_code(authority_code)
    now = datetime.now(timezone.utc)
    try:
        async with in_transaction() as conn:
            if conn.capabilities.dialect == "postgres":
                await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [_lock_key(city, parsed.trade_name)])
            mine = await NameReservation.filter(applicant_id=applicant_id, name=name,
                                                expires_at__gt=now).using_db(conn).first()
            if mine:
                return reservation_view(mine)
            recheck = await check(name, entity_type, authority_code, applicant_id=applicant_id, connection=conn)
            if not recheck["available"]:
                raise Conflict("该名称不可使用：" + _first_reason(recheck), field="name", check=recheck)
            await NameReservation.filter(city_code=city, trade_name=parsed.trade_name, industry=parsed.industry,
                                         expires_at__lte=now).using_db(conn).delete()
            reservation = await NameReservation.create(
                applicant_id=applicant_id, name=name, trade_name=parsed.trade_name,
                trade_pinyin=pinyin_key(parsed.trade_name), industry=parsed.industry, entity_type=entity_type,
                authority_code=authority_code, city_code=city, expires_at=now + timedelta(days=reservation_days),
                using_db=conn)
    except IntegrityError:
        raise Conflict("该名称刚被他人保留", field="name") from None
    return reservation_view(reservation)


def _first_reason(result: dict) -> str:
    if result["conflicts"]:
        first = result["conflicts"][0]
        return f"与“{first['name']}”冲突（{first['reason']}）"
    return next(problem["message"] for problem in result["problems"] if problem["level"] == "error")


def reservation_view(reservation: NameReservation) -> dict:
    return {"id": str(reservation.id), "name": reservation.name, "entity_type": reservation.entity_type,
            "authority_code": reservation.authority_code, "expires_at": reservation.expires_at.isoformat()}


async def reservations_of(applicant_id: int) -> list[dict]:
    now = datetime.now(timezone.utc)
    rows = await NameReservation.filter(applicant_id=applicant_id, expires_at__gt=now).order_by("-created_at")
    return [reservation_view(row) for row in rows]


def parsed_for_registry(name: str, entity_type: str, authority_code: str) -> dict:
    """The columns the registry stores for a name (字号, its pinyin, 行业, 组织形式)."""
    parsed = parse(normalise(name), entity_type, authority_code)
    trade_name = (parsed.trade_name or normalise(name))[:64]
    return {"trade_name": trade_name, "trade_pinyin": pinyin_key(trade_name), "industry": parsed.industry,
            "org_form": parsed.org_form}


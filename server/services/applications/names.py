"""自主核名: parse an enterprise name, judge it by the 企业名称登记管理规定 (2020) and its 实施办法 (2023), and reserve it.

A name is 行政区划 + 字号 + 行业/经营特点 + 组织形式, or 字号（行政区划）+ 行业 + 组织形式. Every decision of the check
is explained in Chinese with the article it applies (`decisions`); the failed ones are the `problems`. Divisions come
from divisions.py (all of China), industry terms from industries.py (GB/T 4754-2017), conflicts and the investment
relationships that lift them from name_conflicts.py; word lists live in server/data/names.yaml.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from pypinyin import lazy_pinyin
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server import clock
from server.cache import invalidation
from server.errors import Conflict, Invalid
from server.models.applications import ENTITY_TYPES, Party
from server.models.names import NameReservation
from server.services import authorities
from server.services.applications import divisions, industries, name_conflicts
from server.services.applications.name_conflicts import Investor
from server.services.applications.name_words import word_lists
from server.vocabulary import EntityType

MAX_NAME_LENGTH = 60
_HAN = re.compile(r"[\u4e00-\u9fff]")
_ALLOWED_CHARS = re.compile(r"^[\u4e00-\u9fff（）]+$")
_BRACKETED = re.compile(r"（([^（）]+)）")

# The articles each decision applies; 实施办法 = 企业名称登记管理规定实施办法 (国家市场监督管理总局令第82号).
RULES = {
    "characters": "《企业名称登记管理规定》第五条",
    "region": "《企业名称登记管理规定》第六条、第七条；《企业名称登记管理规定实施办法》第九条",
    "district": "《企业名称登记管理规定》第七条",
    "trade_name": "《企业名称登记管理规定》第八条；《企业名称登记管理规定实施办法》第十条",
    "industry": "《企业名称登记管理规定》第九条；《企业名称登记管理规定实施办法》第十一条",
    "org_form": "《企业名称登记管理规定》第十条",
    "forbidden": "《企业名称登记管理规定》第十一条",
    "restricted": "《企业名称登记管理规定》第十二条",
    "branch": "《企业名称登记管理规定》第十三条",
    "conflict": "《企业名称登记管理规定》第十七条",
}


@dataclass
class ParsedName:
    region: str = ""
    trade_name: str = ""
    industry: str = ""
    org_form: str = ""
    region_code: str = ""
    region_in_brackets: bool = False
    # The divisions as written, outermost first (广西 → 崇左市 → 江州区): 规定第七条 looks at the city before a 市辖区.
    region_chain: tuple[str, ...] = ()
    region_written: str = ""

    def public(self) -> dict:
        term = industries.classify(self.industry)
        return {"region": self.region or None, "trade_name": self.trade_name or None,
                "industry": self.industry or None, "org_form": self.org_form or None,
                "region_code": self.region_code or None,
                "industry_classes": term.classes() if term else []}


def normalise(name: str) -> str:
    """Full-width brackets, no spaces: 云帆(崇左)科技 and 云帆（崇左）科技 are one name."""
    return re.sub(r"\s+", "", name).replace("(", "（").replace(")", "）")


@lru_cache(maxsize=1)
def _all_org_forms() -> tuple[str, ...]:
    forms = {form for per_type in word_lists()["org_forms"].values() for form in per_type}
    forms.update(form for per_type in word_lists()["forbidden_forms"].values() for form in per_type)
    return tuple(sorted(forms, key=len, reverse=True))


_PARTNERSHIP_SUFFIX = re.compile(r"（(普通合伙|有限合伙|特殊普通合伙)）$")
_PARTNERSHIP_CARRIERS = ("企业", "中心", "事务所", "工作室", "商行")


def _split_org_form(rest: str) -> tuple[str, str]:
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


def _split_region(rest: str, authority_code: str) -> tuple[str, tuple[divisions.Division, ...], bool, str]:
    """(rest without the division, the divisions as written, whether they stood in brackets, the text written).

    A leading division wins when it is the applicant's own or above it, or when no bracketed one follows; otherwise
    a bracketed division after the 字号 is the name's (东方红（崇左）科技: 东方 is part of the 字号 here).
    """
    chain, after = divisions.leading_chain(rest, authority_code)
    own = set(divisions.ancestry(authority_code))
    if chain and (chain[-1].code in own or not _BRACKETED.search(after)):
        return after, chain, False, rest[: len(rest) - len(after)]
    for match in _BRACKETED.finditer(rest):
        bracketed = divisions.whole_chain(match.group(1), authority_code)
        if bracketed and match.start() > 0:
            return rest[: match.start()] + rest[match.end():], bracketed, True, match.group(1)
    return after, chain, False, rest[: len(rest) - len(after)]


def parse(name: str, entity_type: str, authority_code: str) -> ParsedName:
    """Split a (normalised) name into its four parts; parts the name lacks stay empty."""
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
    rest, org_form = _split_org_form(name)
    rest, chain, in_brackets, written = _split_region(rest, authority_code)
    trade_name, industry = industries.split_industry(rest)
    region = chain[-1] if chain else None
    return ParsedName(region=region.name if region else "", trade_name=trade_name, industry=industry,
                      org_form=org_form, region_code=region.code if region else "", region_in_brackets=in_brackets,
                      region_chain=tuple(item.code for item in chain), region_written=written)


def pinyin_key(trade_name: str) -> str:
    """The 字号's sound, character by character (so stored and proposed names are read the same way)."""
    return " ".join(_char_pinyin(char) for char in trade_name)[:255]


@lru_cache(maxsize=20000)
def _char_pinyin(char: str) -> str:
    return lazy_pinyin(char)[0]


def _decision(code: str, level: str, message: str, rule: str) -> dict:
    """One decision of the check; level "pass" explains a rule the name meets, "warning" and "error" are problems."""
    return {"code": code, "level": level, "message": message, "rule": RULES.get(rule, rule)}


def _character_decisions(name: str) -> list[dict]:
    if not _ALLOWED_CHARS.match(name):
        return [_decision("non_chinese", "error", "企业名称应当使用规范汉字，不能含有字母、数字或其他符号", "characters")]
    return [_decision("characters", "pass", "名称使用规范汉字", "characters")]


def _org_form_decisions(name: str, parsed: ParsedName, entity_type: str) -> list[dict]:
    words = word_lists()
    label = EntityType(entity_type).label
    if not parsed.org_form:
        return [_decision("org_form_missing", "error", "名称缺少组织形式（如有限公司、个人独资企业的“厂”“店”、"
                                                       "合伙企业的“（普通合伙）”）", "org_form")]
    forbidden = [form for form in words["forbidden_forms"].get(entity_type, []) if form in name]
    if forbidden:
        return [_decision("org_form_mismatch", "error", f"{label}的名称不得使用“{forbidden[0]}”字样", "org_form")]
    allowed = words["org_forms"][entity_type]
    if not any(parsed.org_form.endswith(form) for form in allowed):
        return [_decision("org_form_mismatch", "error", f"组织形式“{parsed.org_form}”与主体类型“{label}”不符，"
                                                        f"可用：{'、'.join(allowed)}", "org_form")]
    return [_decision("org_form", "pass", f"组织形式“{parsed.org_form}”与主体类型“{label}”相符", "org_form")]


def _region_decisions(parsed: ParsedName, entity_type: str, authority_code: str) -> list[dict]:
    if entity_type == "branch":
        return [_decision("branch_region", "pass", "分公司名称冠以其所从属企业的名称，行政区划随所从属企业", "branch")]
    if not parsed.region:
        return [_decision("region_missing", "error", "名称应当含有企业所在地县级以上地方行政区划名称，"
                                                     "如“崇左”或“云帆（崇左）科技有限公司”", "region")]
    authority = divisions.division(authority_code)
    if parsed.region_code not in divisions.ancestry(authority_code):
        return [_decision("region_mismatch", "error", f"行政区划“{parsed.region}”不是企业所在地（{authority.name}）"
                                                      "或其上级的行政区划名称", "region")]
    region = divisions.division(parsed.region_code)
    if region.is_city_district and region.parent not in parsed.region_chain:
        city = divisions.division(region.parent)
        return [_decision("district_without_city", "error",
                          f"“{region.name}”是市辖区，在企业名称中使用时应当同时冠以其所属的设区的市的行政区划名称，"
                          f"如“{city.name}{region.name}”", "district")]
    where = "置于字号之后并加注括号" if parsed.region_in_brackets else "位于名称之首"
    written = parsed.region_written if parsed.region_written == parsed.region else \
        f"{parsed.region_written}”（{parsed.region}）"
    written = f"“{written}" if written.endswith("）") else f"“{written}”"
    return [_decision("region", "pass", f"行政区划{written}是企业所在地（{authority.name}）或其上级的行政区划名称，"
                                        f"{where}", "region")]


def _other_meaning(word: str) -> str | None:
    return (word_lists().get("other_meanings") or {}).get(word)


def _trade_name_decisions(parsed: ParsedName, entity_type: str) -> list[dict]:
    trade_name = parsed.trade_name
    if len(_HAN.findall(trade_name)) < 2:
        return [_decision("trade_name_too_short", "error", "字号应当由两个以上汉字组成", "trade_name")]
    if entity_type == "branch":
        return [_decision("trade_name", "pass", f"字号“{trade_name}”随所从属企业", "branch")]
    named_divisions = divisions.named(trade_name)
    term = industries.terms().get(trade_name)
    meaning = _other_meaning(trade_name)
    if named_divisions or term:
        what = (f"县级以上地方行政区划名称（{'、'.join(item.name for item in named_divisions[:3])}）"
                if named_divisions else f"行业或者经营特点用语（{_classes_text(term)}）")
        if meaning:
            return [_decision("trade_name_other_meaning", "pass",
                              f"字号“{trade_name}”同为{what}，因另有含义（{meaning}）可以作为字号", "trade_name")]
        code = "trade_name_is_division" if named_divisions else "trade_name_is_industry"
        return [_decision(code, "error", f"字号“{trade_name}”是{what}，不得作为字号", "trade_name")]
    return [_decision("trade_name", "pass", f"字号“{trade_name}”由两个以上汉字组成，不是行政区划名称或行业用语",
                      "trade_name")]


def _classes_text(term: industries.Term) -> str:
    if not term.codes:
        return "跨行业综合经营，不限于某一行业"
    return "；".join(f"{item['level']} {item['code']} {item['name']}" for item in term.classes())


def _industry_decisions(parsed: ParsedName) -> list[dict]:
    if not parsed.industry:
        return [_decision("industry_absent", "pass", "名称未使用行业或者经营特点用语（跨行业综合经营的企业可以不含），"
                                                     "查重时与各行业的同字号名称比对", "industry")]
    term = industries.classify(parsed.industry)
    return [_decision("industry", "pass", f"行业或者经营特点“{parsed.industry}”按国民经济行业分类（GB/T 4754-2017）"
                                          f"属：{_classes_text(term)}", "industry")]


def _content_decisions(name: str, parsed: ParsedName) -> list[dict]:
    words = word_lists()
    checked = name.replace(parsed.region_written, "") if parsed.region_written else name
    decisions = []
    for category, listed in words["forbidden_words"].items():
        hit = next((word for word in listed if word in checked), None)
        if hit:
            decisions.append(_decision("forbidden_word", "error",
                                       f"名称不得含有{words['category_labels'][category]}（“{hit}”）", "forbidden"))
    restricted = next((word for word in words["restricted_words"] if word in checked), None)
    if restricted:
        decisions.append(_decision("restricted_word", "error",
                                   f"名称中使用“{restricted}”字样须经国务院批准，不能自主申报", "restricted"))
    return decisions or [_decision("content", "pass", "名称未含有禁止或者须经批准方可使用的内容", "forbidden")]


def rule_decisions(name: str, parsed: ParsedName, entity_type: str, authority_code: str) -> list[dict]:
    """Every rule on the name itself, before any comparison with other names, in the order of the name's parts."""
    return [*_character_decisions(name), *_region_decisions(parsed, entity_type, authority_code),
            *_trade_name_decisions(parsed, entity_type), *_industry_decisions(parsed),
            *_org_form_decisions(name, parsed, entity_type), *_content_decisions(name, parsed)]


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
    if divisions.division(authority_code) is None:
        raise Invalid("authority_code", f"登记机关 {authority_code} 不存在")
    return name


def investors_from(raw) -> list[Investor]:
    """The proposed enterprise's enterprise investors as [{name, credit_code?}], names normalised."""
    return [Investor(normalise(item["name"]), item.get("credit_code") or None) for item in raw or ()]


async def check(name: str, entity_type: str, authority_code: str, applicant_id=None, exclude_credit_code=None,
                investors: list[Investor] | None = None, connection=None) -> dict:
    """名称查重 for applicants and staff alike.

    → {available, name, parsed: {region, trade_name, industry, org_form, region_code, industry_classes},
    problems: [{code, message, level, rule}], conflicts: [{name, kind, reason, rule}],
    exceptions: [{name, kind, relation, reason, rule}], decisions: [{code, level, message, rule}]}: the decisions
    explain every rule applied, conflicts and exceptions included, in the order of the name's parts.
    Problems of level "warning" (近似、同音) do not make a name unavailable. A reservation held by `applicant_id`,
    and the entity `exclude_credit_code` itself (a change keeping its name), are not conflicts; `investors` (the
    proposed enterprise's enterprise investors) and `exclude_credit_code` show investment relationships.
    """
    return (await _check_with_horizon(name, entity_type, authority_code, applicant_id, exclude_credit_code,
                                      investors, connection))[0]


async def _check_with_horizon(name: str, entity_type: str, authority_code: str, applicant_id, exclude_credit_code,
                              investors: list[Investor] | None, connection) -> tuple[dict, datetime | None]:
    """check(), and the first moment time alone may change its answer (None: only a write can)."""
    name = _validate_input(name, entity_type, authority_code)
    parsed = parse(name, entity_type, authority_code)
    decisions = rule_decisions(name, parsed, entity_type, authority_code)
    verdict = name_conflicts.Verdict()
    if parsed.trade_name:
        city = authorities.city_code(authority_code)
        rows = await name_conflicts.candidates(city, parsed.trade_name, pinyin_key(parsed.trade_name),
                                               name_conflicts.near_synonym_variants(parsed.trade_name), connection)
        verdict = name_conflicts.judge(rows, parsed.trade_name, parsed.industry, name, entity_type, applicant_id,
                                       exclude_credit_code, investors or [], clock.now())
        decisions += verdict.warnings
        decisions += [_decision("conflict", "error", f"与“{conflict['name']}”冲突：{conflict['reason']}", conflict["rule"])
                      for conflict in verdict.conflicts]
        decisions += [_decision("investment_relationship", "pass", exception["reason"], exception["rule"])
                      for exception in verdict.exceptions]
        if not verdict.conflicts:
            # A municipality's districts share the municipality's registry (city code 110100 is no division).
            area = divisions.division(city) or divisions.division(city[:2] + "0000")
            decisions.append(_decision("no_conflict", "pass", f"同一企业登记机关（{area.name}）内没有字号相同的同行业"
                                                              "或未使用行业字词的有效名称", "conflict"))
    # Conflicts have their own list in the answer; problems are the name's own failings and the warnings.
    problems = [item for item in decisions if item["level"] != "pass" and item["code"] != "conflict"]
    available = not verdict.conflicts and not any(item["level"] == "error" for item in problems)
    return ({"available": available, "name": name, "parsed": parsed.public(), "problems": problems,
             "conflicts": verdict.conflicts, "exceptions": verdict.exceptions, "decisions": decisions},
            verdict.changes_at)


def proposed_name(application) -> str | None:
    """The name the application asks for: an establishment's name, or the new name a change records."""
    if application.business_type == "change":
        for change in (application.entity or {}).get("changes", []):
            if change.get("item") == "name" and change.get("after"):
                return change["after"]
    return application.name


async def application_investors(application, parties: list | None = None) -> list[Investor]:
    """The enterprise investors the application lists: they show an investment relationship (规定第十七条).

    From `parties` (all of the application's) when the caller has read them already."""
    if parties is None:
        parties = await Party.filter(application_id=application.id, role="investor", kind="enterprise")
    return investors_from({"name": party.name, "credit_code": party.credit_code} for party in parties
                          if party.role == "investor" and party.kind == "enterprise")


async def check_for_application(application, parties: list | None = None) -> dict | None:
    """名称查重 of the name an application asks for, with its enterprise investors; None when it names none.

    An entity never conflicts with itself: a change keeps its own registered name, and an approved establishment's
    name is now registered under the credit code it was given. Invalid when the name or the authority cannot be
    checked at all.
    """
    return (await _check_for_application_with_horizon(application, parties))[0]


async def _check_for_application_with_horizon(application, parties: list | None) -> tuple[dict | None,
                                                                                         datetime | None]:
    name = proposed_name(application)
    if not name:
        return None, None
    return await _check_with_horizon(name, application.entity_type, application.authority_id,
                                     application.applicant_id, application.credit_code,
                                     await application_investors(application, parties), None)


async def name_usable_by(application, parties: list | None = None) -> bool:
    """Whether the application's name may still be used by its applicant: available, or reserved by them.

    `parties` as for application_investors."""
    return (await name_usability(application, parties))[0]


async def name_usability(application, parties: list | None = None) -> tuple[bool, datetime | None]:
    """name_usable_by(), and the first moment time alone may change it (a reservation lapsing, a former name's
    protection ending); None when only a write to the names can."""
    try:
        result, changes_at = await _check_for_application_with_horizon(application, parties)
    except Invalid:
        return False, None
    return bool(result and result["available"]), changes_at


def _lock_key(city: str, trade_name: str) -> int:
    digest = hashlib.sha256(f"{city}:{trade_name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def reserve(applicant_id: int, name: str, entity_type: str, authority_code: str, reservation_days: int,
                  investors: list[Investor] | None = None, own_credit_code: str | None = None) -> dict:
    """Hold an available name for the applicant → {id, name, expires_at}; Conflict when not available.

    Of two applicants racing for one 字号 exactly one wins: on PostgreSQL an advisory lock on (city, 字号)
    serialises the check-and-insert, and a unique key on (city, 字号, 行业) backs it on every database.
    Reserving the same name again returns the applicant's existing reservation. `investors` and `own_credit_code`
    (an enterprise changing its name) as for check().
    """
    relations = {"investors": investors, "exclude_credit_code": own_credit_code}
    result = await check(name, entity_type, authority_code, applicant_id=applicant_id, **relations)
    if not result["available"]:
        raise Conflict("该名称不可使用：" + _first_reason(result), field="name", check=result)
    name = result["name"]
    parsed = parse(name, entity_type, authority_code)
    city = authorities.city_code(authority_code)
    now = clock.now()
    try:
        async with in_transaction() as conn:
            if conn.capabilities.dialect == "postgres":
                await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [_lock_key(city, parsed.trade_name)])
            mine = await NameReservation.filter(applicant_id=applicant_id, name=name,
                                                expires_at__gt=now).using_db(conn).first()
            if mine:
                return reservation_view(mine)
            recheck = await check(name, entity_type, authority_code, applicant_id=applicant_id, connection=conn,
                                  **relations)
            if not recheck["available"]:
                raise Conflict("该名称不可使用：" + _first_reason(recheck), field="name", check=recheck)
            await NameReservation.filter(city_code=city, trade_name=parsed.trade_name, industry=parsed.industry,
                                         expires_at__lte=now).using_db(conn).delete()
            reservation = await NameReservation.create(
                applicant_id=applicant_id, name=name, trade_name=parsed.trade_name,
                trade_pinyin=pinyin_key(parsed.trade_name), industry=parsed.industry, entity_type=entity_type,
                authority_code=authority_code, city_code=city, expires_at=now + timedelta(days=reservation_days),
                using_db=conn)
            # Any applicant's list may show this 字号 (or the lapsed reservations just deleted) in a name check.
            invalidation.announce_when_ended(conn, invalidation.APPLICANT_APPLICATIONS)
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
    now = clock.now()
    rows = await NameReservation.filter(applicant_id=applicant_id, expires_at__gt=now).order_by("-created_at")
    return [reservation_view(row) for row in rows]


def parsed_for_registry(name: str, entity_type: str, authority_code: str) -> dict:
    """The columns the registry stores for a name (字号, its pinyin, 行业, 组织形式)."""
    parsed = parse(normalise(name), entity_type, authority_code)
    trade_name = (parsed.trade_name or normalise(name))[:64]
    return {"trade_name": trade_name, "trade_pinyin": pinyin_key(trade_name), "industry": parsed.industry,
            "org_form": parsed.org_form}


"""Applications as the applicant fills them: create, save any part at any time, what is still missing, flow options.

Saving never refuses an incomplete form: a value that is present is validated exactly (422 naming the field,
nothing saved) and what is still absent is listed in `missing`. Every write to the materials claims them first
(lifecycle.claim_materials_write), so a locked application answers 409.
"""
from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from tortoise.transactions import in_transaction

from server import clock
from server.cache import Cache, invalidation
from server.cache.local import LocalCache
from server.canonical import canonical_sha256
from server.config import Settings
from server.db import CompiledSelect
from server.errors import Invalid, NotFound
from server.models.applications import BUSINESS_TYPES, ENTITY_TYPES, Application, Attachment, Party
from server.models.names import RegisteredEntity
from server.services import authorities
from server.services.applications import lifecycle, materials, names
from server.services.applications.identifiers import credit_code_problem, mobile_problem
from server.services.applications.parties import PartyInput, missing_for_parties, validate_parties
from server.services.enterprise_accounts import holders as enterprise_accounts
from server.vocabulary import ApplicationStatus, BusinessType, EntityType

SIMPLE_DEREGISTER_NOTICE_DAYS = 20
MAX_CHANGES = 30
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def summary_view(application: Application) -> dict:
    return {
        "id": str(application.id),
        "business_type": application.business_type,
        "entity_type": application.entity_type,
        "authority_code": application.authority_id,
        "name": application.name,
        "credit_code": application.credit_code,
        "status": application.status,
        "flow": application.flow,
        "snapshot_hash": application.snapshot_hash,
        "created_at": application.created_at.isoformat(),
        "updated_at": application.updated_at.isoformat(),
    }


# The list reads every column but the locked snapshot (large JSON, decrypted for nothing: a row shows its hash).
_LIST_COLUMNS = ("applicant_id", "authority_id",
                 *(field for field in Application._meta.fields_db_projection if field != "snapshot"))
_MINE = CompiledSelect(lambda applicant_id: Application.filter(applicant_id=applicant_id).order_by("-updated_at")
                       .only(*_LIST_COLUMNS))
# Each applicant's list is kept in the worker that read it: the mini-program reopens it after every step, and a row
# costs a name check. It is forgotten on every worker once a write that could change it commits
# (invalidation.APPLICANT_APPLICATIONS: the applicant's applications, or the names register and reservations), and
# expires when time alone could change it: a reservation lapsing, a name's year of protection ending, a new day
# (the notice periods count days). LIST_LIFETIME bounds it beyond that; MAX_KEPT_LISTS bounds the memory.
LIST_LIFETIME = 600.0
MAX_KEPT_LISTS = 10_000
_lists = LocalCache(MAX_KEPT_LISTS, timer=clock.monotonic)
invalidation.topic(invalidation.APPLICANT_APPLICATIONS, _lists.forget)


async def list_for_applicant(applicant_id: int) -> list[dict]:
    """Mine, newest first, each with what it still misses (so the list can say 「待补充N项」)."""
    rows, _ = await _lists.get_or_render(str(applicant_id), lambda: _read_list(applicant_id), _list_lifetime)
    return rows


async def _read_list(applicant_id: int) -> tuple[list[dict], datetime]:
    """The list, and the moment time alone may change it.

    The parties and attachment kinds of every row come from one query each, however many rows there are (a
    query per row made the list's cost grow with the applicant's history)."""
    changes_at = clock.end_of_today()
    rows = await _MINE.fetch(applicant_id)
    if not rows:
        return [], changes_at
    parties, kinds = await _parties_and_kinds([row.id for row in rows])
    listed = []
    for row in rows:
        missing_items, name_changes_at = await _missing_given(row, parties[row.id], kinds[row.id])
        listed.append({**summary_view(row), "missing": missing_items})
        changes_at = min(changes_at, name_changes_at or changes_at)
    return listed, changes_at


def _list_lifetime(kept: tuple[list[dict], datetime]) -> float:
    return min(LIST_LIFETIME, (kept[1] - clock.now()).total_seconds())


async def _parties_and_kinds(ids: list) -> tuple[dict, dict]:
    """For each application id: its parties in position order, and the kinds of its attachments (one query each)."""
    parties: dict = {application_id: [] for application_id in ids}
    for party in await Party.filter(application_id__in=ids).order_by("position"):
        parties[party.application_id].append(party)
    kinds: dict = {application_id: set() for application_id in ids}
    for application_id, kind in await Attachment.filter(application_id__in=ids).values_list("application_id",
                                                                                            "kind"):
        kinds[application_id].add(kind)
    return parties, kinds


async def get_for_applicant(applicant_id: int, application_id) -> Application:
    """The applicant's own application; anyone else's is indistinguishable from a missing one."""
    application = await Application.get_or_none(id=_uuid(application_id), applicant_id=applicant_id)
    if application is None:
        raise NotFound("申请不存在")
    return application


def _uuid(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


# --- create -----------------------------------------------------------------------------------------------------

async def create(applicant_id: int, business_type: str, entity_type: str, authority_code: str,
                 name: str | None = None, credit_code: str | None = None) -> Application:
    """A new draft. Change and deregistration start from the registered entity named by its credit code."""
    if business_type not in BUSINESS_TYPES:
        raise Invalid("business_type", f"业务类型应为 {'、'.join(BUSINESS_TYPES)} 之一")
    if entity_type not in ENTITY_TYPES:
        raise Invalid("entity_type", f"主体类型应为 {'、'.join(ENTITY_TYPES)} 之一")
    authority = await authorities.get_authority(authority_code)
    if business_type == "establish":
        if credit_code is not None:
            raise Invalid("credit_code", "设立登记尚无统一社会信用代码")
        name = _proposed_name(name) if name is not None else None
    else:
        if name is not None:
            raise Invalid("name", "变更、注销登记的名称以已登记的名称为准，无需填写")
        entity = await registered_entity(credit_code, authority.code, entity_type)
        # Seed 001: only the holder of the entity's approved legal-person account may file for it.
        await enterprise_accounts.require_account_holder(applicant_id, entity.credit_code)
        name, credit_code = entity.name, entity.credit_code
    async with in_transaction() as conn:
        application = await Application.create(
            applicant_id=applicant_id, authority_id=authority.code, business_type=business_type,
            entity_type=entity_type, name=name, credit_code=credit_code, entity={}, using_db=conn)
        await lifecycle.record(application.id, lifecycle.APPLICANT_ACTOR, "create", connection=conn)
        invalidation.announce_when_ended(conn, invalidation.APPLICANT_APPLICATIONS, str(applicant_id))
    return application


def _proposed_name(name) -> str | None:
    if not isinstance(name, str):
        raise Invalid("name", "名称应为文本")
    name = names.normalise(name)
    if len(name) > names.MAX_NAME_LENGTH:
        raise Invalid("name", f"企业名称不能超过{names.MAX_NAME_LENGTH}个字")
    return name or None


async def registered_entity(credit_code, authority_code: str, entity_type: str) -> RegisteredEntity:
    """The registered entity a change or deregistration is about: it must exist within the authority's city."""
    if credit_code is None:
        raise Invalid("credit_code", "变更、注销登记请填写已登记主体的统一社会信用代码")
    problem = credit_code_problem(credit_code)
    if problem:
        raise Invalid("credit_code", problem)
    entity = await RegisteredEntity.get_or_none(credit_code=credit_code)
    if entity is None or entity.city_code != authorities.city_code(authority_code):
        raise Invalid("credit_code", "登记机关辖区内没有这一统一社会信用代码的已登记主体")
    if entity.status != "registered":
        raise Invalid("credit_code", "该主体已注销或已变更名称，不能办理此业务")
    if entity.entity_type != entity_type:
        label = EntityType(entity.entity_type).label
        raise Invalid("entity_type", f"该主体登记的类型为{label}")
    return entity


# --- the form (entity fields) ------------------------------------------------------------------------------------

def _field_value(spec: dict, value, field: str):
    """One form field, validated exactly as its type in materials.yaml says; returns the value to store."""
    kind = spec["type"]
    label = spec["label"]
    if kind == "text":
        if not isinstance(value, str):
            raise Invalid(field, f"{label}应为文本")
        value = value.strip()
        if len(value) > spec.get("max_length", 500):
            raise Invalid(field, f"{label}不能超过{spec.get('max_length', 500)}个字")
        return value or None
    if kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise Invalid(field, f"{label}应为数字")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise Invalid(field, f"{label}应为数字") from None
        if not number.is_finite() or number < Decimal(str(spec["min"])) or number > Decimal(str(spec["max"])):
            raise Invalid(field, f"{label}应在{spec['min']}至{spec['max']}之间")
        if number.as_tuple().exponent < -4:
            raise Invalid(field, f"{label}最多保留4位小数")
        return format(number.normalize(), "f")
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(field, f"{label}应为整数")
        if not spec["min"] <= value <= spec["max"]:
            raise Invalid(field, f"{label}应在{spec['min']}至{spec['max']}之间")
        return value
    if kind == "date":
        try:
            if isinstance(value, str) and len(value) == 10:
                return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
        raise Invalid(field, f"{label}应为 YYYY-MM-DD 格式的真实日期")
    if kind == "boolean":
        if not isinstance(value, bool):
            raise Invalid(field, f"{label}应为 true 或 false")
        return value
    if kind == "choice":
        if value not in spec["options"]:
            raise Invalid(field, f"{label}应为 {'、'.join(spec['options'])} 之一")
        return value
    if kind == "phone":
        if not isinstance(value, str) or (mobile_problem(value) and not _LANDLINE.match(value)):
            raise Invalid(field, f"{label}应为手机号码或带区号的固定电话")
        return value
    if kind == "credit_code":
        problem = credit_code_problem(value.upper() if isinstance(value, str) else value)
        if problem:
            raise Invalid(field, problem)
        return value.upper()
    return _changes(value, field)


def _changes(value, field: str) -> list[dict]:
    """变更事项: [{item, before?, after}] — what a change application changes, item by item."""
    if not isinstance(value, list) or len(value) > MAX_CHANGES:
        raise Invalid(field, f"变更事项应为列表（最多{MAX_CHANGES}项）")
    items = materials.change_items()
    result = []
    for index, change in enumerate(value):
        where = f"{field}[{index}]"
        if not isinstance(change, dict) or set(change) - {"item", "before", "after"}:
            raise Invalid(where, "每项变更应为 {item, before, after}")
        if change.get("item") not in items:
            raise Invalid(f"{where}.item", f"变更事项应为 {'、'.join(items)} 之一")
        entry = {"item": change["item"]}
        for key in ("before", "after"):
            text = change.get(key)
            if text is not None and (not isinstance(text, str) or len(text) > 500):
                raise Invalid(f"{where}.{key}", "应为不超过500字的文本")
            entry[key] = text.strip() if isinstance(text, str) else None
        if not entry["after"]:
            raise Invalid(f"{where}.after", f"请填写{items[entry['item']]}变更后的内容")
        result.append(entry)
    return result


def merged_entity(application: Application, patch) -> dict:
    """The form after this partial save: sent keys replace, null clears; unknown fields are refused."""
    if not isinstance(patch, dict):
        raise Invalid("entity", "entity 应为对象")
    specs = {spec["field"]: spec for spec in materials.form_fields(application.business_type, application.entity_type)}
    entity = dict(application.entity or {})
    for key, value in patch.items():
        field = f"entity.{key}"
        if key not in specs:
            raise Invalid(field, f"{BusinessType(application.business_type).label}"
                                 f"（{EntityType(application.entity_type).label}）没有这一项")
        stored = None if value is None else _field_value(specs[key], value, field)
        if stored is None:
            entity.pop(key, None)
        else:
            entity[key] = stored
    _check_notice_period(entity)
    return entity


def _check_notice_period(entity: dict) -> None:
    """简易注销 public notice: 20 days, end after start (counted inclusively)."""
    start, end = entity.get("notice_start"), entity.get("notice_end")
    if start and end:
        days = (date.fromisoformat(end) - date.fromisoformat(start)).days + 1
        if days < SIMPLE_DEREGISTER_NOTICE_DAYS:
            raise Invalid("entity.notice_end", f"简易注销公告期应不少于{SIMPLE_DEREGISTER_NOTICE_DAYS}日（当前{max(days, 0)}日）")


# --- saving ----------------------------------------------------------------------------------------------------

async def update(application: Application, patch: dict, delegate: lifecycle.Delegate | None = None) -> Application:
    """Save part of the form: {name?, entity?, parties?}. Validates everything sent before writing anything.

    A helper saving on the applicant's behalf (代办) passes a `delegate`: checked in the write, on the timeline."""
    updates: dict = {}
    if "name" in patch:
        if application.business_type != "establish":
            raise Invalid("name", "变更、注销登记的名称以已登记的名称为准；新名称请在变更事项中填写")
        updates["name"] = None if patch["name"] is None else _proposed_name(patch["name"])
    if "entity" in patch and patch["entity"] is not None:
        updates["entity"] = merged_entity(application, patch["entity"])
    new_parties = None
    if "parties" in patch and patch["parties"] is not None:
        new_parties = validate_parties(patch["parties"], application.business_type, application.entity_type)
    async with in_transaction() as conn:
        await lifecycle.claim_materials_write(application, conn, delegate)
        if new_parties is not None:
            await _replace_parties(application, new_parties, conn)
        updates["updated_at"] = clock.now()
        await Application.filter(id=application.id).using_db(conn).update(**updates)
        if delegate:
            await lifecycle.record(application.id, delegate.actor, "helper_edit", [{"parts": sorted(patch)}],
                                   connection=conn)
    return await Application.get(id=application.id)


async def _replace_parties(application: Application, parties: list[PartyInput], conn) -> None:
    existing = set(await Party.filter(application_id=application.id).using_db(conn).values_list("id", flat=True))
    for index, party in enumerate(parties):
        if party.id is not None and party.id not in existing:
            raise Invalid(f"parties[{index}].id", "当事人编号不属于本申请")
    await Party.filter(application_id=application.id).using_db(conn).delete()
    await Party.bulk_create([
        Party(id=party.id or uuid.uuid4(), application_id=application.id, position=index, role=party.role,
              kind=party.kind, name=party.name, id_type=party.id_type, id_number=party.id_number, phone=party.phone,
              email=party.email, contact_name=party.contact_name,
              origin=party.origin, credit_code=party.credit_code, share_percent=party.share_percent)
        for index, party in enumerate(parties)
    ], using_db=conn)


async def withdraw(application: Application, applicant_id: int, settings: Settings, cache: Cache) -> Application:
    """撤回 a draft, returned or locked case; from locked_signing every open link dies and signers are told. A filing
    the registrar had seen is then archived with the withdrawal's own retention."""
    # Imported here: the signing and archive packages read this module.
    from server.services.archive import bundles as archive
    from server.services.signing.exits import release_lock

    async with in_transaction() as conn:
        locked = application.status == "locked_signing"
        await lifecycle.transition(application, "withdraw", lifecycle.APPLICANT_ACTOR, connection=conn)
        if locked:
            await release_lock(application, "withdraw", conn)
    await archive.archive_after_outcome(settings, cache, application.id)
    return application


# --- what is still missing ---------------------------------------------------------------------------------------

async def missing(application: Application) -> list[dict]:
    """Everything still needed, all at once (一次性告知): [{field, message, attachment_kind?}]."""
    parties, kinds = await _parties_and_kinds([application.id])
    return (await _missing_given(application, parties[application.id], kinds[application.id]))[0]


async def _missing_given(application: Application, parties: list[Party],
                         kinds: set[str]) -> tuple[list[dict], datetime | None]:
    """missing() from the application's parties (in position order) and the kinds of its attachments, and the
    moment time alone may change whether its name is usable (None: only a write can)."""
    result: list[dict] = []
    name_changes_at = None
    if application.business_type == "establish":
        if not application.name:
            result.append({"field": "name", "message": "请填写企业名称（可先自主核名）"})
        else:
            usable, name_changes_at = await names.name_usability(application, parties)
            if not usable:
                result.append({"field": "name", "message": "名称不符合规定或已被他人使用、保留，请重新核名"})
    elif application.business_type == "change" and names.proposed_name(application) != application.name:
        usable, name_changes_at = await names.name_usability(application, parties)
        if not usable:
            result.append({"field": "entity.changes", "message": "变更后的名称不符合规定或已被他人使用、保留，请重新核名"})
    entity = application.entity or {}
    for spec in materials.form_fields(application.business_type, application.entity_type):
        if spec["required"] and entity.get(spec["field"]) in (None, "", []):
            result.append({"field": f"entity.{spec['field']}", "message": f"请填写{spec['label']}"})
    result += _deregistration_facts(application, entity)
    result += missing_for_parties(parties, application.business_type, application.entity_type)
    conditions = {
        "has_person_party": any(party.kind == "person" for party in parties),
        "has_enterprise_investor": any(party.kind == "enterprise" and party.role == "investor" for party in parties),
    }
    for item in materials.required_materials(application.business_type, application.entity_type):
        if item.get("when") and not conditions[item["when"]]:
            continue
        if materials.is_generated(item, entity):
            continue
        if item["kind"] not in kinds:
            result.append({"field": f"attachments.{item['kind']}", "message": f"请上传{item['name']}",
                           "attachment_kind": item["kind"]})
    return result, name_changes_at


def _deregistration_facts(application: Application, entity: dict) -> list[dict]:
    facts = []
    if application.business_type == "simple_deregister":
        end = entity.get("notice_end")
        if end and date.fromisoformat(end) >= _today():
            facts.append({"field": "entity.notice_end", "message": f"简易注销公告期至{end}届满，届满后方可提交"})
        if entity.get("objections_raised") is True:
            facts.append({"field": "entity.objections_raised",
                          "message": "公告期内有利害关系人提出异议，不能办理简易注销，请改为一般注销"})
    if application.business_type == "deregister" and entity.get("creditor_notice_start"):
        # 清算组应当自成立之日起六十日内在报纸上或者统一的企业信息公示系统公告，债权人申报期四十五日.
        ends = date.fromisoformat(entity["creditor_notice_start"]) + timedelta(days=45)
        if ends > _today():
            facts.append({"field": "entity.creditor_notice_start",
                          "message": f"债权人申报期（公告之日起45日）至{ends.isoformat()}届满，届满后方可提交"})
    for key in ("liquidation_report_confirmed", "tax_cleared"):
        if entity.get(key) is False:
            label = {"liquidation_report_confirmed": "清算报告尚未确认", "tax_cleared": "尚未办结清税手续"}[key]
            facts.append({"field": f"entity.{key}", "message": f"{label}，完成后方可提交"})
    return facts


def _today() -> date:
    return clock.today()


# --- flow options (SPEC Eligibility) -------------------------------------------------------------------------------

async def flow_options(application: Application, missing_items: list | None = None) -> dict:
    """Whether 云帮办 and the general flow are open, and why not: {cloud: {available, reasons}, general: {...}}."""
    parties = await Party.filter(application_id=application.id)
    missing_items = await missing(application) if missing_items is None else missing_items
    common: list[dict] = []
    if application.status not in lifecycle.EDITABLE_STATUSES:
        common.append({"code": "not_editable", "message": f"申请当前状态为「{ApplicationStatus(application.status).label}」，不能提交"})
    if missing_items:
        common.append({"code": "incomplete", "message": f"尚有{len(missing_items)}项未填写或未上传"})
    cloud = list(common)
    foreign = [party.name for party in parties if party.role == "investor" and party.kind == "enterprise"
               and party.origin == "foreign"]
    if foreign:
        cloud.append({"code": "foreign_investor", "message": f"投资人“{foreign[0]}”为境外企业，不适用云帮办"})
    for party in parties:
        if party.role == "legal_rep" and party.id_type and party.id_type != "resident_id":
            cloud.append({"code": "legal_rep_not_resident_id",
                          "message": f"法定代表人（负责人）“{party.name}”的证件不是中国居民身份证，不适用云帮办"})
    return {"cloud": {"available": not cloud, "reasons": cloud},
            "general": {"available": not common, "reasons": common}}


# --- views -----------------------------------------------------------------------------------------------------

def party_view(party: Party) -> dict:
    return {
        "id": str(party.id), "role": party.role, "kind": party.kind, "name": party.name, "id_type": party.id_type,
        "id_number": party.id_number, "phone": party.phone, "email": party.email, "contact_name": party.contact_name,
        "origin": party.origin, "credit_code": party.credit_code,
        "share_percent": None if party.share_percent is None else format(party.share_percent.normalize(), "f"),
    }


def attachment_view(attachment: Attachment) -> dict:
    return {"id": str(attachment.id), "kind": attachment.kind, "sha256": attachment.sha256,
            "content_type": attachment.content_type, "size": attachment.size, "filename": attachment.filename,
            "has_thumbnail": attachment.thumbnail_path is not None, "created_at": attachment.created_at.isoformat()}


async def application_view(application: Application) -> dict:
    """The application object of API.md, with `missing`."""
    parties = await Party.filter(application_id=application.id).order_by("position")
    attachments = await Attachment.filter(application_id=application.id).order_by("created_at")
    missing_items, _ = await _missing_given(application, parties, {attachment.kind for attachment in attachments})
    return {
        **summary_view(application),
        "entity": application.entity or {},
        "parties": [party_view(party) for party in parties],
        "attachments": [attachment_view(attachment) for attachment in attachments],
        "missing": missing_items,
        "materials_version": application.materials_version,
        "auto_submit": application.auto_submit,
    }


# The shape and encoding of the canonical materials, written inside each one: a later change takes a new number, and a
# case locked under an older one is still checked in its own format. 1: no number, hashed as UTF-8 text.
MATERIALS_FORMAT = 2


def materials_format(materials: dict | None) -> int:
    return (materials or {}).get("format", 1)


async def canonical_materials(application: Application, version: int = MATERIALS_FORMAT) -> dict:
    """Every form field and attachment content hash, in a stable shape: what a lock freezes and a signer signs.
    `version`: the format of a snapshot being checked again (materials_format(application.snapshot))."""
    parties = await Party.filter(application_id=application.id).order_by("position")
    attachments = await Attachment.filter(application_id=application.id).order_by("kind", "sha256")
    materials = {
        "business_type": application.business_type,
        "entity_type": application.entity_type,
        "authority_code": application.authority_id,
        "name": application.name,
        "credit_code": application.credit_code,
        "entity": application.entity,
        "parties": [
            {
                "role": p.role, "kind": p.kind, "name": p.name, "id_type": p.id_type, "id_number": p.id_number,
                "phone": p.phone, "origin": p.origin, "credit_code": p.credit_code,
                "share_percent": None if p.share_percent is None else format(p.share_percent.normalize(), "f"),
            }
            for p in parties
        ],
        "attachments": [
            {"kind": a.kind, "sha256": a.sha256, "size": a.size, "content_type": a.content_type} for a in attachments
        ],
    }
    return materials if version == 1 else {"format": version, **materials}


def materials_hash(materials: dict) -> str:
    """SHA-256 over the canonical JSON of the materials, in the format written inside them."""
    if materials_format(materials) == 1:
        text = json.dumps(materials, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
    return canonical_sha256(materials)


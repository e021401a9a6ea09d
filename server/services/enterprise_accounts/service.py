"""Legal-person accounts (法人注册, seed 001) as the registrant sees them: register, edit, submit, cancel, resubmit.

The legal representative registers by verifying their own face; an agent (代理人) registers and the legal
representative signs the 授权委托书 from an SMS link within the signing period. Staff review either (review.py).
An approved account is what 变更 and 注销 applications require (require_account_holder).
"""
from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from server import clock, storage
from server.cache import Cache
from server.config import Settings
from server.crypto import blind_index
from server.errors import Conflict, Invalid, NotFound, TooLarge
from server.models.accounts import Applicant
from server.models.enterprise_accounts import REGISTRANTS, AccountEvent, AuthorisationRequest, EnterpriseAccount
from server.models.names import RegisteredEntity
from server.services import authorities
from server.services.applications import attachments, names
from server.services.applications.identifiers import (ID_TYPES, credit_code_problem, id_number_problem, mask_id_number,
                                                      mask_phone, mobile_problem, normalise_id_number)
from server.services.enterprise_accounts import authorisation, states
from server.services.enterprise_accounts.states import EDITABLE_STATUSES
from server.services.notifications import messages as notifications
from server.vocabulary import EnterpriseAccountAction, EnterpriseAccountStatus, Registrant

# Seed 001, 代理人注册: what the client must show before the agent submits.
AGENT_NOTICE = "系统将向法定代表人手机发送签名短信，请确保手机号码为法定代表人本人号码"
# Seed 001: e-signature only for a legal representative with a 居民身份证; others keep the former, offline route.
OFFLINE_ROUTE = ("电子签名目前只支持持居民身份证的法定代表人。法定代表人的证件为其他类型（如护照）的，不能在线完成法人注册，"
                 "请按原流程办理：携带营业执照、法定代表人身份证件和法定代表人授权委托书原件到登记机关窗口办理法人注册。")
STATE_MESSAGES = {
    "signing": "已向法定代表人手机发送签名短信，等待法定代表人在{deadline}前完成人脸核验和电子签名。"
               "若法定代表人长时间未收到短信，可将下方网址直接发给法定代表人进行电子签名。",
    "expired": "法定代表人未在规定时间内完成电子签名，注册申请未生效。点击“重新提交”将再次向法定代表人发送签名短信。",
    "declined": "法定代表人拒绝签名（{reason}）。修改后点击“重新提交”将再次向法定代表人发送签名短信。",
    "pending_review": "注册信息已提交，等待登记机关人工审核，审核结果将以短信通知。",
    "approved": "法人注册审核通过，可以办理变更、注销等业务。",
    "rejected": "审核未通过：{reason}。请修改后重新提交；修改法定代表人姓名、身份证号、手机号码、单位名称、统一社会信用代码"
                "或授权委托书的，须法定代表人重新电子签名。",
    "revoked": "法定代表人已撤销代理人授权。",
}


class OfflineRouteRequired(Invalid):
    def __init__(self, field: str):
        super().__init__(field, OFFLINE_ROUTE, code="offline_route_required")


# --- input --------------------------------------------------------------------------------------------------------

def _person(raw, field: str, *, needs_phone: bool) -> dict:
    if not isinstance(raw, dict):
        raise Invalid(field, "应为对象 {name, id_type, id_number, phone}")
    unknown = set(raw) - {"name", "id_type", "id_number", "phone"}
    if unknown:
        raise Invalid(f"{field}.{sorted(unknown)[0]}", "不认识的字段")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 64:
        raise Invalid(f"{field}.name", "姓名应为1至64个字")
    id_type = raw.get("id_type")
    if id_type not in ID_TYPES:
        raise Invalid(f"{field}.id_type", f"证件类型应为 {'、'.join(ID_TYPES)} 之一")
    id_number = normalise_id_number(id_type, raw.get("id_number"))
    problem = id_number_problem(id_type, id_number)
    if problem:
        raise Invalid(f"{field}.id_number", problem)
    phone = raw.get("phone")
    if phone is not None or needs_phone:
        problem = mobile_problem(phone)
        if problem:
            raise Invalid(f"{field}.phone", problem)
    return {"name": name.strip(), "id_type": id_type, "id_number": id_number, "phone": phone}


def _columns(registrant: str, legal_rep: dict, agent: dict | None) -> dict:
    columns = {"registrant": registrant, "legal_rep_name": legal_rep["name"], "legal_rep_id_type": legal_rep["id_type"],
               "legal_rep_id_number": legal_rep["id_number"], "legal_rep_phone": legal_rep["phone"],
               "agent_name": None, "agent_id_type": None, "agent_id_number": None, "agent_phone": None}
    if agent:
        columns.update(agent_name=agent["name"], agent_id_type=agent["id_type"], agent_id_number=agent["id_number"],
                       agent_phone=agent["phone"])
    # A guarded UPDATE (edit) writes these columns as given: the blind indexes go with their values.
    columns.update(legal_rep_id_number_index=blind_index(columns["legal_rep_id_number"]),
                   legal_rep_phone_index=blind_index(columns["legal_rep_phone"]),
                   agent_id_number_index=blind_index(columns["agent_id_number"]))
    return columns


def validated(body: dict) -> dict:
    """The registration's columns from {credit_code, entity_name, registrant, legal_rep, agent?}; Invalid names the field."""
    unknown = set(body) - {"credit_code", "entity_name", "registrant", "legal_rep", "agent"}
    if unknown:
        raise Invalid(sorted(unknown)[0], "不认识的字段")
    registrant = body.get("registrant")
    if registrant not in REGISTRANTS:
        raise Invalid("registrant", "registrant 应为 legal_rep（我是法定代表人）或 agent（我是代理人）")
    problem = credit_code_problem(body.get("credit_code"))
    if problem:
        raise Invalid("credit_code", problem)
    entity_name = body.get("entity_name")
    if not isinstance(entity_name, str) or not names.normalise(entity_name):
        raise Invalid("entity_name", "请填写单位名称")
    legal_rep = _person(body.get("legal_rep"), "legal_rep", needs_phone=True)
    if legal_rep["id_type"] != "resident_id":
        raise OfflineRouteRequired("legal_rep.id_type")
    agent = None
    if registrant == "agent":
        agent = _person(body.get("agent"), "agent", needs_phone=True)
        if agent["id_number"] == legal_rep["id_number"]:
            raise Invalid("registrant", "代理人即法定代表人本人的，请选择“我是法定代表人”注册")
    elif body.get("agent") is not None:
        raise Invalid("agent", "法定代表人本人注册时无需填写代理人")
    return {"credit_code": body["credit_code"], "entity_name": names.normalise(entity_name),
            **_columns(registrant, legal_rep, agent)}


async def _registered(credit_code: str, entity_name: str) -> RegisteredEntity:
    """The credit code and name must be those of a registered entity (an approved filing enters the registry)."""
    entity = await RegisteredEntity.get_or_none(credit_code=credit_code)
    if entity is None or entity.status != "registered":
        raise Invalid("credit_code", "登记系统中没有这一统一社会信用代码的存续主体，请核对营业执照")
    if entity.name != entity_name:
        raise Invalid("entity_name", "单位名称与登记的名称不一致，请按营业执照填写")
    await authorities.get_authority(entity.authority_code, field="credit_code")
    return entity


async def _refuse_if_taken(credit_code: str, except_id=None) -> None:
    """Conflict while another account of the enterprise is live; one whose signing period ran out is expired first."""
    query = EnterpriseAccount.filter(live_credit_code=credit_code)
    if except_id is not None:
        query = query.exclude(id=except_id)
    holder = await query.first()
    if holder is not None and (await authorisation.expire_if_due(holder)).status in states.LIVE_STATUSES:
        raise Conflict(states.TAKEN, field="credit_code")


# --- the registrant's actions -------------------------------------------------------------------------------------

async def register(applicant_id: int, body: dict) -> EnterpriseAccount:
    """A draft registration; the answer (view) carries the notice an agent must see before submitting."""
    columns = validated(body)
    entity = await _registered(columns["credit_code"], columns["entity_name"])
    await _refuse_if_taken(columns["credit_code"])
    async with in_transaction() as conn:
        account = await EnterpriseAccount.create(applicant_id=applicant_id, authority_id=entity.authority_code,
                                                 entity_type=entity.entity_type, **columns, using_db=conn)
        await states.record(account.id, _actor(account), "create", to_status="draft", connection=conn)
    return account


async def edit(account: EnterpriseAccount, body: dict) -> EnterpriseAccount:
    """Correct the registration (a draft, a rejected, expired or declined one); the whole form is sent again."""
    columns = validated(body)
    entity = await _registered(columns["credit_code"], columns["entity_name"])
    await _refuse_if_taken(columns["credit_code"], except_id=account.id)
    changed = await EnterpriseAccount.filter(id=account.id, status__in=EDITABLE_STATUSES).update(
        authority_id=entity.authority_code, entity_type=entity.entity_type, **columns)
    if changed != 1:
        raise Conflict(f"法人注册当前状态为「{EnterpriseAccountStatus(account.status).label}」，不能修改")
    await states.record(account.id, _actor(account), "edit")
    await account.refresh_from_db()
    return account


async def store_license(settings: Settings, account: EnterpriseAccount, data: bytes) -> EnterpriseAccount:
    """The business-license image (营业执照): checked and cleaned like every attachment; a non-key edit."""
    if account.status not in EDITABLE_STATUSES:
        raise Conflict(f"法人注册当前状态为「{EnterpriseAccountStatus(account.status).label}」，不能修改")
    if len(data) > settings.uploads.max_bytes:
        raise TooLarge(f"文件不能超过 {settings.uploads.max_bytes // (1024 * 1024)} MB", field="file")
    prepared = await asyncio.to_thread(attachments.prepare, data, settings.uploads)
    extension = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}[prepared.content_type]
    relative = f"enterprise-accounts/{account.id}/{secrets.token_hex(16)}.{extension}"
    await storage.put(settings, storage.UPLOADS, relative, prepared.data)
    changed = await EnterpriseAccount.filter(id=account.id, status__in=EDITABLE_STATUSES).update(
        license_path=relative, license_sha256=hashlib.sha256(prepared.data).hexdigest(),
        license_content_type=prepared.content_type)
    if changed != 1:
        await storage.delete(settings, storage.UPLOADS, relative)
        raise Conflict("法人注册已提交，不能修改")
    await account.refresh_from_db()
    return account


def license_file(account: EnterpriseAccount) -> tuple[str, str]:
    """(key in the uploads area, content type) of the business-license image."""
    if not account.license_path:
        raise NotFound("尚未上传营业执照")
    return account.license_path, account.license_content_type


async def submit(account: EnterpriseAccount, settings: Settings, cache: Cache, wechat,
                 verify_result: str | None = None) -> dict:
    """提交 (and 重新提交): the legal representative with their face check → review; an agent's → the SMS link.

    After a rejection an edit that leaves the confirmed letter unchanged goes straight back to review (seed 001).
    Answers {account, signing?: {link, expires_at}}.
    """
    account = await authorisation.expire_if_due(account)
    if not account.license_path:
        raise Invalid("license", "请上传营业执照")
    await _refuse_if_taken(account.credit_code, except_id=account.id)
    letter_hash = authorisation.letter_hash(authorisation.letter_of(account))
    if account.status == "rejected" and account.confirmed_letter_hash == letter_hash:
        await states.transition(account, "resubmit", _actor(account), "修改未涉及须重新签名的事项", submitted_at=clock.now())
        return {"account": await view(account)}
    if account.registrant == "legal_rep":
        states.target_status("submit_verified", account.status)
        await authorisation.verify_legal_rep_face(account, verify_result, settings, cache, wechat)
        await states.transition(account, "submit_verified", _actor(account), "法定代表人本人人脸核验通过",
                                confirmed_letter_hash=letter_hash, submitted_at=clock.now())
        return {"account": await view(account)}
    states.target_status("request_signature", account.status)
    async with in_transaction() as conn:
        await states.transition(account, "request_signature", _actor(account), AGENT_NOTICE, connection=conn)
        signing = await authorisation.open_request(account, settings, conn)
    return {"account": await view(account, signing), "signing": signing}


async def cancel(account: EnterpriseAccount) -> EnterpriseAccount:
    """取消提交 while signing: back to the form (e.g. to correct the legal representative's phone); the link dies."""
    account = await authorisation.expire_if_due(account)
    async with in_transaction() as conn:
        await states.transition(account, "cancel", _actor(account), "代理人取消提交", connection=conn)
        await AuthorisationRequest.filter(account_id=account.id, status="pending").using_db(conn).update(
            status="replaced", closed_at=clock.now())
    return account


async def relink(account: EnterpriseAccount, settings: Settings) -> dict:
    """A fresh link to forward by hand (seed 001); the old one dies, the signing period stays, no SMS is sent."""
    account = await authorisation.expire_if_due(account)
    request = await authorisation.current_request(account)
    if account.status != "signing" or request is None:
        raise Conflict(f"法人注册当前状态为「{EnterpriseAccountStatus(account.status).label}」，没有待签名的链接")
    async with in_transaction() as conn:
        signing = await authorisation.open_request(account, settings, conn, expires_at=request.expires_at,
                                                   send_sms=False)
        await states.record(account.id, _actor(account), "relink", connection=conn)
    return signing


async def revoke(account: EnterpriseAccount, settings: Settings, cache: Cache, wechat, verify_result: str) -> EnterpriseAccount:
    """The legal representative withdraws the agent's authority (proved by their own face check)."""
    if account.registrant != "agent":
        raise Conflict("该账号由法定代表人本人注册，没有可撤销的代理人授权")
    states.target_status("revoke", account.status)
    await authorisation.verify_legal_rep_face(account, verify_result, settings, cache, wechat)
    async with in_transaction() as conn:
        await states.transition(account, "revoke", f"法定代表人 {account.legal_rep_name}", "撤销代理人授权",
                                connection=conn, revoked_at=clock.now())
        if account.agent_phone:
            await notifications.enqueue_sms(account.agent_phone, "account_result", {
                "entity": account.entity_name, "result": "的代理人授权已由法定代表人撤销"}, connection=conn,
                authority=account.authority_id)
    return account


# --- reading ------------------------------------------------------------------------------------------------------

async def get_for_applicant(applicant_id: int, account_id) -> EnterpriseAccount:
    account = await EnterpriseAccount.get_or_none(id=_uuid(account_id), applicant_id=applicant_id)
    if account is None:
        raise NotFound("法人注册不存在")
    return await authorisation.expire_if_due(account)


async def readable_by(applicant_id: int, account_id) -> EnterpriseAccount:
    """The registrant's account, or one naming the caller (by their verified phone) as its legal representative."""
    account = await EnterpriseAccount.filter(_mine(await Applicant.get_or_none(id=applicant_id), applicant_id),
                                             id=_uuid(account_id)).first()
    if account is None:
        raise NotFound("法人注册不存在")
    return await authorisation.expire_if_due(account)


def _mine(applicant: Applicant | None, applicant_id: int) -> Q:
    mine = Q(applicant_id=applicant_id)
    if applicant is not None and applicant.phone:
        mine |= Q(legal_rep_phone_index=blind_index(applicant.phone), registrant="agent")
    return mine


async def get_for_legal_rep(account_id) -> EnterpriseAccount:
    """Any logged-in person may ask to revoke; the face check then decides whether they are the legal representative."""
    account = await EnterpriseAccount.get_or_none(id=_uuid(account_id))
    if account is None:
        raise NotFound("法人注册不存在")
    return account


async def list_for_applicant(applicant_id: int) -> list[dict]:
    """法人注册结果: the registrations I made, and those naming me as legal representative (by my verified phone),
    each with my_role, so a legal representative finds the authority they may revoke."""
    accounts = await EnterpriseAccount.filter(_mine(await Applicant.get_or_none(id=applicant_id), applicant_id)).order_by(
        "-updated_at")
    return [{**summary(await authorisation.expire_if_due(account)),
             "my_role": "registrant" if account.applicant_id == applicant_id else "legal_rep"} for account in accounts]


def _uuid(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def _actor(account: EnterpriseAccount) -> str:
    return f"代理人 {account.agent_name}" if account.registrant == "agent" else f"法定代表人 {account.legal_rep_name}"


def summary(account: EnterpriseAccount) -> dict:
    return {
        "id": str(account.id), "credit_code": account.credit_code, "entity_name": account.entity_name,
        "entity_type": account.entity_type, "authority_code": account.authority_id, "registrant": account.registrant,
        "registrant_label": Registrant(account.registrant).label, "status": account.status, "status_label": EnterpriseAccountStatus(account.status).label,
        "submitted_at": account.submitted_at.isoformat() if account.submitted_at else None,
        "created_at": account.created_at.isoformat(), "updated_at": account.updated_at.isoformat(),
    }


def masked_people(account: EnterpriseAccount) -> dict:
    people = {"legal_rep": {"name": account.legal_rep_name, "id_type": account.legal_rep_id_type,
                            "id_number": mask_id_number(account.legal_rep_id_number),
                            "phone": mask_phone(account.legal_rep_phone)}}
    if account.registrant == "agent":
        people["agent"] = {"name": account.agent_name, "id_type": account.agent_id_type,
                           "id_number": mask_id_number(account.agent_id_number), "phone": mask_phone(account.agent_phone)}
    return people


async def history(account: EnterpriseAccount) -> list[dict]:
    """法人注册结果: every step with its time and who took it."""
    return [{"at": event.at.isoformat(), "actor": event.actor, "action": event.action,
             "action_label": EnterpriseAccountAction.label_of(event.action, event.action), "from_status": event.from_status,
             "to_status": event.to_status, "comment": event.comment}
            for event in await AccountEvent.filter(account_id=account.id).order_by("at", "id")]


async def view(account: EnterpriseAccount, signing: dict | None = None) -> dict:
    """The registrant's page: state, what it means (as seed 001 shows it), the masked particulars and the history."""
    request = await AuthorisationRequest.filter(account_id=account.id).exclude(status="replaced").order_by(
        "-created_at").first()
    deadline = request.expires_at.astimezone(clock.CHINA).strftime("%Y-%m-%d %H:%M") if request else ""
    reason = account.reject_reason if account.status == "rejected" else (request.decline_reason if request else "")
    answer = {**summary(account), **masked_people(account), "license_uploaded": bool(account.license_path),
              "message": STATE_MESSAGES.get(account.status, "").format(deadline=deadline, reason=reason or ""),
              "reject_reason": account.reject_reason, "history": await history(account)}
    if account.status == "draft" and account.registrant == "agent":
        answer["notice"] = AGENT_NOTICE
    if account.status == "signing" and request is not None:
        answer["signing"] = {"expires_at": request.expires_at.isoformat(), **(signing or {})}
    if account.status == "declined" and request is not None:
        answer["decline_reason"] = request.decline_reason
    if account.status == "rejected":
        letter_hash = authorisation.letter_hash(authorisation.letter_of(account))
        answer["resign_required"] = account.confirmed_letter_hash != letter_hash
    return answer

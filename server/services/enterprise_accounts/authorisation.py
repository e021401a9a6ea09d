"""The 法定代表人授权委托书: the letter, its SMS link, the legal representative's face check, signature and decline.

The signing module's rules are reused as they are: 256-bit link tokens stored only as SHA-256, WeChat face
verification judged by `signing.face.judge` (fresh, unused, this person's name and ID), the handwritten PNG checked
by `signing.signatures.signature_png`, and every signature or decline appended to the one evidence chain.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from tortoise.exceptions import IntegrityError

from server import clock
from server.cache import Cache
from server.canonical import canonical_sha256
from server.config import Settings
from server.errors import Conflict, Gone, Invalid, NotFound
from server.models.enterprise_accounts import (AccountFaceCheck, AuthorisationRequest, AuthorisationSignature,
                                               EnterpriseAccount)
from server.models.signing import FaceVerification
from server.services.applications.identifiers import id_number_evidence, mask_id_number, mask_name, mask_phone
from server.services.enterprise_accounts import states
from server.services.notifications import messages as notifications
from server.services.ratelimit import hit_window
from server.services.signing import evidence
from server.services.signing.face import REASONS as FACE_REASONS
from server.services.signing.face import int_or_none, judge, wechat_result
from server.services.signing.links import hash_token
from server.services.signing.signatures import FaceRequired, _store_image, signature_png
from server.vocabulary import IdType

LINK_UNKNOWN = "签名链接无效，请核对短信中的链接"
LINK_GONE = "签名链接已失效（已签名、已过期、已取消或已重新发送），如需签名请联系代理人重新提交"
SCOPE = ("代表本单位在一窗通平台注册法人账号，并以本单位名义办理变更登记、一般注销登记、简易注销登记等涉企政务服务事项。"
         "代理人在授权范围内办理的事项，本单位均予以承认。")
TERM = "本授权自法定代表人签名之日起，至法定代表人撤销授权之日止。"


def letter_of(account: EnterpriseAccount) -> dict:
    """What the legal representative confirms: for an agent the 授权委托书, for themselves their particulars.

    It holds exactly the items seed 001 says need a new signature when edited after a rejection (the legal
    representative's name, ID number and phone, the entity name, the credit code, the authorisation itself).
    """
    letter = {
        "title": "法定代表人授权委托书" if account.registrant == "agent" else "法人注册信息确认",
        "entity_name": account.entity_name, "credit_code": account.credit_code,
        "legal_rep": {"name": account.legal_rep_name, "id_type": account.legal_rep_id_type,
                      "id_number": account.legal_rep_id_number, "phone": account.legal_rep_phone},
    }
    if account.registrant == "agent":
        letter["agent"] = {"name": account.agent_name, "id_type": account.agent_id_type,
                           "id_number": account.agent_id_number}
        letter["scope"], letter["term"] = SCOPE, TERM
    return letter


def letter_hash(letter: dict) -> str:
    return canonical_sha256(letter)


def readable_letter(letter: dict) -> dict:
    """The letter as a link-holder or a reviewer reads it: every ID number and phone masked."""
    rep = letter["legal_rep"]
    rows = [("委托单位", letter["entity_name"]), ("统一社会信用代码", letter["credit_code"]),
            ("法定代表人", rep["name"]),
            (IdType.label_of(rep["id_type"], "证件") + "号码", mask_id_number(rep["id_number"])),
            ("法定代表人手机", mask_phone(rep["phone"]))]
    paragraphs = []
    agent = letter.get("agent")
    if agent:
        rows += [("代理人", agent["name"]),
                 ("代理人" + IdType.label_of(agent["id_type"], "证件") + "号码", mask_id_number(agent["id_number"]))]
        paragraphs = [f"兹委托 {agent['name']} 为本单位代理人，{letter['scope']}", letter["term"]]
    return {"title": letter["title"], "rows": rows, "paragraphs": paragraphs}


# --- face verification (either path) ----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Person:
    """Whom `signing.face.judge` compares the WeChat result with."""

    signer_name: str
    id_number: str


async def verify_legal_rep_face(account: EnterpriseAccount, verify_result: str, settings: Settings, cache: Cache,
                                wechat, request: AuthorisationRequest | None = None) -> AccountFaceCheck:
    """The WeChat face check proves the person is this account's legal representative; Invalid(verify_result) if not."""
    if not isinstance(verify_result, str) or not verify_result.strip():
        raise Invalid("verify_result", "请先完成人脸核验")
    await hit_window(cache, f"account-face:{account.id}", limit=settings.signing.face_attempts_per_hour, window=3600,
                     message="人脸核验尝试次数过多，请一小时后再试")
    result_hash = hashlib.sha256(verify_result.encode("utf-8")).hexdigest()
    # One result proves one act: it is refused here when a signing link (or an account) already used it.
    if await AccountFaceCheck.exists(verify_result_hash=result_hash) or await FaceVerification.exists(
            verify_result_hash=result_hash):
        raise Invalid("verify_result", FACE_REASONS["face_replayed"], code="face_replayed")
    info = await wechat_result(wechat, verify_result)
    person = _Person(account.legal_rep_name, account.legal_rep_id_number)
    # identify_time is WeChat's own clock, compared with the real time as the signing module does.
    reason = judge(info, person, settings.wechat.face_result_max_age_seconds)
    try:
        check = await AccountFaceCheck.create(
            account_id=account.id, request_id=request.id if request else None, verify_result_hash=result_hash,
            passed=reason is None, reason=reason, identify_time=int_or_none(info.get("identify_time")),
            openid=str(info.get("openid") or "") or None, user_id_key=str(info.get("user_id_key") or "") or None,
            created_at=clock.now())
    except IntegrityError:
        raise Invalid("verify_result", FACE_REASONS["face_replayed"], code="face_replayed") from None
    if reason is not None:
        message = FACE_REASONS[reason]
        if reason == "face_mismatch":
            message = "人脸核验的身份与法定代表人不符：须由法定代表人本人核验"
        raise Invalid("verify_result", message, code=reason)
    return check


async def passed_check(request: AuthorisationRequest, max_age_seconds: int) -> AccountFaceCheck | None:
    check = await AccountFaceCheck.filter(request_id=request.id, passed=True).order_by("-created_at").first()
    if check is None or (clock.now() - check.created_at).total_seconds() > max_age_seconds:
        return None
    return check


# --- links ---------------------------------------------------------------------------------------------------------

def link_for(settings: Settings, token: str) -> str:
    return f"{settings.base_url}/a/{token}"


async def open_request(account: EnterpriseAccount, settings: Settings, connection, *, expires_at=None,
                       send_sms: bool = True) -> dict:
    """A new link for the legal representative (the old one dies); SMS through the outbox in the caller's transaction.

    A resubmission starts a new signing period; a link made again for forwarding by hand keeps the period.
    """
    moment = clock.now()
    await AuthorisationRequest.filter(account_id=account.id, status="pending").using_db(connection).update(
        status="replaced", closed_at=moment)
    token = secrets.token_urlsafe(32)
    letter = letter_of(account)
    hours = settings.enterprise_accounts.signing_hours
    request = await AuthorisationRequest.create(
        account_id=account.id, token_hash=hash_token(token), letter=letter, letter_hash=letter_hash(letter),
        signer_name=account.legal_rep_name, id_number=account.legal_rep_id_number, phone=account.legal_rep_phone,
        expires_at=expires_at or moment + timedelta(hours=hours), created_at=moment, using_db=connection)
    link = link_for(settings, token)
    if send_sms:
        await notifications.enqueue_sms(account.legal_rep_phone, "account_signing_link", {
            "signer": account.legal_rep_name, "agent": account.agent_name or "", "entity": account.entity_name,
            "hours": hours, "link": link}, connection=connection, authority=account.authority_id)
    return {"link": link, "expires_at": request.expires_at.isoformat()}


async def current_request(account: EnterpriseAccount) -> AuthorisationRequest | None:
    return await AuthorisationRequest.filter(account_id=account.id, status="pending").order_by("-created_at").first()


async def expire_if_due(account: EnterpriseAccount) -> EnterpriseAccount:
    """Seed 001: unsigned after the signing period, the registration shows as expired."""
    if account.status != "signing":
        return account
    request = await current_request(account)
    if request is not None and request.expires_at > clock.now():
        return account
    try:
        return await states.transition(account, "expire", "系统", "法定代表人未在规定时间内完成电子签名")
    except Conflict:
        await account.refresh_from_db()
        return account


async def live_request(token: str) -> AuthorisationRequest:
    """The pending request behind a link, with its account; 404 unknown, 410 used/expired/replaced/outdated."""
    request = await AuthorisationRequest.get_or_none(token_hash=hash_token(token or "")).prefetch_related("account")
    if request is None:
        raise NotFound(LINK_UNKNOWN)
    account = await expire_if_due(request.account)
    if (request.status != "pending" or request.expires_at <= clock.now() or account.status != "signing"
            or letter_hash(letter_of(account)) != request.letter_hash):
        raise Gone(LINK_GONE)
    return request


async def signing_view(request: AuthorisationRequest, settings: Settings) -> dict:
    check = await passed_check(request, settings.wechat.face_result_max_age_seconds)
    return {
        "letter": readable_letter(request.letter), "letter_hash": request.letter_hash,
        "signer": {"name": mask_name(request.signer_name)},
        "status": "face_verified" if check else "pending", "expires_at": request.expires_at.isoformat(),
    }


async def sign(request: AuthorisationRequest, settings: Settings, cache: Cache, *, signature_png_base64: str | None,
               geolocation: dict | None, ip: str, user_agent: str) -> dict:
    """The legal representative signs the letter (after a recent face check) → the account awaits review."""
    account = request.account
    check = await passed_check(request, settings.wechat.face_result_max_age_seconds)
    if check is None:
        raise FaceRequired()
    image = signature_png(signature_png_base64, settings.signing.signature_max_bytes)
    image_sha256, image_path = await _store_image(settings, image)
    signed_at = clock.now()

    async def write(conn):
        changed = await AuthorisationRequest.filter(id=request.id, status="pending").using_db(conn).update(
            status="signed", closed_at=signed_at)
        if changed != 1:
            raise Gone(LINK_GONE)
        entry = await evidence.append(conn, account.id, "account_authorisation", {
            "account_id": str(account.id), "request_id": str(request.id), "letter_hash": request.letter_hash,
            "signer": {"name": request.signer_name, "role": "legal_rep", **id_number_evidence(request.id_number)},
            "server_time": signed_at.isoformat(), "ip": ip, "user_agent": user_agent, "geolocation": geolocation,
            "face_verification": {"id": str(check.id), "identify_time": check.identify_time, "openid": check.openid,
                                  "user_id_key": check.user_id_key},
            "signature_image_sha256": image_sha256,
        }, notary=settings.notary.enabled)
        await AuthorisationSignature.create(request_id=request.id, account_id=account.id,
                                            letter_hash=request.letter_hash, signed_at=signed_at,
                                            image_sha256=image_sha256, image_path=image_path, evidence_seq=entry.seq,
                                            using_db=conn)
        await states.transition(account, "sign", f"法定代表人 {request.signer_name}", "已签署法定代表人授权委托书",
                                connection=conn, confirmed_letter_hash=request.letter_hash, submitted_at=signed_at)
        return entry

    entry = await evidence.appending(cache, write)
    return {"status": "signed", "signed_at": signed_at.isoformat(),
            "evidence": {"seq": entry.seq, "prev_hash": entry.prev_hash, "entry_hash": entry.entry_hash}}


async def decline(request: AuthorisationRequest, settings: Settings, cache: Cache, reason: str, *, ip: str,
                  user_agent: str) -> dict:
    """The legal representative refuses, with a reason; the agent is told by SMS."""
    account = request.account
    declined_at = clock.now()

    async def write(conn):
        changed = await AuthorisationRequest.filter(id=request.id, status="pending").using_db(conn).update(
            status="declined", decline_reason=reason, closed_at=declined_at)
        if changed != 1:
            raise Gone(LINK_GONE)
        entry = await evidence.append(conn, account.id, "account_authorisation_declined", {
            "account_id": str(account.id), "request_id": str(request.id), "letter_hash": request.letter_hash,
            "signer": {"name": request.signer_name, "role": "legal_rep"}, "reason": reason,
            "server_time": declined_at.isoformat(), "ip": ip, "user_agent": user_agent,
        }, notary=settings.notary.enabled)
        await states.transition(account, "decline", f"法定代表人 {request.signer_name}", reason, connection=conn)
        if account.agent_phone:
            await notifications.enqueue_sms(account.agent_phone, "account_declined",
                                            {"entity": account.entity_name, "reason": reason}, connection=conn,
                                            authority=account.authority_id)
        return entry

    entry = await evidence.appending(cache, write)
    return {"status": "declined", "declined_at": declined_at.isoformat(), "evidence": {"seq": entry.seq}}

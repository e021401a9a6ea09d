"""Staff review of legal-person accounts: the queue of the enterprise's authority, the detail, approve or reject.

Either decision reaches the registrant by SMS (seed 001: 注册是否通过均会有短信提示).
"""
from __future__ import annotations

import asyncio
import json

from tortoise.transactions import in_transaction

from server import clock, storage
from server.errors import Invalid, NotFound
from server.config import Settings
from server.models.accounts import Staff
from server.models.enterprise_accounts import STATUSES, AuthorisationRequest, AuthorisationSignature, EnterpriseAccount
from server.models.signing import EvidenceEntry
from server.services.accounts.staff import require_role
from server.services.authorities import scope_prefix
from server.services.enterprise_accounts import authorisation, letter_pdf, service, states
from server.services.signing import evidence
from server.services.notifications import messages as notifications
from server.vocabulary import EnterpriseAccountStatus
from server.services.review import audit
from server.services.review.audit import Origin

PAGE_SIZE = 20


def _actor(staff: Staff) -> str:
    return f"审核员 {staff.display_name or staff.username}"


async def queue(staff: Staff, status: str | None = "pending_review", page: int = 1) -> dict:
    """Accounts of enterprises within the staff member's authority, oldest submission first."""
    if status is not None and status not in STATUSES:
        raise Invalid("status", f"status 应为 {'、'.join(STATUSES)} 之一")
    if page < 1:
        raise Invalid("page", "页码应为正整数")
    query = EnterpriseAccount.filter(authority_id__startswith=scope_prefix(staff.authority))
    if status:
        query = query.filter(status=status)
    total = await query.count()
    rows = await query.order_by("submitted_at", "created_at").offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    return {"total": total, "page": page, "page_size": PAGE_SIZE,
            "items": [{**service.summary(row), **service.masked_people(row)} for row in rows]}


async def account_for_staff(staff: Staff, account_id) -> EnterpriseAccount:
    account = await EnterpriseAccount.get_or_none(id=service._uuid(account_id),
                                                  authority_id__startswith=scope_prefix(staff.authority))
    if account is None:
        raise NotFound("法人注册不存在")
    return await authorisation.expire_if_due(account)


async def detail(staff: Staff, account_id, origin: Origin) -> dict:
    """Everything a reviewer checks: particulars (masked), the letter the legal representative confirmed, the evidence."""
    account = await account_for_staff(staff, account_id)
    await audit.record(staff, origin, "account_view", detail=_audited(account))
    letter = authorisation.letter_of(account)
    signatures = []
    for signature in await AuthorisationSignature.filter(account_id=account.id).order_by("signed_at"):
        entry = await EvidenceEntry.get_or_none(seq=signature.evidence_seq)
        request = await AuthorisationRequest.get(id=signature.request_id)
        signatures.append({
            "signed_at": signature.signed_at.isoformat(), "letter_hash": signature.letter_hash,
            "letter": authorisation.readable_letter(request.letter),
            "current": signature.letter_hash == account.confirmed_letter_hash,
            "image_sha256": signature.image_sha256, "evidence_seq": signature.evidence_seq,
            "entry_hash": entry.entry_hash if entry else None, "prev_hash": entry.prev_hash if entry else None,
            "evidence": _masked_evidence(entry.payload) if entry else None,
        })
    return {**await service.view(account), "letter": authorisation.readable_letter(letter),
            "letter_hash": authorisation.letter_hash(letter), "confirmed_letter_hash": account.confirmed_letter_hash,
            "signatures": signatures, "license_content_type": account.license_content_type}


async def current_letter_pdf(account: EnterpriseAccount, settings: Settings) -> bytes:
    """The current letter; signed (signature and evidence printed) when the legal representative signed this text."""
    letter = authorisation.letter_of(account)
    digest = authorisation.letter_hash(letter)
    signature = await AuthorisationSignature.filter(account_id=account.id, letter_hash=digest).order_by(
        "-signed_at").first()
    signed = None
    if signature is not None:
        entry = await EvidenceEntry.get(seq=signature.evidence_seq)
        payload = json.loads(entry.payload)
        face = payload.get("face_verification") or {}
        signed = letter_pdf.SignedBy(
            image_png=await storage.get(settings, storage.EVIDENCE, signature.image_path),
            evidence=(("签署时间", signature.signed_at.astimezone(clock.CHINA).strftime("%Y-%m-%d %H:%M:%S（北京时间）")),
                      ("人脸核验编号", str(face.get("id") or "")), ("IP 地址", str(payload.get("ip") or "")),
                      ("设备", str(payload.get("user_agent") or "")), ("证据序号", str(entry.seq)),
                      ("证据哈希", entry.entry_hash), ("前序哈希", entry.prev_hash)))
    return await asyncio.to_thread(letter_pdf.render_letter, letter, digest, settings.documents.font_cache_dir,
                                   signed)


async def evidence_package(account: EnterpriseAccount, settings: Settings) -> bytes:
    """The signing module's notary package for the account's entries, with the legal representative's signatures."""
    images = {}
    for seq, image_path in await AuthorisationSignature.filter(account_id=account.id).values_list(
            "evidence_seq", "image_path"):
        image = await storage.get(settings, storage.EVIDENCE, image_path)
        if image is not None:
            images[f"signatures/{seq}-legal_rep.png"] = image
    return await evidence.export_package(settings, account.id, images)


def _masked_evidence(payload: str) -> dict:
    """The evidence entry as staff read it: already masked at write time (ID as mask and SHA-256)."""
    data = json.loads(payload)
    return {key: data.get(key) for key in ("seq", "kind", "recorded_at", "server_time", "ip", "user_agent",
                                           "geolocation", "face_verification", "signature_image_sha256", "letter_hash")}


def _audited(account: EnterpriseAccount) -> dict:
    return {"enterprise_account_id": str(account.id), "credit_code": account.credit_code}


async def approve(staff: Staff, account_id, origin: Origin) -> EnterpriseAccount:
    require_role(staff, "reviewer")
    account = await account_for_staff(staff, account_id)
    async with in_transaction() as conn:
        moment = clock.now()
        await states.transition(account, "approve", _actor(staff), None, connection=conn, approved_at=moment,
                                decided_at=moment, reject_reason=None)
        await audit.record(staff, origin, "account_approve", from_status="pending_review", to_status="approved",
                           detail=_audited(account), connection=conn)
        await _tell_registrant(account, "审核通过，可使用该账号办理变更、注销等业务", conn)
    return account


async def reject(staff: Staff, account_id, reason: str, origin: Origin) -> EnterpriseAccount:
    require_role(staff, "reviewer")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("reason", "请填写审核不通过的原因")
    if len(reason) > 500:
        raise Invalid("reason", "原因不能超过500个字")
    account = await account_for_staff(staff, account_id)
    async with in_transaction() as conn:
        await states.transition(account, "reject", _actor(staff), reason, connection=conn, decided_at=clock.now(),
                                reject_reason=reason)
        await audit.record(staff, origin, "account_reject", from_status="pending_review", to_status="rejected",
                           detail={**_audited(account), "reason": reason}, connection=conn)
        await _tell_registrant(account, f"审核未通过，原因：{reason}。请修改后重新提交", conn)
    return account


async def _tell_registrant(account: EnterpriseAccount, result: str, conn) -> None:
    phone = account.agent_phone if account.registrant == "agent" else account.legal_rep_phone
    await notifications.enqueue_sms(phone, "account_result", {"entity": account.entity_name, "result": result},
                                    connection=conn, authority=account.authority_id)


STATUS_CHOICES = [(code, EnterpriseAccountStatus(code).label) for code in STATUSES]

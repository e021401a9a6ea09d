"""Signing requests: one personal link per required signatory, sent by SMS, resendable, expiring.

The link's token (256 random bits) is shown once — in the SMS and in the answer to the applicant who (re)sends
it — and stored only as its SHA-256. A resend replaces the signatory's pending request, so the old link is gone.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from server.config import Settings
from server.errors import Conflict, Gone, NotFound
from server.models.accounts import Applicant
from server.models.applications import Application, Party
from server.models.signing import Signature, SigningRequest
from server.clock import now
from server.services.applications import lifecycle
from server.services.applications.lifecycle import EDITABLE_STATUSES
from server.services.applications.service import canonical_materials, materials_hash
from server.services.notifications import messages as notifications
from server.services.signing.signatories import required_signatories
from server.wechat import WeChatError
from server.vocabulary import BusinessType, PartyRole

LINK_UNKNOWN = "签名链接无效，请核对短信中的链接"
LINK_GONE = "签名链接已失效（已使用、已过期或已重新发送），如需签名请联系申请人重新发送"


def addressee(party: Party) -> str:
    """Whom the link's SMS greets: the person, or the enterprise's contact person on its behalf."""
    if party.kind == "enterprise" and party.contact_name:
        return f"{party.contact_name}（{party.name}联系人）"
    return party.name


def reference_of(request: SigningRequest) -> str:
    """What the link's scheduled messages (reminders, the expiry notice) are filed under in the outbox."""
    return f"signing_request:{request.id}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def link_for(settings: Settings, token: str) -> str:
    return f"{settings.base_url}/s/{token}"


async def signing_target(application: Application) -> tuple[str, str | None, str]:
    """(flow, snapshot_hash, materials_hash) a signature on this application is for right now."""
    if application.status == "locked_signing":
        return "cloud", application.snapshot_hash, application.snapshot_hash
    if application.status in EDITABLE_STATUSES:
        return "general", None, materials_hash(await canonical_materials(application))
    raise Conflict("申请当前状态不需要签名：云帮办须待材料锁定后签名，一般流程须在提交前签名")


def current_signatures(application: Application, connection=None):
    """The one rule of which signatures count: made on the current materials version, not voided by an exit from the
    lock, and on the locked snapshot if there is one (云帮办) or on no snapshot (一般流程, whose hash is of the
    materials version itself)."""
    return Signature.filter(application_id=application.id, materials_version=application.materials_version,
                            snapshot_hash=application.snapshot_hash, voided_at=None).using_db(connection)


async def current_signed_party_ids(application: Application, connection=None) -> set[str]:
    return {str(party_id) for party_id in await current_signatures(application, connection).values_list(
        "party_id", flat=True)}


async def record_voided_signatures(application: Application, connection=None) -> int:
    """Put 「材料变更，原签名作废」 on the timeline once for signatures that a materials change has voided.

    The change itself happens in the applications module (claim_materials_write bumps the version); this notices
    it the next time the signatures are looked at or links are sent, and records it exactly once.
    """
    voided = await Signature.filter(application_id=application.id, voided_at=None,
                                    materials_version__lt=application.materials_version).using_db(connection).update(
        voided_at=now())
    if voided:
        await lifecycle.record(application.id, lifecycle.SYSTEM_ACTOR, "signatures_voided",
                               [{"message": f"申请材料已修改，此前的 {voided} 个签名作废，须重新签名"}],
                               connection=connection)
    return voided


async def create_signing_requests(application: Application, settings: Settings, connection=None, *,
                                  wechat=None, party_id: str | None = None) -> list[dict]:
    """(Re)send links to every required signatory who has not yet signed these materials (or to one of them).

    Called by approve-and-lock (云帮办, inside its transaction) and by the applicant (一般流程 before submitting,
    or a resend). SMS go to the outbox in the same transaction. Answers [{id, party_id, name, method, status,
    expires_at, link}] — the only time the plain links exist.
    """
    flow, snapshot_hash, signed_hash = await signing_target(application)
    signatories = [s for s in await required_signatories(application, settings.home_province, connection)
                   if s["required"]]
    if party_id is not None:
        signatories = [s for s in signatories if s["party_id"] == str(party_id)]
        if not signatories:
            raise NotFound("该签字人不存在或无需签名", field="party_id")
    await record_voided_signatures(application, connection)
    signed = await current_signed_party_ids(application, connection)
    signatories = [s for s in signatories if s["party_id"] not in signed]
    if not signatories:
        return []
    parties = {str(p.id): p for p in await Party.filter(application_id=application.id).using_db(connection)}
    expires_at = now() + timedelta(hours=settings.signing.link_ttl_hours)
    tokens = {s["party_id"]: secrets.token_urlsafe(32) for s in signatories}
    wechat_links = await _wechat_links(settings, wechat, tokens)

    async def write(conn) -> list[dict]:
        replaced = await SigningRequest.filter(application_id=application.id, party_id__in=list(tokens),
                                               status="pending").using_db(conn)
        await SigningRequest.filter(id__in=[r.id for r in replaced], status="pending").using_db(conn).update(
            status="replaced", closed_at=now())
        for old in replaced:
            await notifications.cancel_scheduled(reference_of(old), connection=conn)
        applicant = await Applicant.get(id=application.applicant_id).using_db(conn)
        answer = []
        for signatory in signatories:
            party = parties[signatory["party_id"]]
            token = tokens[signatory["party_id"]]
            request = await SigningRequest.create(
                application_id=application.id, party_id=party.id, signer_name=party.name,
                signer_role=signatory["role"], signer_roles=signatory["roles"], signer_kind=party.kind,
                id_type=party.id_type, id_number=party.id_number, credit_code=party.credit_code, origin=party.origin,
                phone=party.phone, method=signatory["method"], flow=flow, token_hash=hash_token(token),
                materials_version=application.materials_version, snapshot_hash=snapshot_hash,
                materials_hash=signed_hash, expires_at=expires_at, using_db=conn)
            link = link_for(settings, token)
            if party.phone:
                template = "signing_link_wechat" if signatory["party_id"] in wechat_links else "signing_link"
                await notifications.enqueue_sms(party.phone, template, {
                    "signer": addressee(party), "name": application.name or "", "role": PartyRole(signatory["role"]).label,
                    "business": BusinessType.label_of(application.business_type, ""),
                    "hours": settings.signing.link_ttl_hours, "link": link,
                    "wxlink": wechat_links.get(signatory["party_id"], ""),
                }, connection=conn, authority=application.authority_id)
            await _schedule(settings, application, applicant, request, link, conn)
            item = {"id": str(request.id), "party_id": str(party.id), "name": party.name, "method": request.method,
                    "status": "pending", "expires_at": expires_at.isoformat(), "link": link}
            if signatory["party_id"] in wechat_links:
                item["wechat_link"] = wechat_links[signatory["party_id"]]
            answer.append(item)
        return answer

    if connection is not None:
        return await write(connection)
    async with in_transaction() as conn:
        return await write(conn)


async def _schedule(settings: Settings, application: Application, applicant: Applicant, request: SigningRequest,
                    link: str, conn) -> None:
    """The link's reminders (signing.reminder_hours before expiry) and, at expiry, the applicant's notice.

    Filed in the outbox now with their send times, under the request's reference: signing, declining, a resend or
    the end of the lock cancels them. The link's lifetime itself never changes.
    """
    reference = reference_of(request)
    deadline = request.expires_at.astimezone(ZoneInfo(settings.review.timezone)).strftime("%Y-%m-%d %H:%M")
    common = {"name": application.name or "", "business": BusinessType.label_of(application.business_type, ""),
              "signer": request.signer_name, "deadline": deadline}
    if request.phone:
        for hours in settings.signing.reminder_hours:
            at = request.expires_at - timedelta(hours=hours)
            if at > now():
                await notifications.enqueue_sms(request.phone, "signing_reminder", {
                    **common, "role": PartyRole(request.signer_role).label, "link": link}, at=at, reference=reference,
                    connection=conn, authority=application.authority_id)
    if applicant.phone:
        await notifications.enqueue_sms(applicant.phone, "signing_expired", common, at=request.expires_at,
                                        reference=reference, connection=conn, authority=application.authority_id)
    await notifications.enqueue_wechat(applicant.openid, "signing_expired", common,
                                       page=f"pages/application/detail?id={application.id}", at=request.expires_at,
                                       reference=reference, connection=conn, authority=application.authority_id)


async def _wechat_links(settings: Settings, wechat, tokens: dict[str, str]) -> dict[str, str]:
    """URL Links into the mini-program's signing page, where configured; a failure leaves just the SMS link."""
    if not (settings.signing.wechat_url_link and wechat):
        return {}
    links = {}
    for party_id, token in tokens.items():
        try:
            links[party_id] = await wechat.url_link(settings.signing.miniprogram_sign_page, f"token={token}",
                                                    expire_days=max(1, settings.signing.link_ttl_hours // 24))
        except WeChatError:
            continue
    return links


async def live_request(token: str) -> SigningRequest:
    """The pending request behind a link, with its application; 404 unknown, 410 used/expired/replaced/outdated.

    Every token takes the same path — hash, one indexed lookup — whatever it turns out to be.
    """
    request = await SigningRequest.get_or_none(token_hash=hash_token(token or "")).prefetch_related("application")
    if request is None:
        raise NotFound(LINK_UNKNOWN)
    application = request.application
    outdated = (application.materials_version != request.materials_version
                or (request.flow == "cloud" and (application.status != "locked_signing"
                                                 or application.snapshot_hash != request.snapshot_hash))
                or (request.flow == "general" and application.status not in EDITABLE_STATUSES))
    if request.status != "pending" or request.expires_at <= now() or outdated:
        raise Gone(LINK_GONE)
    return request


async def signatory_statuses(application: Application, settings: Settings) -> list[dict]:
    """[{party_id, name, role, roles, kind, required, method, status}] for the applicant's 签名 page.

    status: not_required, not_requested, pending, signed, declined or expired — from the latest request of each
    signatory and the signatures on the current materials.
    """
    signatories = await required_signatories(application, settings.home_province)
    await record_voided_signatures(application)
    signed = await current_signed_party_ids(application)
    latest: dict[str, SigningRequest] = {}
    for request in await SigningRequest.filter(application_id=application.id).order_by("created_at"):
        if request.status != "replaced":
            latest[str(request.party_id)] = request
    moment = now()
    answer = []
    for signatory in signatories:
        request = latest.get(signatory["party_id"])
        current_request = request is not None and request.materials_version == application.materials_version
        if not signatory["required"]:
            status = "not_required"
        elif signatory["party_id"] in signed:
            status = "signed"
        elif not current_request:
            status = "not_requested"
        elif request.status == "declined":
            status = "declined"
        elif request.status == "pending" and request.expires_at > moment:
            status = "pending"
        else:
            status = "expired"
        item = {key: signatory[key] for key in ("party_id", "name", "role", "roles", "kind", "required", "method")}
        item["status"] = status
        if status in ("pending", "expired", "declined"):
            item["expires_at"] = request.expires_at.isoformat()
        if status == "declined":
            item["decline_reason"] = request.decline_reason
        answer.append(item)
    return answer

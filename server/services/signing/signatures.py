"""Signing itself: what the signer sees, the signature (or decline) with its evidence, and what counts as signed."""
from __future__ import annotations

import base64
import binascii
import hashlib
import io
from zoneinfo import ZoneInfo

from PIL import Image, UnidentifiedImageError

from server import storage
from server.cache import Cache
from server.config import Settings
from server.errors import Conflict, Gone, Invalid, TooLarge
from server.models.accounts import Applicant
from server.models.applications import Application, Party
from server.models.signing import Signature, SigningRequest
from server.clock import now
from server.services.applications import lifecycle
from server.services.applications.materials import readable_entity
from server.services.applications.identifiers import id_number_evidence, mask_id_number
from server.services.applications.service import canonical_materials
from server.services.notifications import messages as notifications
from server.services.signing import evidence
from server.services.signing.face import passed_verification
from server.services.signing.exits import release_lock
from server.services.signing.links import LINK_GONE, current_signatures, current_signed_party_ids, reference_of
from server.services.signing.signatories import enterprise_methods, signatories_of
from server.signing_providers import make_provider
from server.vocabulary import BusinessType, EntityType, IdType, PartyOrigin, PartyRole, SigningMethod


class FaceRequired(Conflict):
    code, message = "face_required", "请先完成人脸核验（核验通过后须在有效期内签名）"


_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_MIN_SIZE, _MAX_SIDE = (60, 30), 4000
_INK_LEVEL = 200


def _same_signer(party: dict, request: SigningRequest) -> bool:
    if request.signer_kind == "enterprise":
        return party.get("kind") == "enterprise" and party.get("credit_code") == request.credit_code
    return party.get("kind") == "person" and (party.get("id_number") or "").upper() == (request.id_number or "").upper()


def readable_materials(materials: dict, request: SigningRequest) -> dict:
    """The materials as the signer reads them: labels in Chinese, every ID number masked (the link can be forwarded;
    the signer's own is known to the server, which runs the face check with it)."""
    parties = []
    for party in materials.get("parties", []):
        own = _same_signer(party, request)
        parties.append({
            "role": party.get("role"), "role_label": PartyRole.label_of(party.get("role"), party.get("role")),
            "kind": party.get("kind"), "name": party.get("name"), "is_signer": own,
            "id_type": party.get("id_type"), "id_type_label": IdType.label_of(party.get("id_type")),
            "id_number": mask_id_number(party.get("id_number")),
            "origin": party.get("origin"), "origin_label": PartyOrigin.label_of(party.get("origin")),
            "credit_code": party.get("credit_code"), "share_percent": party.get("share_percent"),
        })
    return {
        "business_type": materials.get("business_type"),
        "business_label": BusinessType.label_of(materials.get("business_type"), materials.get("business_type")),
        "entity_type": materials.get("entity_type"),
        "entity_label": EntityType.label_of(materials.get("entity_type"), materials.get("entity_type")),
        "authority_code": materials.get("authority_code"), "name": materials.get("name"),
        "credit_code": materials.get("credit_code"), "entity": materials.get("entity") or {},
        "entity_rows": _entity_rows(materials), "parties": parties, "attachments": materials.get("attachments", []),
    }


def _entity_rows(materials: dict) -> list[tuple[str, str]]:
    try:
        rows = readable_entity(materials.get("business_type"), materials.get("entity_type"), materials.get("entity"))
    except ValueError:
        return []
    return [(label, text) for _, label, text in rows]


async def signing_view(request: SigningRequest, settings: Settings) -> dict:
    """{application, signer, snapshot_hash, status, expires_at} for a live request."""
    application = request.application
    materials = application.snapshot if request.flow == "cloud" else await canonical_materials(application)
    verification = await passed_verification(request, settings.wechat.face_result_max_age_seconds)
    status = "pending" if request.method != "face" or verification is None else "face_verified"
    return {
        "application": readable_materials(materials or {}, request),
        "signer": {
            "name": request.signer_name, "role": request.signer_role, "roles": request.signer_roles,
            "role_labels": [PartyRole.label_of(role, role) for role in request.signer_roles],
            "kind": request.signer_kind, "method": request.method, "method_label": SigningMethod(request.method).label,
            "methods": [{"method": m, "label": SigningMethod(m).label} for m in (
                enterprise_methods(request.origin) if request.signer_kind == "enterprise" else (request.method,))],
            "id_type": request.id_type, "id_number": mask_id_number(request.id_number),
            "credit_code": request.credit_code,
        },
        "flow": request.flow,
        "snapshot_hash": request.materials_hash,
        "status": status,
        "expires_at": request.expires_at.isoformat(),
    }


def signature_png(data: str | None, max_bytes: int) -> bytes:
    """The handwritten signature: base64 PNG (a data: URL is accepted), size-limited, decodable, not blank."""
    field = "signature_png_base64"
    if not data:
        raise Invalid(field, "请先在签名框内手写签名")
    if data.startswith("data:"):
        data = data.partition(",")[2]
    if len(data) > max_bytes * 4 // 3 + 8:
        raise TooLarge(f"签名图片不能超过 {max_bytes // 1024} KB", field=field)
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid(field, "签名图片应为 base64 编码的 PNG") from None
    if not raw.startswith(_PNG_MAGIC):
        raise Invalid(field, "签名图片应为 PNG 格式")
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(raw))
        width, height = image.size
        if width < _MIN_SIZE[0] or height < _MIN_SIZE[1] or width > _MAX_SIDE or height > _MAX_SIDE:
            raise Invalid(field, f"签名图片尺寸应在 {_MIN_SIZE[0]}×{_MIN_SIZE[1]} 至 {_MAX_SIDE}×{_MAX_SIDE} 像素之间")
        rgba = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise Invalid(field, "签名图片无法解析，请重新签名") from None
    on_white = Image.new("RGB", rgba.size, (255, 255, 255))
    on_white.paste(rgba, mask=rgba.getchannel("A"))
    if on_white.convert("L").point(lambda v: 255 if v < _INK_LEVEL else 0).getbbox() is None:
        raise Invalid(field, "签名为空，请在签名框内手写签名")
    return raw


async def _store_image(settings: Settings, image: bytes) -> tuple[str, str]:
    """(SHA-256, key in the evidence area): the image is named by its digest, so storing it again changes nothing."""
    digest = hashlib.sha256(image).hexdigest()
    relative = f"signatures/{digest}.png"
    await storage.put(settings, storage.EVIDENCE, relative, image)
    return digest, relative


def _actor(request: SigningRequest) -> str:
    return f"签字人 {request.signer_name}"[:64]


async def _tell_everyone(settings: Settings, application: Application, request: SigningRequest, signed_at,
                         conn) -> None:
    """事后确认 (seed 004): every party with a phone or e-mail address and the applicant (经办人) learn at once who
    signed, when, and what (the snapshot hash prefix), so a false signature is noticed. Notices to one recipient
    within sms.notice_coalesce_seconds become one message listing every signer."""
    at = signed_at.astimezone(ZoneInfo(settings.review.timezone)).strftime("%Y-%m-%d %H:%M")
    params = {"name": application.name or "", "business": BusinessType.label_of(application.business_type, ""),
              "hash": request.materials_hash[:8]}
    signer = f"{request.signer_name}于{at}"
    parties = await Party.filter(application_id=application.id).using_db(conn).values_list("phone", "email")
    applicant = await Applicant.get(id=application.applicant_id).using_db(conn)
    phones = [phone for phone, _ in parties if phone] + ([applicant.phone] if applicant.phone else [])
    recipients = [("sms", phone) for phone in dict.fromkeys(phones)]
    if settings.email.enabled:
        recipients += [("email", email) for email in dict.fromkeys(email for _, email in parties if email)]
    window = settings.sms.notice_coalesce_seconds
    for channel, recipient in recipients:
        await notifications.enqueue_notice(channel, recipient, str(application.id), params, signer, window,
                                           connection=conn, authority=application.authority_id)


async def _complete_if_last(settings: Settings, application: Application, conn) -> None:
    """The last required signature is in: the applicant is told at once, and the case is submitted by itself
    unless the applicant chose to confirm it (auto_submit false)."""
    current = await Application.get(id=application.id).using_db(conn)
    if current.status != "locked_signing" or not await all_required_signed(current, settings.home_province, conn):
        return
    # Imported here: review's submission reads this package.
    from server.services.review import submission

    await submission.complete_signing(settings, current, conn)
    application.status = current.status


def _signer_evidence(request: SigningRequest) -> dict:
    return {
        "name": request.signer_name, "role": request.signer_role, "roles": request.signer_roles,
        "kind": request.signer_kind, "id_type": request.id_type, **id_number_evidence(request.id_number),
        "credit_code": request.credit_code, "origin": request.origin,
    }


def _enterprise_method(request: SigningRequest, chosen: str | None) -> str:
    allowed = enterprise_methods(request.origin)
    method = chosen or request.method
    if method not in allowed:
        raise Invalid("method", f"该企业应使用{'或'.join(SigningMethod(m).label for m in allowed)}签署")
    return method


async def sign(request: SigningRequest, settings: Settings, cache: Cache, *, signature_png_base64: str | None,
               geolocation: dict | None, ip: str, user_agent: str, method: str | None = None) -> dict:
    """Sign once: after face verification (persons) or through the e-seal / e-license provider (enterprises,
    which may choose between the two where rule 3 allows)."""
    application = request.application
    verification = seal = None
    if request.signer_kind == "enterprise":
        method = _enterprise_method(request, method)
    else:
        method = request.method
    if request.method == "face":
        verification = await passed_verification(request, settings.wechat.face_result_max_age_seconds)
        if verification is None:
            raise FaceRequired()
        image = signature_png(signature_png_base64, settings.signing.signature_max_bytes)
    else:
        seal = await make_provider(settings).seal(method=method, credit_code=request.credit_code or "",
                                                  enterprise_name=request.signer_name,
                                                  document_hash=request.materials_hash)
        image = seal.image_png
    # Imported here: the documents package reads the signatories module of this package.
    from server.services.documents import service as documents_service

    documents = await documents_service.current_documents(settings, application)
    opened = documents_service.require_opened(request, documents)
    image_sha256, image_path = await _store_image(settings, image)
    signed_at = now()

    async def write(conn):
        changed = await SigningRequest.filter(id=request.id, status="pending").using_db(conn).update(
            status="signed", closed_at=signed_at)
        if changed != 1:
            raise Gone(LINK_GONE)
        entry = await evidence.append(conn, application.id, "signature", {
            "request_id": str(request.id), "party_id": str(request.party_id), "signer": _signer_evidence(request),
            "method": method, "flow": request.flow, "materials_version": request.materials_version,
            "snapshot_hash": request.snapshot_hash, "materials_hash": request.materials_hash,
            "server_time": signed_at.isoformat(), "ip": ip, "user_agent": user_agent, "geolocation": geolocation,
            "face_verification": None if verification is None else {
                "id": str(verification.id), "provider": verification.provider,
                "identify_time": verification.identify_time,
                "openid": verification.openid, "user_id_key": verification.user_id_key,
            },
            "seal": None if seal is None else {"reference": seal.reference, "signature_value": seal.signature_value},
            "signature_image_sha256": image_sha256,
            "documents": [{"kind": doc.kind, "sha256": doc.sha256} for doc in documents],
            "documents_opened": opened,
        }, notary=settings.notary.enabled)
        signature = await Signature.create(
            request_id=request.id, application_id=application.id, party_id=request.party_id, method=method,
            materials_version=request.materials_version, snapshot_hash=request.snapshot_hash,
            materials_hash=request.materials_hash, signed_at=signed_at, image_sha256=image_sha256,
            image_path=image_path, seal_reference=seal.reference if seal else None, evidence_seq=entry.seq,
            using_db=conn)
        roles = "、".join(PartyRole.label_of(role, role) for role in request.signer_roles)
        await lifecycle.record(application.id, _actor(request), "sign",
                               [{"message": f"{request.signer_name}（{roles}）已完成电子签名"}], connection=conn)
        await notifications.cancel_scheduled(reference_of(request), connection=conn)
        await _tell_everyone(settings, application, request, signed_at, conn)
        if request.flow == "cloud":
            await _complete_if_last(settings, application, conn)
        return signature, entry

    signature, entry = await evidence.appending(cache, write)
    if request.flow == "cloud":
        await documents_service.after_signature(settings, application.id)
    return {"signature_id": str(signature.id), "signed_at": signed_at.isoformat(),
            "evidence": {"seq": entry.seq, "prev_hash": entry.prev_hash, "entry_hash": entry.entry_hash,
                         "payload": entry.payload}}


async def decline(request: SigningRequest, settings: Settings, cache: Cache, reason: str, *, ip: str,
                  user_agent: str) -> dict:
    """The signatory refuses, with a reason; the applicant is told by SMS and subscribe message."""
    application = request.application
    declined_at = now()

    async def write(conn):
        changed = await SigningRequest.filter(id=request.id, status="pending").using_db(conn).update(
            status="declined", decline_reason=reason, closed_at=declined_at)
        if changed != 1:
            raise Gone(LINK_GONE)
        entry = await evidence.append(conn, application.id, "decline", {
            "request_id": str(request.id), "party_id": str(request.party_id), "signer": _signer_evidence(request),
            "reason": reason, "server_time": declined_at.isoformat(), "ip": ip, "user_agent": user_agent,
            "snapshot_hash": request.snapshot_hash, "materials_hash": request.materials_hash,
        }, notary=settings.notary.enabled)
        await notifications.cancel_scheduled(reference_of(request), connection=conn)
        message = f"{request.signer_name}拒绝签名：{reason}"
        if request.flow == "cloud":
            # The decline is an exit from locked_signing: the reason is the return comment, the lock is released.
            current = await Application.get(id=application.id).using_db(conn)
            await lifecycle.transition(current, "decline", _actor(request), connection=conn,
                                       comments=[{"field": None, "attachment_id": None, "attachment_kind": None,
                                                  "message": message}],
                                       snapshot=None, snapshot_hash=None, due_at=None)
            await release_lock(current, "decline", conn)
        else:
            await lifecycle.record(application.id, _actor(request), "decline", [{"message": message}],
                                   connection=conn)
        await notifications.notify_applicant(application, "sign_declined", {
            "name": application.name or "", "business": BusinessType.label_of(application.business_type, ""),
            "signer": request.signer_name, "reason": reason}, connection=conn)
        return entry

    entry = await evidence.appending(cache, write)
    return {"status": "declined", "declined_at": declined_at.isoformat(), "evidence": {"seq": entry.seq}}


async def all_required_signed(application: Application, home_province: str | None = None, connection=None) -> bool:
    """云帮办: every required signatory has signed the current locked snapshot (and materials version), with a
    signature no exit from the lock has voided."""
    if not application.snapshot_hash:
        return False
    parties = await Party.filter(application_id=application.id).using_db(connection)
    required = {s["party_id"] for s in signatories_of(parties, home_province) if s["required"]}
    return required <= await current_signed_party_ids(application, connection)


async def has_valid_signature_on_current_materials(application: Application) -> bool:
    """一般流程: at least one signature made on this materials version; any change to the materials voids them."""
    return await current_signatures(application).exists()

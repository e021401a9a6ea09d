"""Public verification: anyone holding a PDF (or its SHA-256) asks whether the platform issued it.

The answer names the filing and its signatories (names masked; never ID numbers, phones or addresses), what
pyHanko finds about the platform's signature, and whether the filing's evidence entries are intact and linked.
A file that differs by one byte has another SHA-256, so it is simply not found.
"""
from __future__ import annotations

import hashlib
import json
import re

from server.cache import Cache
from server.config import Settings
from server.errors import Invalid, TooLarge
from server.models.applications import Application, TimelineEntry
from server.models.documents import GeneratedDocument
from server.models.signing import EvidenceEntry, Signature, SigningRequest
from server.services.applications.identifiers import mask_name
from server.services.documents import pades
from server.services.documents.service import SIGNED, authority_name, file_bytes
from server.services.ratelimit import hit_window
from server.services.signing.evidence import GENESIS, entry_hash
from server.vocabulary import BusinessType, EntityType, PartyRole

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
CHECK_CACHE_SECONDS = 600
NOT_SIGNED = {"valid": False, "signer": None, "timestamp": None}


def digest_of(sha256: str | None, data: bytes | None, max_bytes: int) -> str:
    """The SHA-256 asked about: of the uploaded file, or as sent (64 hex digits)."""
    if data is not None:
        if not data:
            raise Invalid("file", "请选择要核验的 PDF 文件")
        if len(data) > max_bytes:
            raise TooLarge(f"文件不能超过 {max_bytes // (1024 * 1024)} MB", field="file")
        return hashlib.sha256(data).hexdigest()
    value = (sha256 or "").strip().lower()
    if not _SHA256.match(value):
        raise Invalid("sha256", "SHA-256 应为 64 位十六进制字符")
    return value


async def chain_ok(application_id) -> bool:
    """Every evidence entry of the filing hashes to itself and follows the entry before it in the one chain."""
    entries = await EvidenceEntry.filter(application_id=application_id).order_by("seq")
    if not entries:
        return True
    before = {row["seq"]: row["entry_hash"] for row in await EvidenceEntry.filter(
        seq__in=[entry.seq - 1 for entry in entries]).values("seq", "entry_hash")}
    for entry in entries:
        expected_prev = GENESIS if entry.seq == 1 else before.get(entry.seq - 1)
        if entry.prev_hash != expected_prev or entry_hash(entry.prev_hash, entry.payload) != entry.entry_hash:
            return False
    return True


async def _signers(application_id, snapshot_hash: str) -> list[dict]:
    signatures = await Signature.filter(application_id=application_id, snapshot_hash=snapshot_hash,
                                        voided_at=None).order_by("signed_at")
    requests = {r.id: r for r in await SigningRequest.filter(id__in=[s.request_id for s in signatures])}
    return [{"name_masked": mask_name(requests[s.request_id].signer_name),
             "role": "、".join(PartyRole.label_of(role, role) for role in requests[s.request_id].signer_roles),
             "signed_at": s.signed_at.isoformat()} for s in signatures]


async def _moment(application_id, action: str) -> str | None:
    entry = await TimelineEntry.filter(application_id=application_id, action=action).order_by("-at").first()
    return entry.at.isoformat() if entry else None


async def _platform_signature(settings: Settings, cache: Cache, document: GeneratedDocument,
                              data: bytes | None) -> dict:
    if document.kind != SIGNED:
        return dict(NOT_SIGNED)
    key = f"verify-signature:{document.sha256}"
    cached = await cache.get(key)
    if cached:
        return json.loads(cached)
    check = await pades.check(settings, data if data is not None else await file_bytes(settings, document))
    answer = check.answer()
    await cache.set(key, json.dumps(answer), ttl=CHECK_CACHE_SECONDS)
    return answer


async def verify(settings: Settings, cache: Cache, ip: str, *, sha256: str | None = None,
                 data: bytes | None = None) -> dict:
    """{found, document, filing, signers, platform_signature, chain_ok} for a file or its SHA-256."""
    await hit_window(cache, f"verify:{ip}", limit=settings.documents.verify_per_minute, window=60,
                     message="核验过于频繁，请稍后再试")
    digest = digest_of(sha256, data, settings.documents.verify_max_bytes)
    document = await GeneratedDocument.filter(sha256=digest).order_by("created_at").first()
    if document is None:
        return {"found": False, "sha256": digest}
    application = await Application.get(id=document.application_id)
    snapshot = application.snapshot if application.snapshot_hash == document.materials_hash else None
    name = (snapshot or {}).get("name") or application.name
    return {
        "found": True, "sha256": digest,
        "document": {"kind": document.kind, "title": document.title, "pages": document.pages},
        "filing": {
            "entity_name": name, "business_type": application.business_type,
            "business_label": BusinessType(application.business_type).label,
            "entity_type_label": EntityType(application.entity_type).label,
            "authority": await authority_name(application.authority_id),
            "snapshot_hash": document.materials_hash,
            "locked_at": await _moment(application.id, "approve_lock"),
            "approved_at": application.decided_at.isoformat() if application.status == "approved" and
            application.decided_at else None,
        },
        "signers": await _signers(application.id, document.materials_hash),
        "platform_signature": await _platform_signature(settings, cache, document, data),
        "chain_ok": await chain_ok(application.id),
    }

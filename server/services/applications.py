"""Applications as the applicant sees them."""
from __future__ import annotations

import hashlib
import json
import uuid

from server.errors import NotFound
from server.models.applications import Application, Attachment, Party


def summary_view(application: Application) -> dict:
    return {
        "id": str(application.id),
        "business_type": application.business_type,
        "entity_type": application.entity_type,
        "authority_code": application.authority_id,
        "name": application.name,
        "status": application.status,
        "flow": application.flow,
        "updated_at": application.updated_at.isoformat(),
    }


async def list_for_applicant(applicant_id: int) -> list[dict]:
    rows = await Application.filter(applicant_id=applicant_id).order_by("-updated_at")
    return [summary_view(row) for row in rows]


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


async def canonical_materials(application: Application) -> dict:
    """Every form field and attachment content hash, in a stable shape: what a lock freezes and a signer signs."""
    parties = await Party.filter(application_id=application.id).order_by("position")
    attachments = await Attachment.filter(application_id=application.id).order_by("kind", "sha256")
    return {
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


def materials_hash(materials: dict) -> str:
    """SHA-256 over canonical JSON (sorted keys, no spaces, UTF-8)."""
    canonical = json.dumps(materials, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

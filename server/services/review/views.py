"""What staff and applicants see of one application: the timeline (办理进度), the full staff view, list rows."""
from __future__ import annotations

from datetime import datetime

from server.config import Settings
from server.errors import Invalid
from server.models.accounts import Applicant, Staff
from server.models.applications import Application, Attachment, Party, TimelineEntry
from server.services.applications import lifecycle, materials, names
from server.services.applications import service as applications_service
from server.services.applications.identifiers import mask_id_number, mask_phone
from server.services.documents import service as documents_service
from server.services.review import audit
from server.services.signing.links import signatory_statuses
from server.vocabulary import (ApplicationAction, ApplicationStatus, AttachmentKind, BusinessType, EntityType, Flow, IdType,
                               PartyOrigin, PartyRole, SignatoryStatus, SigningMethod)

# Shown on acceptance for an application that came through 云帮办 and was submitted after everyone signed.
CLOUD_ALL_SIGNED = "云帮办所有签名已完成"


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def cloud_all_signed(application: Application) -> bool:
    return application.flow == "cloud" and application.status in lifecycle.SIGNED_THROUGH_STATUSES


def comment_subject(comment: dict) -> str | None:
    """What a return comment concerns, as the applicant and staff read it: 住所（经营场所）, 附件：公司章程, 当事人第2人."""
    if comment.get("attachment_kind"):
        return f"附件：{AttachmentKind.label_of(comment['attachment_kind'], '其他材料')}"
    path = comment.get("field")
    if not path:
        return None
    if path.startswith("entity."):
        return materials.field_label(path.split(".")[1].split("[")[0]) or "登记事项"
    if path.startswith("parties["):
        return f"当事人第{int(path[8:path.index(']')]) + 1}人"
    return materials.application_field_label(path.split(".")[0]) or "申请材料"


def _with_subject(comment: dict) -> dict:
    subject = comment_subject(comment)
    return {**comment, "subject": subject} if subject else comment


def timeline_entry_view(entry: TimelineEntry) -> dict:
    return {
        "at": entry.at.isoformat(), "actor": lifecycle.actor_label(entry.actor), "action": entry.action,
        "action_label": ApplicationAction.label_of(entry.action, entry.action), "from_status": entry.from_status,
        "to_status": entry.to_status,
        "comments": [_with_subject(comment) for comment in entry.comments or []],
    }


def due_note(application: Application) -> str:
    """办理时限 when there is no due time: why the clock is not running."""
    if application.status == ApplicationStatus.LOCKED_SIGNING:
        return "材料已锁定，待全部签名后提交（签名期间不计办理时限）"
    if application.status in lifecycle.FINISHED_STATUSES:
        return "已办结"
    if application.status == ApplicationStatus.RETURNED:
        return "已退回，待申请人修改后重新提交"
    return "尚未提交"


async def signing_progress(application: Application, settings: Settings) -> dict | None:
    """签名进度 on the current materials, once links have gone out: who signed, who has yet to; None before that."""
    signatories = [item for item in await signatory_statuses(application, settings) if item["required"]]
    if all(item["status"] == SignatoryStatus.NOT_REQUESTED for item in signatories):
        return None
    return {
        "signed": sum(item["status"] == SignatoryStatus.SIGNED for item in signatories), "required": len(signatories),
        "signatories": [{"name": item["name"],
                         "roles_label": "、".join(PartyRole.label_of(role, role) for role in item["roles"]),
                         "method_label": SigningMethod.label_of(item["method"], item["method"]),
                         "status": item["status"], "status_label": SignatoryStatus(item["status"]).label}
                        for item in signatories],
    }


async def timeline(application: Application) -> list[dict]:
    return [timeline_entry_view(entry) for entry in await TimelineEntry.filter(application_id=application.id)]


async def applicant_timeline(applicant_id: int, application_id) -> list[dict]:
    return await timeline(await applications_service.get_for_applicant(applicant_id, application_id))


def attachment_url(application: Application, attachment: Attachment) -> str:
    """The file, served to the owner and to staff in scope by the applications routes."""
    return f"/api/v1/applications/{application.id}/attachments/{attachment.id}"


def party_view(party: Party) -> dict:
    return {
        "id": str(party.id), "role": party.role, "role_label": PartyRole.label_of(party.role, party.role),
        "id_type_label": IdType.label_of(party.id_type), "origin_label": PartyOrigin.label_of(party.origin),
        "kind": party.kind, "name": party.name, "id_type": party.id_type, "id_number": party.id_number,
        "phone": party.phone, "origin": party.origin, "credit_code": party.credit_code,
        "share_percent": None if party.share_percent is None else format(party.share_percent.normalize(), "f"),
    }


def material_fields(materials: dict) -> list[str]:
    """Every field path of the canonical materials and its parents (name, entity.x, parties[1].id_number, …)."""
    paths: list[str] = []

    def walk(value, path: str) -> None:
        if path:
            paths.append(path)
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else key)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{path}[{index}]")

    walk({key: value for key, value in materials.items() if key not in ("attachments", "format")}, "")
    return paths


async def name_recheck(application: Application) -> dict | None:
    """名称查重 again, as of now: the name may have been taken since the applicant checked it."""
    try:
        return await names.check_for_application(application)
    except Invalid as exc:
        return {"available": False, "name": names.proposed_name(application),
                "problems": [{"code": exc.code, "message": exc.message, "level": "error"}], "conflicts": []}


async def staff_view(staff: Staff, application: Application) -> dict:
    """Everything about one application, personal data in full: staff need it to check the materials."""
    applicant = await Applicant.get(id=application.applicant_id)
    await application.fetch_related("authority")
    parties = await Party.filter(application_id=application.id).order_by("position")
    attachments = await Attachment.filter(application_id=application.id).order_by("created_at")
    return {
        "id": str(application.id), "business_type": application.business_type,
        "business_label": BusinessType.label_of(application.business_type, application.business_type),
        "entity_type": application.entity_type,
        "entity_label": EntityType.label_of(application.entity_type, application.entity_type),
        "authority": {"code": application.authority.code, "name": application.authority.name},
        "authority_code": application.authority_id, "name": application.name, "credit_code": application.credit_code,
        "status": application.status, "status_label": ApplicationStatus.label_of(application.status, application.status),
        "flow": application.flow, "flow_label": Flow.label_of(application.flow),
        "entity": application.entity, "materials_version": application.materials_version,
        "entity_rows": [{"key": key, "label": label, "text": text} for key, label, text in
                        materials.readable_entity(application.business_type, application.entity_type,
                                                  application.entity)],
        "due_note": due_note(application),
        "snapshot_hash": application.snapshot_hash, "resubmission": application.resubmission,
        "first_submitted_at": iso(application.first_submitted_at), "submitted_at": iso(application.submitted_at),
        "due_at": iso(application.due_at), "decided_at": iso(application.decided_at),
        "created_at": iso(application.created_at), "updated_at": iso(application.updated_at),
        "applicant": {"id": applicant.id, "phone": applicant.phone},
        "parties": [party_view(party) for party in parties],
        "attachments": [
            {"id": str(a.id), "kind": a.kind, "kind_label": AttachmentKind.label_of(a.kind, a.kind),
             "filename": a.filename, "content_type": a.content_type, "size": a.size,
             "sha256": a.sha256, "url": attachment_url(application, a),
             "thumbnail_url": f"{attachment_url(application, a)}/thumbnail" if a.thumbnail_path else None}
            for a in attachments
        ],
        "notice": CLOUD_ALL_SIGNED if cloud_all_signed(application) else None,
        "name_check": await name_recheck(application),
        "missing": await applications_service.missing(application),
        "comment_fields": material_fields(await applications_service.canonical_materials(application)),
        "timeline": await timeline(application),
        "audit": await audit.entries_for(application),
        "documents": await documents_service.stored_listing(application),
        "notary_receipts": await documents_service.notary_receipts(application.id),
    }


def queue_row(application: Application, now: datetime, legal_rep: Party | None, applicant_phone: str | None,
              authority_name: str | None = None) -> dict:
    """One line of the 待办 list: personal data masked."""
    return {
        "id": str(application.id), "name": application.name, "business_type": application.business_type,
        "business_label": BusinessType.label_of(application.business_type, application.business_type),
        "entity_type": application.entity_type,
        "entity_label": EntityType.label_of(application.entity_type, application.entity_type),
        "authority_code": application.authority_id, "authority_name": authority_name, "status": application.status,
        "status_label": ApplicationStatus.label_of(application.status, application.status), "flow": application.flow,
        "flow_label": Flow.label_of(application.flow),
        "resubmission": application.resubmission, "submitted_at": iso(application.submitted_at),
        "due_at": iso(application.due_at), "overdue": bool(application.due_at and application.due_at < now),
        "applicant_phone": mask_phone(applicant_phone),
        "legal_rep": None if legal_rep is None else {
            "name": legal_rep.name, "id_number": mask_id_number(legal_rep.id_number),
            "phone": mask_phone(legal_rep.phone),
        },
    }

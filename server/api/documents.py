"""Document routes: the generated 申请书/章程 and signed.pdf for the applicant and staff, the same documents and the
attachments for a signer through the link, public verification (/verify), and the notary's receipts for staff."""
from __future__ import annotations

import uuid

from pydantic import Field
from sanic import Blueprint, Request, html, json, raw
from sanic_ext import openapi

from server import storage
from server.api.applications import _reader
from server.api.http import RequestModel, client_ip, current_staff, json_body, stored_file, uploaded_file
from server.errors import Malformed, NotFound
from server.models.applications import Attachment
from server.services import signing
from server.clock import now
from server.services.accounts.staff import require_role
from server.services.applications import materials
from server.services.documents import service as documents
from server.services.documents import verification
from server.services.review.access import application_for_staff

bp = Blueprint("documents")

PRIVATE = {"Cache-Control": "private, no-store"}


class VerifyIn(RequestModel):
    sha256: str = Field(min_length=64, max_length=64)


def _pdf(data: bytes, name: str) -> raw:
    return raw(data, content_type="application/pdf",
               headers={**PRIVATE, "Content-Disposition": f'inline; filename="{name}"'})


def _kind(name: str) -> str:
    if not name.endswith(".pdf"):
        raise NotFound("没有这种文书")
    return name[:-4]


# --- the applicant and staff ---------------------------------------------------------------------------------
@bp.get("/api/v1/applications/<application_id:str>/documents")
@openapi.summary("The generated documents (申请书, 章程) and, once everyone signed, signed.pdf")
@openapi.description("→ [{kind, title, sha256, pages, size, url}] for the owning applicant or staff in scope. Made "
                     "from the locked snapshot (before a lock: from the current materials).")
@openapi.secured("bearer")
@openapi.response(401, description="not logged in")
@openapi.response(404, description="not found, or not yours to read")
async def list_documents(request: Request, application_id: str):
    application = await _reader(request, application_id)
    return json(await documents.listing(request.app.ctx.settings, application), ensure_ascii=False)


@bp.get("/api/v1/applications/<application_id:str>/documents/<name:str>")
@openapi.summary("One document as PDF: application_form.pdf, articles_of_association.pdf or signed.pdf")
@openapi.secured("bearer")
@openapi.response(200, description="application/pdf")
@openapi.response(404, description="no such document (signed.pdf: not everyone has signed yet)")
async def document_file(request: Request, application_id: str, name: str):
    application = await _reader(request, application_id)
    settings = request.app.ctx.settings
    document = await documents.document_by_kind(settings, application, _kind(name))
    return _pdf(await documents.file_bytes(settings, document), name)


# --- the signer, through the link ----------------------------------------------------------------------------
def _attachment_view(token: str, attachment: Attachment) -> dict:
    base = f"/api/v1/sign/{token}/attachments/{attachment.id}"
    return {"id": str(attachment.id), "kind": attachment.kind,
            "title": materials.attachment_kinds().get(attachment.kind, attachment.kind),
            "content_type": attachment.content_type, "size": attachment.size, "sha256": attachment.sha256,
            "url": base, "thumbnail_url": f"{base}/thumbnail" if attachment.thumbnail_path else None}


async def signer_materials(request: Request, token: str) -> dict:
    """What the signer may read: the documents of the materials they sign and every attachment in them."""
    signing_request = await signing.live_request(token)
    application = signing_request.application
    docs = await documents.current_documents(request.app.ctx.settings, application)
    signed = application.snapshot if signing_request.flow == "cloud" else None
    hashes = {item["sha256"] for item in (signed or {}).get("attachments", [])}
    attachments = await Attachment.filter(application_id=application.id).order_by("kind", "created_at")
    if signed is not None:
        attachments = [a for a in attachments if a.sha256 in hashes]
    opened = signing_request.opened_documents or {}
    return {
        "documents": [{**documents.view(doc, f"/api/v1/sign/{token}/documents/{doc.kind}.pdf"),
                       "opened": opened.get(doc.kind, {}).get("sha256") == doc.sha256} for doc in docs],
        "attachments": [_attachment_view(token, a) for a in attachments],
        "must_open": "application_form",
    }


@bp.get("/api/v1/sign/<token>/documents")
@openapi.summary("The signer's reading: the generated documents and every attachment, through the link")
@openapi.description("→ {documents: [{kind, title, sha256, pages, url, opened}], attachments: [{id, kind, title, "
                     "content_type, url, thumbnail_url}], must_open}; the 申请书 must be opened before signing.")
@openapi.response(404, description="unknown link")
@openapi.response(410, description="link no longer valid")
async def signer_documents(request: Request, token: str):
    return json(await signer_materials(request, token), ensure_ascii=False)


@bp.get("/api/v1/sign/<token>/documents/<name:str>")
@openapi.summary("A document as PDF for the signer; opening it is recorded (and then shown in the evidence)")
@openapi.response(200, description="application/pdf")
@openapi.response(404, description="unknown link or document")
@openapi.response(410, description="link no longer valid")
async def signer_document_file(request: Request, token: str, name: str):
    signing_request = await signing.live_request(token)
    settings = request.app.ctx.settings
    kind = _kind(name)
    for document in await documents.current_documents(settings, signing_request.application):
        if document.kind == kind:
            data = await documents.file_bytes(settings, document)
            await documents.record_opened(signing_request, document, now())
            return _pdf(data, name)
    raise NotFound("没有这种文书")


async def _signer_attachment(request: Request, token: str, attachment_id: str, thumbnail: bool):
    signing_request = await signing.live_request(token)
    application = signing_request.application
    attachment = await Attachment.get_or_none(id=_uuid(attachment_id), application_id=application.id)
    snapshot = application.snapshot if signing_request.flow == "cloud" else None
    if attachment is None or (snapshot is not None and attachment.sha256 not in
                              {item["sha256"] for item in snapshot.get("attachments", [])}):
        raise NotFound("附件不存在")
    return await stored_file(request, storage.UPLOADS, attachment.thumbnail_path if thumbnail else
                             attachment.storage_path, "image/jpeg" if thumbnail else attachment.content_type,
                             PRIVATE, not_found="附件文件不存在")


def _uuid(value: str):
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("附件不存在") from None


@bp.get("/api/v1/sign/<token>/attachments/<attachment_id:str>")
@openapi.summary("An attachment of the materials being signed (image or PDF), through the link")
@openapi.response(404, description="unknown link or attachment")
@openapi.response(410, description="link no longer valid")
async def signer_attachment(request: Request, token: str, attachment_id: str):
    return await _signer_attachment(request, token, attachment_id, thumbnail=False)


@bp.get("/api/v1/sign/<token>/attachments/<attachment_id:str>/thumbnail")
@openapi.summary("An image attachment's thumbnail, through the link")
@openapi.response(404, description="unknown link, attachment or thumbnail")
@openapi.response(410, description="link no longer valid")
async def signer_attachment_thumbnail(request: Request, token: str, attachment_id: str):
    return await _signer_attachment(request, token, attachment_id, thumbnail=True)


# --- anyone: verification ------------------------------------------------------------------------------------
@bp.post("/api/v1/verify")
@openapi.summary("Verify a PDF issued by the platform: multipart `file`, or JSON {sha256}")
@openapi.description("→ {found, sha256, document: {kind, title, pages}, filing: {entity_name, business_type, "
                     "authority, locked_at, approved_at}, signers: [{name_masked, role, signed_at}], "
                     "platform_signature: {valid, signer, timestamp}, chain_ok}. Rate-limited per IP.")
@openapi.body({"application/json": VerifyIn, "multipart/form-data": {
    "type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}})
@openapi.response(413, description="file too large")
@openapi.response(422, description="no file, or sha256 not 64 hex digits")
@openapi.response(429, description="too many verifications from this address")
async def verify(request: Request):
    ctx = request.app.ctx
    if request.content_type.startswith("multipart/form-data"):
        upload = uploaded_file(request, "请选择要核验的 PDF 文件")
        answer = await verification.verify(ctx.settings, ctx.cache, client_ip(request), data=upload.body)
    else:
        body = json_body(request)
        if not isinstance(body, dict):
            raise Malformed("请求体应为 JSON 对象")
        answer = await verification.verify(ctx.settings, ctx.cache, client_ip(request), sha256=body.get("sha256"))
    return json(answer, ensure_ascii=False)


@bp.get("/verify")
@openapi.summary("The public verification page (phone-sized): the file's hash is computed in the browser")
@openapi.response(200, description="text/html")
async def verify_page(request: Request):
    page = request.app.ctx.templates.get_template("documents/verify.html")
    return html(page.render(), headers={"Cache-Control": "public, max-age=300"})


# --- staff: the notary's receipts ----------------------------------------------------------------------------
@bp.get("/api/v1/review/applications/<application_id:uuid>/notary-receipts")
@openapi.summary("一键公证: each evidence entry of the filing with the notary's receipt (or its push status)")
@openapi.secured("bearer")
@openapi.response(200, description="[{seq, kind, entry_hash, receipt_id, received_at, status}]")
@openapi.response(404, description="unknown or outside the staff member's authority")
async def notary_receipts(request: Request, application_id):
    staff = await current_staff(request)
    require_role(staff, "reviewer", "admin", "helper")
    application = await application_for_staff(staff, application_id)
    return json(await documents.notary_receipts(application.id), ensure_ascii=False)

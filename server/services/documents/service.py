"""Generated documents of a filing: made from the locked snapshot, stored, listed, and the platform-signed PDF.

The 申请书 (and the 章程 from the model text, when chosen) are rendered when 云帮办通过 locks the materials, just
before the lock's transaction, and recorded with the lock; before a lock (drafts, 一般流程) they are made
from the current materials on request. Each is fully determined by the materials whose hash it prints. When the
last required signature arrives, signed.pdf is made: the documents with every signature in its box, an evidence
page per signature, and the platform's PAdES signature.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server import storage
from server.config import Settings
from server.errors import Conflict, NotFound
from server.models.applications import Application
from server.models.authorities import Authority
from server.models.documents import GeneratedDocument, NotaryReceipt
from server.models.signing import EvidenceEntry, Signature, SigningRequest
from server.services.applications.identifiers import filing_reference, mask_name
from server.services.applications.service import canonical_materials, materials_hash
from server.services.documents import content, pades, render
from server.services.guides.points import authority_title
from server.services.signing.links import current_signatures
from server.vocabulary import DocumentKind, PartyRole, SigningMethod

log = logging.getLogger("yct.documents")


class DocumentNotOpened(Conflict):
    code, message = "document_not_opened", "请先打开并阅读登记申请书，再签名"

SIGNED = DocumentKind.SIGNED.value
SIGNED_TITLE = DocumentKind.SIGNED.label


def verify_url(settings: Settings) -> str:
    return f"{settings.base_url}/verify"


async def authority_name(code: str, connection=None) -> str:
    authority = await Authority.get_or_none(code=code).using_db(connection)
    return authority_title(authority) if authority else code


async def _target(application: Application) -> tuple[dict, str]:
    """(materials, their hash) the documents are made from: the locked snapshot, else the current materials."""
    if application.snapshot_hash and application.snapshot:
        return application.snapshot, application.snapshot_hash
    materials = await canonical_materials(application)
    return materials, materials_hash(materials)


@dataclass(frozen=True)
class PreparedDocument:
    """A rendered and stored document waiting for its row (sha256 empty when the row already exists)."""
    kind: str
    title: str
    sha256: str
    pages: int
    size: int
    storage_key: str


async def _render(settings: Settings, application_id, materials: dict,
                  digest: str) -> list[tuple[content.Document, bytes, int]]:
    reference = filing_reference(application_id)
    authority = await authority_name(materials["authority_code"])
    documents = content.documents_for(materials, reference, authority)
    footer = render.Footer(reference, digest, verify_url(settings))
    cache_dir = settings.documents.font_cache_dir

    def work():
        return [(document, *render.render([document], footer, cache_dir)) for document in documents]

    return await asyncio.to_thread(work)


async def prepare(settings: Settings, application: Application, materials: dict,
                  digest: str) -> list[PreparedDocument]:
    """Render and store the documents of these materials (no rows yet). Kept out of any transaction: rendering
    takes seconds, and on SQLite an open transaction holds the one connection for the whole server."""
    known = set(await GeneratedDocument.filter(application_id=application.id, materials_hash=digest)
                .exclude(kind=SIGNED).values_list("kind", flat=True))
    prepared = []
    for document, data, pages in await _render(settings, application.id, materials, digest):
        if document.kind in known:
            prepared.append(PreparedDocument(document.kind, document.title, "", pages, 0, ""))
            continue
        digest_of_file = _sha256(data)
        key = f"{application.id}/{digest_of_file}.pdf"
        await storage.put(settings, storage.GENERATED, key, data)
        prepared.append(PreparedDocument(document.kind, document.title, digest_of_file, pages, len(data), key))
    return prepared


async def record(application: Application, digest: str, prepared: list[PreparedDocument],
                 connection=None) -> list[GeneratedDocument]:
    """The rows of prepared documents; a row already there (same materials, same bytes) is kept."""
    result = []
    for item in prepared:
        existing = await GeneratedDocument.get_or_none(application_id=application.id, materials_hash=digest,
                                                       kind=item.kind).using_db(connection)
        if existing is not None:
            result.append(existing)
            continue
        values = dict(application_id=application.id, kind=item.kind, title=item.title, materials_hash=digest,
                      sha256=item.sha256, pages=item.pages, size=item.size, storage_key=item.storage_key)
        if connection is not None:
            result.append(await GeneratedDocument.create(**values, using_db=connection))
            continue
        try:
            async with in_transaction() as conn:
                result.append(await GeneratedDocument.create(**values, using_db=conn))
        except IntegrityError:
            # Two requests made the same document at once: the bytes are the same, keep the first row.
            result.append(await GeneratedDocument.get(application_id=application.id, materials_hash=digest,
                                                      kind=item.kind))
    return result


async def generate(settings: Settings, application: Application, materials: dict,
                   digest: str) -> list[GeneratedDocument]:
    """The documents of these materials, made and stored once (the same materials give the same bytes)."""
    return await record(application, digest, await prepare(settings, application, materials, digest))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def current_documents(settings: Settings, application: Application) -> list[GeneratedDocument]:
    """The documents of the application's signing target, generated if they are not stored yet, 申请书 first."""
    materials, digest = await _target(application)
    documents = await generate(settings, application, materials, digest)
    return sorted(documents, key=lambda doc: (doc.kind != content.APPLICATION_FORM, doc.kind))


async def signed_document(application: Application) -> GeneratedDocument | None:
    if not application.snapshot_hash:
        return None
    return await GeneratedDocument.get_or_none(application_id=application.id, materials_hash=application.snapshot_hash,
                                               kind=SIGNED)


async def stored_listing(application: Application) -> list[dict]:
    """The documents already made for the locked snapshot, signed.pdf included (staff view: nothing generated)."""
    if not application.snapshot_hash:
        return []
    rows = await GeneratedDocument.filter(application_id=application.id, materials_hash=application.snapshot_hash)
    order = {content.APPLICATION_FORM: 0, content.ARTICLES: 1, SIGNED: 2}
    base = f"/api/v1/applications/{application.id}/documents"
    return [view(doc, f"{base}/{doc.kind}.pdf") for doc in sorted(rows, key=lambda doc: order.get(doc.kind, 9))]


def view(document: GeneratedDocument, url: str) -> dict:
    return {"kind": document.kind, "title": document.title, "sha256": document.sha256, "pages": document.pages,
            "size": document.size, "url": url}


async def listing(settings: Settings, application: Application) -> list[dict]:
    """[{kind, title, sha256, pages, url}]: the documents, then signed.pdf once it exists."""
    base = f"/api/v1/applications/{application.id}/documents"
    answer = [view(doc, f"{base}/{doc.kind}.pdf") for doc in await current_documents(settings, application)]
    signed = await signed_document(application)
    if signed is not None:
        answer.append(view(signed, f"{base}/signed.pdf"))
    return answer


async def file_bytes(settings: Settings, document: GeneratedDocument) -> bytes:
    data = await storage.get(settings, storage.GENERATED, document.storage_key)
    if data is None:
        raise NotFound("文书文件不存在")
    return data


async def document_by_kind(settings: Settings, application: Application, kind: str) -> GeneratedDocument:
    """One document by kind (application_form, articles_of_association, signed); NotFound when there is none."""
    if kind == SIGNED:
        document = await signed_document(application)
        if document is None:
            document = await produce_signed_pdf(settings, application)
        if document is None:
            raise NotFound("全部有权签字人签名后才生成签署完成的 PDF")
        return document
    for document in await current_documents(settings, application):
        if document.kind == kind:
            return document
    raise NotFound("没有这种文书")


async def record_opened(request: SigningRequest, document: GeneratedDocument, moment) -> None:
    """The signer opened a document through the link: kept on the request, then in the signature's evidence."""
    opened = dict(request.opened_documents or {})
    if document.kind not in opened:
        opened[document.kind] = {"sha256": document.sha256, "at": moment.isoformat()}
        await SigningRequest.filter(id=request.id, status="pending").update(opened_documents=opened)
        request.opened_documents = opened


def require_opened(request: SigningRequest, documents: list[GeneratedDocument]) -> list[dict]:
    """Before signing, the signer must have opened the 申请书 they sign; → what they opened, for the evidence."""
    opened = request.opened_documents or {}
    by_kind = {doc.kind: doc for doc in documents}
    form = by_kind.get(content.APPLICATION_FORM)
    if form is not None and opened.get(content.APPLICATION_FORM, {}).get("sha256") != form.sha256:
        raise DocumentNotOpened()
    return [{"kind": kind, "sha256": item["sha256"], "opened_at": item["at"]} for kind, item in sorted(opened.items())]


# --- the signed PDF -------------------------------------------------------------------------------------------

def _local(settings: Settings, iso: str | None) -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(ZoneInfo(settings.review.timezone)).strftime("%Y-%m-%d %H:%M:%S")


def _evidence_page(settings: Settings, number: int, entry: EvidenceEntry, head: dict) -> render.EvidencePage:
    payload = json.loads(entry.payload)
    signer = payload.get("signer") or {}
    roles = "、".join(PartyRole.label_of(role, role) for role in signer.get("roles") or [signer.get("role")])
    geo = payload.get("geolocation")
    face = payload.get("face_verification")
    seal = payload.get("seal")
    opened = payload.get("documents_opened") or []
    rows = [
        ("签字人", mask_name(signer.get("name")) or ""), ("身份", roles),
        ("签署方式", SigningMethod.label_of(payload.get("method"), payload.get("method") or "")),
        ("签署时间", f"{_local(settings, payload.get('server_time'))}（北京时间，服务器时间）"),
        ("IP 地址", payload.get("ip") or ""), ("设备", payload.get("user_agent") or "（未提供）"),
        ("地理位置", f"纬度 {geo['latitude']:.4f}，经度 {geo['longitude']:.4f}" if geo else "（签字人未授权定位）"),
        ("人脸核验编号", face["id"] if face else "（不适用）"),
        ("电子印章/电子营业执照", seal["reference"] if seal else "（不适用）"),
        ("签署的材料快照 SHA-256", payload.get("snapshot_hash") or payload.get("materials_hash") or ""),
        ("签署前已打开的文书", "；".join(f"{DocumentKind.label_of(item['kind'], item['kind'])} {item['sha256']}" for item in opened)
         or "（无记录）"),
        ("签名图片 SHA-256", payload.get("signature_image_sha256") or ""),
        ("证据记录", f"第 {entry.seq} 条，entry_hash {entry.entry_hash}"),
        ("前序哈希", entry.prev_hash),
        ("生成本文件时的证据链头", f"第 {head['seq']} 条，entry_hash {head['entry_hash']}"),
    ]
    return render.EvidencePage(f"签名证据（{number}）", tuple(rows))


async def _signatures(application: Application) -> list[tuple[Signature, SigningRequest, EvidenceEntry]]:
    signatures = await current_signatures(application).order_by("evidence_seq")
    requests = {r.id: r for r in await SigningRequest.filter(id__in=[s.request_id for s in signatures])}
    entries = {e.seq: e for e in await EvidenceEntry.filter(seq__in=[s.evidence_seq for s in signatures])}
    return [(s, requests[s.request_id], entries[s.evidence_seq]) for s in signatures]


async def produce_signed_pdf(settings: Settings, application: Application) -> GeneratedDocument | None:
    """signed.pdf of a 云帮办 filing whose every required signature is in; None while some are missing."""
    from server.services.signing.signatures import all_required_signed

    application = await Application.get(id=application.id)
    if application.flow != "cloud" or not application.snapshot_hash or not await all_required_signed(application):
        return None
    existing = await signed_document(application)
    if existing is not None:
        return existing
    snapshot, digest = application.snapshot, application.snapshot_hash
    unsigned = await generate(settings, application, snapshot, digest)
    reference = filing_reference(application.id)
    documents = content.documents_for(snapshot, reference, await authority_name(snapshot["authority_code"]))
    signed_rows = await _signatures(application)
    head = await EvidenceEntry.all().order_by("-seq").first().values("seq", "entry_hash")
    placed, pages = {}, []
    for number, (signature, request, entry) in enumerate(signed_rows, start=1):
        who = content.identity({"kind": request.signer_kind, "credit_code": request.credit_code,
                                "id_number": request.id_number, "name": request.signer_name})
        image = await storage.get(settings, storage.EVIDENCE, signature.image_path)
        placed[who] = render.PlacedSignature(image, _local(settings, signature.signed_at.isoformat()))
        pages.append(_evidence_page(settings, number, entry, head))
    summary = render.EvidencePage("文书与签署摘要", (
        ("申请编号", reference), ("材料快照 SHA-256", digest),
        *((f"{doc.title}（未签署版）SHA-256", doc.sha256) for doc in unsigned),
        ("签名数", str(len(signed_rows))),
        ("平台电子签章", "本文件由一窗通平台以 PAdES 电子签名签署，任何改动都会使签名失效；"
                    f"可在 {verify_url(settings)} 核验。"),
    ))
    footer = render.Footer(reference, digest, verify_url(settings))
    data, page_count = await asyncio.to_thread(render.render, documents, footer, settings.documents.font_cache_dir,
                                               signed=placed, evidence=[summary, *pages], title=SIGNED_TITLE)
    signed = await pades.sign(settings, data, f"一窗通平台签署：申请编号 {reference} 的申请材料及全部签名证据")
    check = await pades.check(settings, signed)
    key = f"{application.id}/{_sha256(signed)}.pdf"
    await storage.put(settings, storage.GENERATED, key, signed)
    try:
        return await GeneratedDocument.create(
            application_id=application.id, kind=SIGNED, title=SIGNED_TITLE, materials_hash=digest,
            sha256=_sha256(signed), pages=page_count, size=len(signed), storage_key=key,
            platform_signer=check.signer,
            timestamp=datetime.fromisoformat(check.timestamp) if check.timestamp else None)
    except IntegrityError:
        return await signed_document(application)


async def after_signature(settings: Settings, application_id) -> None:
    """Called once a signature is committed: the last one makes signed.pdf. A failure here never undoes the
    signature; GET …/documents/signed.pdf makes the file later."""
    try:
        await produce_signed_pdf(settings, await Application.get(id=application_id))
    except Exception:
        log.exception("signed PDF for application %s could not be made now; it will be made on request",
                      application_id)


# --- 一键公证 and the evidence package ------------------------------------------------------------------------

async def notary_receipts(application_id) -> list[dict]:
    """Each evidence entry of the filing with the notary's receipt, or `pending` while the push is under way."""
    entries = await EvidenceEntry.filter(application_id=application_id).order_by("seq")
    receipts = {r.seq: r for r in await NotaryReceipt.filter(application_id=application_id)}
    answer = []
    for entry in entries:
        receipt = receipts.get(entry.seq)
        answer.append({"seq": entry.seq, "kind": json.loads(entry.payload).get("kind"), "entry_hash": entry.entry_hash,
                       "status": "received" if receipt else "pending",
                       "receipt_id": receipt.receipt_id if receipt else None,
                       "received_at": receipt.received_at.isoformat() if receipt else None})
    return answer


async def package_files(settings: Settings, application: Application) -> dict[str, bytes]:
    """What the notary's evidence package adds: signed.pdf (once made) and the notary's receipts."""
    files = {"notary-receipts.json": json.dumps(await notary_receipts(application.id), ensure_ascii=False,
                                                indent=1).encode("utf-8")}
    signed = await signed_document(application)
    if signed is not None:
        data = await storage.get(settings, storage.GENERATED, signed.storage_key)
        if data is not None:
            files["signed.pdf"] = data
    return files

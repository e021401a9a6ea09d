"""Attachments (ID photos, lease contracts …): type by content, images re-encoded without EXIF, SHA-256, access rules.

Only JPEG, PNG and PDF are kept, recognised by their bytes, never by the file name. Images are decoded and
written anew by Pillow, which drops EXIF (GPS position, camera) and anything appended to the file; a small
JPEG thumbnail is made beside them. Files get unguessable keys in the uploads area of server/storage.py.
"""
from __future__ import annotations

import asyncio
import hashlib
import io
import secrets
import uuid
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError
from tortoise.transactions import in_transaction

from server import storage
from server.config import Settings, UploadSettings
from server.errors import Conflict, Invalid, NotFound, TooLarge
from server.models.accounts import Staff
from server.models.applications import Application, Attachment
from server.services import authorities
from server.services.applications import lifecycle, materials
from server.services.uploads import check_pdf, opened_image

THUMBNAIL_SIZE = (320, 320)
_SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"%PDF-", "application/pdf"))
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}


def sniff(data: bytes) -> str | None:
    """The content type by magic bytes, or None."""
    for signature, content_type in _SIGNATURES:
        if data.startswith(signature):
            return content_type
    return None


@dataclass
class Prepared:
    content_type: str
    data: bytes
    thumbnail: bytes | None


def prepare(data: bytes, uploads: UploadSettings) -> Prepared:
    """Check and clean an upload (runs in a worker thread: Pillow and pypdf are CPU work)."""
    content_type = sniff(data)
    if content_type is None or content_type not in uploads.allowed_types:
        raise Invalid("file", "只能上传 JPEG、PNG 图片或 PDF 文件")
    if content_type == "application/pdf":
        if b"%%EOF" not in data[-1024:]:
            raise Invalid("file", "PDF 文件不完整或已损坏")
        check_pdf(data, uploads.max_pdf_pages)
        return Prepared(content_type, data, None)
    try:
        with opened_image(data, uploads.max_image_pixels) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
            if content_type == "image/jpeg" and upright.mode not in ("RGB", "L"):
                upright = upright.convert("RGB")
            output = io.BytesIO()
            if content_type == "image/jpeg":
                upright.save(output, "JPEG", quality=90, optimize=True)
            else:
                upright.save(output, "PNG", optimize=True)
            thumb = upright.convert("RGB")
            thumb.thumbnail(THUMBNAIL_SIZE)
            thumbnail = io.BytesIO()
            thumb.save(thumbnail, "JPEG", quality=80)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise Invalid("file", "图片文件已损坏，无法读取") from None
    return Prepared(content_type, output.getvalue(), thumbnail.getvalue())


async def add(settings: Settings, application: Application, kind, filename: str, data: bytes,
              delegate: lifecycle.Delegate | None = None) -> Attachment:
    """Store one upload for the application; 409 when its materials are locked, 413 above uploads.max_bytes.
    A helper uploading on the applicant's behalf (代办) passes a `delegate`: checked in the write, on the timeline."""
    if not isinstance(kind, str) or kind not in materials.attachment_kinds():
        raise Invalid("kind", "材料类型无效，可选：" + "、".join(materials.attachment_kinds()))
    if len(data) > settings.uploads.max_bytes:
        raise TooLarge(f"文件不能超过 {settings.uploads.max_bytes // (1024 * 1024)} MB", field="file")
    if not data:
        raise Invalid("file", "请选择要上传的文件")
    if application.status not in lifecycle.EDITABLE_STATUSES:
        # Refuse before the image work; the claim in the transaction below is what guarantees it.
        raise Conflict("申请材料已锁定或已提交，不能修改")
    prepared = await asyncio.to_thread(prepare, data, settings.uploads)
    stem = secrets.token_hex(16)
    relative = f"{stem[:2]}/{stem}.{_EXTENSIONS[prepared.content_type]}"
    thumb_relative = f"{stem[:2]}/{stem}.thumb.jpg" if prepared.thumbnail else None
    await storage.put(settings, storage.UPLOADS, relative, prepared.data)
    if thumb_relative:
        await storage.put(settings, storage.UPLOADS, thumb_relative, prepared.thumbnail)
    try:
        async with in_transaction() as conn:
            await lifecycle.claim_materials_write(application, conn, delegate)
            attachment = await Attachment.create(
                application_id=application.id, kind=kind, filename=_clean_filename(filename),
                content_type=prepared.content_type, size=len(prepared.data),
                sha256=hashlib.sha256(prepared.data).hexdigest(), storage_path=relative,
                thumbnail_path=thumb_relative, using_db=conn)
            if delegate:
                await lifecycle.record(application.id, delegate.actor, "helper_upload",
                                       [{"kind": kind, "attachment_id": str(attachment.id)}], connection=conn)
    except Exception:
        await _delete_files(settings, relative, thumb_relative)
        raise
    return attachment


def _clean_filename(filename: str | None) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(char for char in name if char.isprintable())[:255]


async def remove(settings: Settings, application: Application, attachment_id,
                 delegate: lifecycle.Delegate | None = None) -> None:
    attachment = await _find(application, attachment_id)
    async with in_transaction() as conn:
        await lifecycle.claim_materials_write(application, conn, delegate)
        await Attachment.filter(id=attachment.id).using_db(conn).delete()
        if delegate:
            await lifecycle.record(application.id, delegate.actor, "helper_remove_attachment",
                                   [{"kind": attachment.kind, "attachment_id": str(attachment.id)}], connection=conn)
    await _delete_files(settings, attachment.storage_path, attachment.thumbnail_path)


async def _delete_files(settings: Settings, *keys: str | None) -> None:
    for key in keys:
        if key:
            await storage.delete(settings, storage.UPLOADS, key)


async def _find(application: Application, attachment_id) -> Attachment:
    try:
        key = uuid.UUID(str(attachment_id))
    except ValueError:
        raise NotFound("附件不存在") from None
    attachment = await Attachment.get_or_none(id=key, application_id=application.id)
    if attachment is None:
        raise NotFound("附件不存在")
    return attachment


async def readable_application(application_id, applicant_id: int | None = None, staff: Staff | None = None) -> Application:
    """The application if this applicant owns it or this staff member's authority oversees it; else NotFound."""
    try:
        key = uuid.UUID(str(application_id))
    except ValueError:
        raise NotFound("申请不存在") from None
    application = await Application.get_or_none(id=key)
    if application is not None:
        if applicant_id is not None and application.applicant_id == applicant_id:
            return application
        if staff is not None and application.authority_id.startswith(authorities.scope_prefix(staff.authority)):
            return application
    raise NotFound("申请不存在")


async def file_of(application: Application, attachment_id, thumbnail: bool = False) -> tuple[str, str, Attachment]:
    """(storage key in the uploads area, content type, attachment) of the stored file or its thumbnail."""
    attachment = await _find(application, attachment_id)
    key = attachment.thumbnail_path if thumbnail else attachment.storage_path
    if key is None:
        raise NotFound("该附件没有缩略图")
    return key, "image/jpeg" if thumbnail else attachment.content_type, attachment

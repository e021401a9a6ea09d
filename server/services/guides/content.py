"""Guide content: videos (uploaded MP4 or an external link), downloadable forms, and text service guides.

An item belongs to an authority and is shown at every service point that authority oversees
(a city's video appears at its counties' bank branches too).
"""
from __future__ import annotations

import asyncio
import re
import secrets
from pathlib import Path

from server import storage
from server.config import Settings
from server.errors import Invalid, NotFound, TooLarge
from server.models.accounts import Staff
from server.models.authorities import Authority
from server.models.guides import GuideItem
from server.services.authorities import get_authority, scope_prefix
from server.services.guides import page_cache
from server.services.uploads import check_pdf
from server.vocabulary import GuideKind

# What each kind may carry as a file, recognised by content, not by the name the browser sent.
VIDEO_TYPES = {".mp4": "video/mp4"}
FORM_TYPES = {
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def _sniff(kind: str, name: str, content: bytes) -> tuple[str, str]:
    """(extension, content type) of an acceptable file, or Invalid naming `file`."""
    extension = Path(name or "").suffix.lower()
    if kind == "video":
        if content[4:8] == b"ftyp":
            return ".mp4", VIDEO_TYPES[".mp4"]
        raise Invalid("file", "视频应为 MP4 文件")
    if content.startswith(b"%PDF-"):
        return ".pdf", FORM_TYPES[".pdf"]
    if content.startswith(b"\xd0\xcf\x11\xe0") and extension in (".doc", ".xls"):
        return extension, FORM_TYPES[extension]
    if content.startswith(b"PK\x03\x04") and extension in (".docx", ".xlsx"):
        return extension, FORM_TYPES[extension]
    raise Invalid("file", "表格应为 PDF、Word（doc/docx）或 Excel（xls/xlsx）文件")


def _check(kind: str | None, data: dict) -> None:
    if kind is not None and kind not in GuideKind.values():
        *others, last = (f"{code}（{label}）" for code, label in GuideKind.choices())
        raise Invalid("kind", f"类型应为 {'、'.join(others)}或 {last}")
    url = data.get("external_url")
    if url:
        if kind != "video":
            raise Invalid("external_url", "只有视频可以使用外部链接")
        if not re.match(r"^https?://[^\s/]+\S*$", url):
            raise Invalid("external_url", "外部链接应以 http:// 或 https:// 开头")
    if kind == "guide" and "body" in data and not (data["body"] or "").strip():
        raise Invalid("body", "办事指南的正文不能为空")
    if "title" in data and not data["title"]:
        raise Invalid("title", "标题不能为空")


async def _authority_in_scope(staff: Staff, code: str) -> Authority:
    authority = await get_authority(code, field="authority_code")
    if not authority.code.startswith(scope_prefix(staff.authority)):
        raise Invalid("authority_code", "只能管理本登记机关辖区内的导办内容")
    return authority


async def get_in_scope(staff: Staff, item_id: int) -> GuideItem:
    item = await GuideItem.get_or_none(id=item_id, authority_id__startswith=scope_prefix(staff.authority))
    if item is None:
        raise NotFound("导办内容不存在")
    return item


async def create_item(staff: Staff, data: dict) -> GuideItem:
    _check(data.get("kind"), data)
    if data["kind"] == "guide" and not (data.get("body") or "").strip():
        raise Invalid("body", "办事指南的正文不能为空")
    authority = await _authority_in_scope(staff, data.pop("authority_code"))
    item = await GuideItem.create(authority=authority, **data)
    await page_cache.forget()
    return item


async def update_item(staff: Staff, item_id: int, changes: dict) -> GuideItem:
    item = await get_in_scope(staff, item_id)
    _check(item.kind, changes)
    if "authority_code" in changes:
        item.authority = await _authority_in_scope(staff, changes.pop("authority_code"))
    for key, value in changes.items():
        setattr(item, key, value)
    await item.save()
    await page_cache.forget()
    return item


async def list_items(staff: Staff, kind: str | None = None) -> list[GuideItem]:
    query = GuideItem.filter(authority_id__startswith=scope_prefix(staff.authority))
    if kind:
        _check(kind, {})
        query = query.filter(kind=kind)
    return await query.order_by("kind", "sort_order", "id")


def _download_name(name: str, extension: str, title: str) -> str:
    stem = _UNSAFE_NAME.sub("_", Path(name or "").stem).strip(" ._") or _UNSAFE_NAME.sub("_", title)
    return stem[:100] + extension


async def attach_file(settings: Settings, staff: Staff, item_id: int, name: str, content: bytes) -> GuideItem:
    """Stores the video or form (guides area of server/storage.py) and replaces the previous file, if any."""
    item = await get_in_scope(staff, item_id)
    if item.kind == "guide":
        raise Invalid("file", "办事指南是文字内容，不能上传文件")
    if not content:
        raise Invalid("file", "文件为空")
    if len(content) > settings.guides.file_max_bytes:
        raise TooLarge(f"文件不能超过 {settings.guides.file_max_bytes // (1024 * 1024)} MB", field="file")
    extension, content_type = _sniff(item.kind, name, content)
    if content_type == "application/pdf":
        await asyncio.to_thread(check_pdf, content, settings.uploads.max_pdf_pages)
    stored = f"{item.id}-{secrets.token_hex(8)}{extension}"
    await storage.put(settings, storage.GUIDES, stored, content)
    previous = item.file_name
    item.file_name, item.content_type, item.size = stored, content_type, len(content)
    item.download_name = _download_name(name, extension, item.title)
    await item.save(update_fields=["file_name", "content_type", "size", "download_name", "updated_at"])
    if previous:
        await storage.delete(settings, storage.GUIDES, previous)
    await page_cache.forget()
    return item


async def public_item(item_id: int) -> GuideItem:
    """An active item with a file (its key in the guides area), for anyone who scanned a code; 404 otherwise."""
    item = await GuideItem.get_or_none(id=item_id, active=True)
    if item is None or not item.file_name:
        raise NotFound("文件不存在")
    return item


def covering_authorities(code: str) -> list[str]:
    """The authority itself, its city and its province: whose content a point shows."""
    return sorted({code, code[:4] + "00", code[:2] + "0000"})


async def items_for_point(authority_code: str) -> list[GuideItem]:
    items = await GuideItem.filter(active=True, authority_id__in=covering_authorities(authority_code)
                                   ).order_by("sort_order", "id")
    return [item for item in items if _publishable(item)]


def _publishable(item: GuideItem) -> bool:
    if item.kind == "guide":
        return bool(item.body.strip())
    if item.kind == "video":
        return bool(item.file_name or item.external_url)
    return bool(item.file_name)


def file_url(settings: Settings, item: GuideItem) -> str | None:
    if item.file_name:
        return f"{settings.base_url}/guides/files/{item.id}/{item.download_name}"
    return item.external_url


def item_view(settings: Settings, item: GuideItem) -> dict:
    return {
        "id": item.id, "kind": item.kind, "kind_label": GuideKind.label_of(item.kind, item.kind),
        "authority_code": item.authority_id, "title": item.title, "description": item.description,
        "body": item.body, "external_url": item.external_url,
        "file": ({"name": item.download_name, "content_type": item.content_type, "size": item.size,
                  "url": file_url(settings, item)} if item.file_name else None),
        "url": file_url(settings, item), "sort_order": item.sort_order, "active": item.active,
        "created_at": item.created_at.isoformat(), "updated_at": item.updated_at.isoformat(),
    }

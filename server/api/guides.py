"""码上导办 over HTTP: the admin API for service points and guide content, and the public QR landing pages."""
from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Literal
from urllib.parse import quote

from pydantic import Field
from sanic import Blueprint, HTTPResponse, Request, html, json, raw
from sanic_ext import openapi

from server import storage
from server.api.http import RequestModel, client_ip, current_staff, int_arg, parse, stored_file, uploaded_file
from server.errors import Invalid, NotFound, Unavailable
from server.models.accounts import Staff
from server.services.accounts import staff as staff_service
from server.services.guides import content, landing, notices, page_cache, points, scans
from server.services.guides.fonts import FontMissing

admin = Blueprint("guides_admin", url_prefix="/api/v1/admin")
public = Blueprint("guides_public")

PointType = Literal["registration_window", "bank_branch", "mall", "community", "village"]
GuideKind = Literal["video", "form", "guide"]
GENERATED_FILE = re.compile(r"^point-[A-Z0-9]{4,16}-(qr|poster)\.(png|svg|pdf)$")
MIME = {".png": "image/png", ".svg": "image/svg+xml", ".pdf": "application/pdf"}
LANDING_CACHE_CONTROL = "private, max-age=60"


class PointIn(RequestModel):
    name: str = Field(min_length=1, max_length=100)
    type: PointType
    authority_code: str = Field(min_length=6, max_length=6)
    address: str = Field("", max_length=200)
    hotline: str = Field("", max_length=40)
    opening_hours: str = Field("", max_length=100)
    has_sign: bool = False
    has_computer: bool = False
    has_staff: bool = False
    has_guide: bool = False
    has_hotline: bool = False
    has_public_notice: bool = False
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    appointment_hours: dict[str, list[str]] | None = Field(
        None, description='hours per ISO weekday, {"1": ["09:00-12:00", "14:30-17:30"]}; null: the working calendar')
    slot_minutes: int = Field(30, ge=5, le=240)
    slot_capacity: int = Field(1, ge=1, le=100)
    closed_days: list[str] = Field(default_factory=list, max_length=366)


class PointPatch(RequestModel):
    """Only the fields sent change; null is not a value for any of them."""

    name: str = Field(None, min_length=1, max_length=100)
    type: PointType = None
    authority_code: str = Field(None, min_length=6, max_length=6)
    address: str = Field(None, max_length=200)
    hotline: str = Field(None, max_length=40)
    opening_hours: str = Field(None, max_length=100)
    has_sign: bool = None
    has_computer: bool = None
    has_staff: bool = None
    has_guide: bool = None
    has_hotline: bool = None
    has_public_notice: bool = None
    active: bool = None
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    appointment_hours: dict[str, list[str]] | None = None
    slot_minutes: int = Field(None, ge=5, le=240)
    slot_capacity: int = Field(None, ge=1, le=100)
    closed_days: list[str] = Field(None, max_length=366)


class GuideIn(RequestModel):
    kind: GuideKind
    title: str = Field(min_length=1, max_length=100)
    authority_code: str = Field(min_length=6, max_length=6)
    description: str = Field("", max_length=500)
    body: str = Field("", max_length=20000)
    external_url: str | None = Field(None, max_length=500)
    sort_order: int = Field(0, ge=-10000, le=10000)


class GuidePatch(RequestModel):
    title: str = Field(None, min_length=1, max_length=100)
    authority_code: str = Field(None, min_length=6, max_length=6)
    description: str = Field(None, max_length=500)
    body: str = Field(None, max_length=20000)
    external_url: str | None = Field(None, max_length=500)
    sort_order: int = Field(None, ge=-10000, le=10000)
    active: bool = None


async def current_admin(request: Request) -> Staff:
    staff = await current_staff(request)
    staff_service.require_role(staff, "admin")
    return staff


def _changes(request: Request, model: type[RequestModel]) -> dict:
    changes = parse(request, model).model_dump(exclude_unset=True)
    if not changes:
        raise Invalid(None, "没有要修改的字段")
    return changes


# --- Service points -------------------------------------------------------------------------------

@admin.post("/points")
@openapi.summary("Create a service point (帮办网点) within the admin's authority")
@openapi.body({"application/json": PointIn})
@openapi.secured("bearer")
@openapi.response(201, description="the point, with its code and landing URL")
@openapi.response(403, description="not an admin")
@openapi.response(422, description="a field is invalid or the authority is outside the admin's scope")
async def create_point(request: Request):
    staff = await current_admin(request)
    data = parse(request, PointIn).model_dump()
    point = await points.create_point(request.app.ctx.settings, staff, data)
    return json(points.point_view(request.app.ctx.settings, point), status=201)


@admin.get("/points")
@openapi.summary("Service points within the admin's authority")
@openapi.parameter("type", str, "query", description="registration_window | bank_branch | mall | community | village")
@openapi.parameter("authority_code", str, "query", description="only this authority and those under it")
@openapi.secured("bearer")
@openapi.response(403, description="not an admin")
async def list_points(request: Request):
    staff = await current_admin(request)
    found = await points.list_points(staff, request.args.get("type"), request.args.get("authority_code"))
    return json([points.point_view(request.app.ctx.settings, point) for point in found])


@admin.get("/points/<point_id:int>")
@openapi.summary("One service point")
@openapi.secured("bearer")
@openapi.response(404, description="no such point within the admin's authority")
async def get_point(request: Request, point_id: int):
    staff = await current_admin(request)
    return json(points.point_view(request.app.ctx.settings, await points.get_in_scope(staff, point_id)))


@admin.patch("/points/<point_id:int>")
@openapi.summary("Edit a service point; a printed poster is re-rendered when its text changed")
@openapi.body({"application/json": PointPatch})
@openapi.secured("bearer")
@openapi.response(404, description="no such point within the admin's authority")
@openapi.response(422, description="a field is invalid")
async def update_point(request: Request, point_id: int):
    staff = await current_admin(request)
    changes = _changes(request, PointPatch)
    point = await points.update_point(request.app.ctx.settings, staff, point_id, changes)
    return json(points.point_view(request.app.ctx.settings, point))


@admin.post("/points/<point_id:int>/poster")
@openapi.summary("(Re)generate the point's QR code (PNG, SVG) and A4 poster (PNG, PDF) → file names and URLs")
@openapi.secured("bearer")
@openapi.response(404, description="no such point within the admin's authority")
@openapi.response(503, description="no CJK font installed (fonts-noto-cjk)")
async def make_poster(request: Request, point_id: int):
    staff = await current_admin(request)
    settings = request.app.ctx.settings
    point = await points.get_in_scope(staff, point_id)
    files = await points.make_poster(settings, point)
    return json({"point_id": point.id, "landing_url": points.landing_url(settings, point), "files": files})


@admin.get("/points/<point_id:int>/scans")
@openapi.summary("Scans per day and approximate unique visitors of a point")
@openapi.parameter("days", int, "query", description="how many days back, today included (default 30)")
@openapi.secured("bearer")
@openapi.response(404, description="no such point within the admin's authority")
async def point_scans(request: Request, point_id: int):
    staff = await current_admin(request)
    ctx = request.app.ctx
    point = await points.get_in_scope(staff, point_id)
    return json(await scans.scan_report(ctx.settings, ctx.cache, point, int_arg(request, "days", 30)))


# --- Guide content --------------------------------------------------------------------------------

@admin.post("/guides")
@openapi.summary("Create guide content: a video, a downloadable form or a text service guide")
@openapi.body({"application/json": GuideIn})
@openapi.secured("bearer")
@openapi.response(201, description="the item; upload the video or form file with PUT …/file")
@openapi.response(422, description="a field is invalid")
async def create_guide(request: Request):
    staff = await current_admin(request)
    item = await content.create_item(staff, parse(request, GuideIn).model_dump())
    return json(content.item_view(request.app.ctx.settings, item), status=201)


@admin.get("/guides")
@openapi.summary("Guide content within the admin's authority")
@openapi.parameter("kind", str, "query", description="video | form | guide")
@openapi.secured("bearer")
async def list_guides(request: Request):
    staff = await current_admin(request)
    items = await content.list_items(staff, request.args.get("kind"))
    return json([content.item_view(request.app.ctx.settings, item) for item in items])


@admin.patch("/guides/<item_id:int>")
@openapi.summary("Edit guide content (active=false hides it from every landing page)")
@openapi.body({"application/json": GuidePatch})
@openapi.secured("bearer")
@openapi.response(404, description="no such item within the admin's authority")
async def update_guide(request: Request, item_id: int):
    staff = await current_admin(request)
    item = await content.update_item(staff, item_id, _changes(request, GuidePatch))
    return json(content.item_view(request.app.ctx.settings, item))


@admin.put("/guides/<item_id:int>/file")
@openapi.summary("Upload the MP4 of a video or the file of a form (multipart field `file`)")
@openapi.body({"multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}})
@openapi.secured("bearer")
@openapi.response(404, description="no such item within the admin's authority")
@openapi.response(413, description="file too large")
@openapi.response(422, description="not an MP4 / PDF / Word / Excel file")
async def upload_guide_file(request: Request, item_id: int):
    staff = await current_admin(request)
    upload = uploaded_file(request, "请选择要上传的文件（表单字段 file）")
    item = await content.attach_file(request.app.ctx.settings, staff, item_id, upload.name or "", upload.body)
    return json(content.item_view(request.app.ctx.settings, item))


# --- Public: what a scan leads to -----------------------------------------------------------------

async def _render_landing(request: Request, code: str) -> tuple[int | None, bytes]:
    """The page as the bytes sent, so a cached page is answered without encoding it again."""
    ctx = request.app.ctx
    point = await landing.find_point(code)
    if point is None:
        return None, ctx.templates.get_template("guides/not_found.html").render().encode()
    context = await landing.landing_context(ctx.settings, ctx.cache, ctx.wechat, point)
    return point.id, ctx.templates.get_template("guides/landing.html").render(**context).encode()


_HTML = "text/html; charset=utf-8"
_LANDING_HEADERS = {"Cache-Control": LANDING_CACHE_CONTROL}
_NOT_FOUND_HEADERS = {"Cache-Control": "no-store"}


@public.get("/g/<code:str>")
@openapi.summary("The landing page of a service point's QR code (mobile HTML; counts the scan)")
@openapi.response(200, {"text/html": str}, description="the page")
@openapi.response(404, {"text/html": str}, description="a friendly page for an unknown or retired code")
async def landing_page(request: Request, code: str):
    """A public page: no session is looked up; a cached page costs a dict lookup and an in-memory scan count."""
    settings = request.app.ctx.settings
    page = page_cache.get(code) or await page_cache.get_or_render(
        code, lambda: _render_landing(request, code), settings.guides.landing_cache_seconds)
    point_id, body = page
    if point_id is None:
        return HTTPResponse(body, status=404, headers=_NOT_FOUND_HEADERS, content_type=_HTML)
    scans.record_scan(settings, point_id, client_ip(request), request.headers.get("user-agent", ""))
    return HTTPResponse(body, headers=_LANDING_HEADERS, content_type=_HTML)


def _not_found_page(request: Request):
    body = request.app.ctx.templates.get_template("guides/not_found.html").render()
    return html(body, status=404, headers={"Cache-Control": "no-store"})


async def _sheet(request: Request, code: str, business_type: str, entity_type: str) -> dict | None:
    point = await landing.find_point(code)
    if point is None:
        return None
    try:
        return notices.notice_sheet(business_type, entity_type, point)
    except NotFound:
        return None


@public.get("/g/<code:str>/notices/<business_type:str>")
@openapi.summary("The 一次性告知单 of one business type, one per entity type (mobile page)")
@openapi.response(200, {"text/html": str}, description="the list")
@openapi.response(404, {"text/html": str}, description="unknown code or business type")
async def notice_index(request: Request, code: str, business_type: str):
    point = await landing.find_point(code)
    try:
        business = notices.business_sheets(point.code, business_type) if point else None
    except NotFound:
        business = None
    if business is None:
        return _not_found_page(request)
    body = request.app.ctx.templates.get_template("guides/notice_index.html").render(business=business)
    return html(body, headers={"Cache-Control": LANDING_CACHE_CONTROL})


@public.get("/g/<code:str>/notices/<business_type:str>/<entity_type:str>")
@openapi.summary("一次性告知单 of a business and entity type, as a mobile page (where to apply: this point)")
@openapi.response(200, {"text/html": str}, description="the notice sheet")
@openapi.response(404, {"text/html": str}, description="unknown code, business type or entity type")
async def notice_page(request: Request, code: str, business_type: str, entity_type: str):
    sheet = await _sheet(request, code, business_type, entity_type)
    if sheet is None:
        return _not_found_page(request)
    body = request.app.ctx.templates.get_template("guides/notice.html").render(sheet=sheet)
    return html(body, headers={"Cache-Control": LANDING_CACHE_CONTROL})


@public.get("/g/<code:str>/notices/<business_type:str>/<entity_type:str>/<name:str>")
@openapi.summary("The printable A4 of a notice sheet: a4.png or a4.pdf")
@openapi.response(200, description="image/png or application/pdf")
@openapi.response(404, description="unknown code, business type, entity type or file")
@openapi.response(503, description="no CJK font on the server (README: fonts-noto-cjk)")
async def notice_printable(request: Request, code: str, business_type: str, entity_type: str, name: str):
    render = {"a4.png": notices.a4_png, "a4.pdf": notices.a4_pdf}.get(name)
    sheet = await _sheet(request, code, business_type, entity_type) if render else None
    if sheet is None:
        raise NotFound("告知单不存在")
    try:
        content = await asyncio.to_thread(render, sheet, request.app.ctx.settings.guides.font_path)
    except FontMissing:
        raise Unavailable("告知单暂时无法生成图片，请稍后再试或查看网页版") from None
    filename = quote(f"{sheet['title']}.{name.rsplit('.', 1)[1]}")
    return raw(content, content_type=MIME["." + name.rsplit(".", 1)[1]],
               headers={"Cache-Control": "public, max-age=3600",
                        "Content-Disposition": f"inline; filename*=UTF-8''{filename}"})


@public.get("/guides/files/<item_id:int>/<name:str>")
@openapi.summary("A guide video or form file (supports Range requests)")
@openapi.response(206, description="the requested byte range")
@openapi.response(404, description="no such file")
@openapi.response(416, description="the range is outside the file")
async def guide_file(request: Request, item_id: int, name: str):
    item = await content.public_item(item_id)
    return await stored_file(request, storage.GUIDES, item.file_name, item.content_type or "application/octet-stream",
                             {"Cache-Control": "public, max-age=3600"},
                             download_name=item.download_name if item.kind == "form" else None)


@public.get("/qrcodes/<name:str>")
@openapi.summary("A generated QR code or poster (PNG, SVG, PDF)")
@openapi.response(404, description="no such file")
async def generated_file(request: Request, name: str):
    if not GENERATED_FILE.match(name):
        raise NotFound("文件不存在")
    return await stored_file(request, storage.QRCODES, name, MIME["." + name.rsplit(".", 1)[1]],
                             {"Cache-Control": "public, max-age=300"})


@public.listener("after_server_start")
async def start_scan_flusher(app):
    app.ctx.scan_flusher = asyncio.create_task(scans.flush_forever(app.ctx.settings, app.ctx.cache))


@public.listener("before_server_stop")
async def stop_scan_flusher(app):
    flusher = getattr(app.ctx, "scan_flusher", None)
    if flusher is not None:
        flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flusher
    await scans.flush(app.ctx.cache)

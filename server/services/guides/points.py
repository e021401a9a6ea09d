"""Service points (帮办网点): create, edit, list within an admin's authority scope; their QR codes and posters."""
from __future__ import annotations

import asyncio
import re
import secrets

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server import clock, storage
from server.config import Settings
from server.errors import Invalid, NotFound, Unavailable
from server.models.accounts import Staff
from server.models.appointments import AppointmentSlot
from server.models.authorities import Authority
from server.models.guides import POINT_TYPES, ServicePoint
from server.services.appointments import schedule
from server.services.authorities import get_authority, scope_prefix
from server.services.guides import page_cache
from server.services.guides.fonts import FontMissing, missing_glyphs
from server.services.guides.posters import PosterText, file_names, point_files
from server.vocabulary import SixHas

# No look-alikes (0/O, 1/I/L): codes are sometimes typed from a printed poster.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10  # 31^10 ≈ 8·10^14: not guessable by scanning
HOTLINE = re.compile(r"^[0-9][0-9\- ()]{4,19}$")
EDITABLE = ("name", "type", "address", "hotline", "opening_hours", "active", *SixHas.values())
ON_POSTER = {"name", "hotline", "address", "opening_hours", "authority_code"}


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def authority_title(authority: Authority) -> str:
    """The registration authority as printed: 崇左市 → 崇左市市场监督管理局."""
    return f"{authority.name}市场监督管理局"


def landing_url(settings: Settings, point: ServicePoint) -> str:
    return f"{settings.base_url}/g/{point.code}"


def file_url(settings: Settings, name: str) -> str:
    return f"{settings.base_url}/qrcodes/{name}"


def _check_text(settings: Settings, field: str, value: str) -> None:
    """Text printed on a poster must be drawable by the poster font: no tofu boxes on paper."""
    try:
        missing = missing_glyphs(value, settings.guides.font_path)
    except FontMissing:
        return  # no font at all is reported, with the fix, when a poster is made
    if missing:
        raise Invalid(field, f"海报字体无法显示这些字符：{''.join(missing)}")


def _validate(settings: Settings, changes: dict) -> None:
    if "type" in changes and changes["type"] not in POINT_TYPES:
        raise Invalid("type", "网点类型应为 " + "、".join(POINT_TYPES))
    if "name" in changes and not changes["name"]:
        raise Invalid("name", "网点名称不能为空")
    if changes.get("hotline") and not HOTLINE.match(changes["hotline"]):
        raise Invalid("hotline", "咨询电话格式不正确（数字、短横线、空格或括号，5至20位）")
    for field in ("name", "address", "hotline", "opening_hours"):
        if changes.get(field):
            _check_text(settings, field, changes[field])
    if "appointment_hours" in changes:
        schedule.validate_hours(changes["appointment_hours"])
    if "closed_days" in changes:
        changes["closed_days"] = schedule.validate_closed_days(changes["closed_days"] or [])
    for field in ("slot_minutes", "slot_capacity"):
        if field in changes and changes[field] is None:
            raise Invalid(field, "不能为空")


async def _authority_in_scope(staff: Staff, code: str, field: str = "authority_code") -> Authority:
    authority = await get_authority(code, field=field)
    if not authority.code.startswith(scope_prefix(staff.authority)):
        raise Invalid(field, "只能管理本登记机关辖区内的网点")
    return authority


async def get_in_scope(staff: Staff, point_id: int) -> ServicePoint:
    """Another authority's point is 404, as if it did not exist."""
    point = await ServicePoint.get_or_none(id=point_id, authority_id__startswith=scope_prefix(staff.authority)
                                           ).prefetch_related("authority")
    if point is None:
        raise NotFound("网点不存在")
    return point


async def create_point(settings: Settings, staff: Staff, data: dict) -> ServicePoint:
    _validate(settings, data)
    authority = await _authority_in_scope(staff, data.pop("authority_code"))
    for _ in range(5):
        try:
            point = await ServicePoint.create(code=new_code(), authority=authority, **data)
            break
        except IntegrityError:
            continue  # a code collision: astronomically rare, try another
    else:
        raise Unavailable("生成网点编码失败，请重试")
    await page_cache.forget(point.code)
    return point


async def update_point(settings: Settings, staff: Staff, point_id: int, changes: dict) -> ServicePoint:
    """Saves the changes; a poster already printed with changed text is re-rendered after the commit."""
    _validate(settings, changes)
    point = await get_in_scope(staff, point_id)
    reprint = bool(ON_POSTER & changes.keys()) and point.poster_generated_at is not None
    if "authority_code" in changes:
        point.authority = await _authority_in_scope(staff, changes.pop("authority_code"))
    for key, value in changes.items():
        setattr(point, key, value)
    async with in_transaction() as conn:
        await point.save(using_db=conn)
        if "slot_capacity" in changes:
            # Slots not yet started take the new capacity; places already booked stay booked.
            await AppointmentSlot.filter(point_id=point.id, starts_at__gt=clock.now()).using_db(conn).update(
                capacity=point.slot_capacity)
    await page_cache.forget(point.code)
    if reprint:
        await make_poster(settings, point)
    return point


async def list_points(staff: Staff, type_: str | None = None, authority_code: str | None = None) -> list[ServicePoint]:
    query = ServicePoint.filter(authority_id__startswith=scope_prefix(staff.authority))
    if type_:
        if type_ not in POINT_TYPES:
            raise Invalid("type", "网点类型应为 " + "、".join(POINT_TYPES))
        query = query.filter(type=type_)
    if authority_code:
        query = query.filter(authority_id__startswith=scope_prefix(authority_code))
    return await query.order_by("authority_id", "id").prefetch_related("authority")


def poster_text(settings: Settings, point: ServicePoint) -> PosterText:
    return PosterText(url=landing_url(settings, point), authority=authority_title(point.authority),
                      point_name=point.name, hotline=point.hotline, address=point.address,
                      opening_hours=point.opening_hours)


async def make_poster(settings: Settings, point: ServicePoint) -> dict:
    """Renders off the event loop and stores the files; called only after the point's transaction committed."""
    try:
        files = await asyncio.to_thread(point_files, point.code, poster_text(settings, point), settings.guides.font_path)
    except FontMissing as exc:
        raise Unavailable(str(exc)) from None
    return await store_poster(settings, point, files)


async def store_poster(settings: Settings, point: ServicePoint, files: dict[str, bytes]) -> dict:
    """Keeps the rendered files (server/storage.py) and notes when the point's poster was made."""
    for name, data in files.items():
        await storage.put(settings, storage.QRCODES, name, data)
    point.poster_generated_at = clock.now()
    await ServicePoint.filter(id=point.id).update(poster_generated_at=point.poster_generated_at)
    return files_view(settings, point)


async def points_for_posters() -> list[ServicePoint]:
    """Every active point, for `python -m server posters`."""
    return await ServicePoint.filter(active=True).order_by("id").prefetch_related("authority")


def files_view(settings: Settings, point: ServicePoint) -> dict:
    return {kind: {"name": name, "url": file_url(settings, name)} for kind, name in file_names(point.code).items()}


def point_view(settings: Settings, point: ServicePoint) -> dict:
    return {
        "id": point.id, "code": point.code, "name": point.name, "type": point.type,
        "type_label": POINT_TYPES.get(point.type, point.type),
        "authority": {"code": point.authority.code, "name": point.authority.name},
        "address": point.address, "hotline": point.hotline, "opening_hours": point.opening_hours,
        **{key: getattr(point, key) for key in SixHas.values()},
        "six_has_complete": all(getattr(point, key) for key in SixHas.values()),
        "active": point.active,
        "latitude": point.latitude, "longitude": point.longitude,
        "appointment_hours": point.appointment_hours, "slot_minutes": point.slot_minutes,
        "slot_capacity": point.slot_capacity, "closed_days": point.closed_days,
        "booking_url": f"{settings.base_url}/points/{point.code}",
        "landing_url": landing_url(settings, point),
        "files": files_view(settings, point) if point.poster_generated_at else None,
        "poster_generated_at": point.poster_generated_at.isoformat() if point.poster_generated_at else None,
        "created_at": point.created_at.isoformat(), "updated_at": point.updated_at.isoformat(),
    }

"""What the landing page of a QR code shows: the point, its guide content, notice sheets and mini-program links."""
from __future__ import annotations

from sanic.log import logger

from server.cache import Cache
from server.config import Settings
from server.models.guides import POINT_TYPES, ServicePoint
from server.services.guides import content, notices
from server.services.guides.points import authority_title
from server.wechat import WeChatError, WeChatGateway


async def mini_program_link(settings: Settings, cache: Cache, wechat: WeChatGateway, path: str, query: str) -> str | None:
    """A WeChat URL Link that opens the mini-program from a browser; kept until shortly before it expires.

    The page still works without it (WeChat down): the hotline and content do not depend on WeChat.
    """
    key = f"guides:urllink:{path}?{query}"
    link = await cache.get(key)
    if link:
        return link
    days = settings.guides.url_link_days
    try:
        link = await wechat.url_link(path, query, expire_days=days)
    except WeChatError as exc:
        logger.warning("WeChat URL Link for %s?%s not available: %s", path, query, exc)
        return None
    await cache.set(key, link, ttl=max(1, days - 1) * 86400)
    return link


async def find_point(code: str) -> ServicePoint | None:
    if not (4 <= len(code) <= 16 and code.isalnum()):
        return None
    return await ServicePoint.get_or_none(code=code, active=True).prefetch_related("authority")


async def landing_context(settings: Settings, cache: Cache, wechat: WeChatGateway, point: ServicePoint) -> dict:
    items = await content.items_for_point(point.authority.code)
    query = f"point={point.code}"
    return {
        "point": {
            "code": point.code, "name": point.name, "type_label": POINT_TYPES.get(point.type, point.type),
            "address": point.address, "hotline": point.hotline, "opening_hours": point.opening_hours,
            "authority": authority_title(point.authority),
        },
        "videos": [_item(settings, item) for item in items if item.kind == "video"],
        "forms": [_item(settings, item) for item in items if item.kind == "form"],
        "guides": [_item(settings, item) for item in items if item.kind == "guide"],
        "notices": notices.catalogue(point.code),
        "mini_program_link": await mini_program_link(settings, cache, wechat,
                                                     settings.guides.miniprogram_home_path, query),
        "booking_link": await mini_program_link(settings, cache, wechat,
                                                settings.guides.miniprogram_booking_path, query),
    }


def _item(settings: Settings, item) -> dict:
    return {
        "id": item.id, "title": item.title, "description": item.description, "body": item.body,
        "url": content.file_url(settings, item), "uploaded": bool(item.file_name),
        "content_type": item.content_type, "size_kb": (item.size + 1023) // 1024 if item.size else None,
    }

"""Scan statistics: counted in the cache on the hot path, moved to the database in the background.

Per point and local day the cache holds a scan counter and a unique-visitor counter; a visitor is a keyed
hash of IP and user agent (no address is kept), counted once per day through a set-if-absent key. Flushing
takes each counter with GETDEL and adds it to the day's row, so several workers never count a scan twice.
"""
from __future__ import annotations

import asyncio
import hashlib
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sanic.log import logger
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from server import clock
from server.cache import Cache
from server.config import Settings
from server.errors import Invalid
from server.models.guides import PointScanDay, ServicePoint

# Long enough to survive an outage of the flusher; the on-demand flush looks this far back.
COUNTER_DAYS = 8
VISITOR_TTL = 36 * 3600

_dirty: set[tuple[int, str]] = set()


def local_today(settings: Settings) -> date:
    return clock.today(ZoneInfo(settings.review.timezone))


def _keys(point_id: int, day: str) -> tuple[str, str]:
    return f"guides:scans:{point_id}:{day}", f"guides:visitors:{point_id}:{day}"


def visitor_id(settings: Settings, ip: str, user_agent: str) -> str:
    return hashlib.blake2b(f"{ip}\n{user_agent}".encode(), key=settings.secret_key.encode()[:64],
                           digest_size=12).hexdigest()


async def record_scan(settings: Settings, cache: Cache, point_id: int, ip: str, user_agent: str) -> None:
    day = local_today(settings).isoformat()
    scans_key, visitors_key = _keys(point_id, day)
    ttl = COUNTER_DAYS * 86400
    await cache.incr(scans_key, ttl=ttl)
    if await cache.add(f"guides:visitor:{point_id}:{day}:{visitor_id(settings, ip, user_agent)}", "1", VISITOR_TTL):
        await cache.incr(visitors_key, ttl=ttl)
    _dirty.add((point_id, day))


async def _flush_one(cache: Cache, point_id: int, day: str) -> None:
    scans_key, visitors_key = _keys(point_id, day)
    scans = int(await cache.getdel(scans_key) or 0)
    visitors = int(await cache.getdel(visitors_key) or 0)
    if not scans and not visitors:
        return
    try:
        await _add_to_day(point_id, date.fromisoformat(day), scans, visitors)
    except Exception:
        # Put the counts back for the next flush rather than lose them.
        await cache.incr(scans_key, scans, ttl=COUNTER_DAYS * 86400)
        await cache.incr(visitors_key, visitors, ttl=COUNTER_DAYS * 86400)
        raise


async def _add_to_day(point_id: int, day: date, scans: int, visitors: int) -> None:
    add = {"scans": F("scans") + scans, "unique_visitors": F("unique_visitors") + visitors}
    if await PointScanDay.filter(point_id=point_id, day=day).update(**add):
        return
    if not await ServicePoint.exists(id=point_id):
        return
    try:
        await PointScanDay.create(point_id=point_id, day=day, scans=scans, unique_visitors=visitors)
    except IntegrityError:
        await PointScanDay.filter(point_id=point_id, day=day).update(**add)


async def flush(cache: Cache) -> int:
    """Moves every counter this worker touched into the database; returns how many point-days."""
    pending = list(_dirty)
    _dirty.difference_update(pending)
    for point_id, day in pending:
        try:
            await _flush_one(cache, point_id, day)
        except Exception:
            _dirty.add((point_id, day))
            raise
    return len(pending)


async def flush_point(settings: Settings, cache: Cache, point_id: int) -> None:
    """On demand, whichever worker counted them: every day a counter can still be alive."""
    today = local_today(settings)
    for back in range(COUNTER_DAYS):
        day = (today - timedelta(days=back)).isoformat()
        await _flush_one(cache, point_id, day)
        _dirty.discard((point_id, day))


async def flush_forever(settings: Settings, cache: Cache) -> None:
    """The background flusher of one worker; cancelled at shutdown, after which `flush` runs once more."""
    while True:
        await asyncio.sleep(settings.guides.scan_flush_seconds)
        try:
            await flush(cache)
        except Exception:
            logger.exception("flushing scan counters failed; they stay in the cache for the next round")


async def scan_report(settings: Settings, cache: Cache, point: ServicePoint, days: int = 30) -> dict:
    if not 1 <= days <= 366:
        raise Invalid("days", "天数应在 1 至 366 之间")
    await flush_point(settings, cache, point.id)
    since = local_today(settings) - timedelta(days=days - 1)
    rows = await PointScanDay.filter(point_id=point.id, day__gte=since).order_by("day")
    return {
        "point_id": point.id,
        "from": since.isoformat(),
        "to": local_today(settings).isoformat(),
        "days": [{"day": row.day.isoformat(), "scans": row.scans, "unique_visitors": row.unique_visitors}
                 for row in rows],
        "total_scans": sum(row.scans for row in rows),
    }

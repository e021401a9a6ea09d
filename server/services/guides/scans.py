"""Scan statistics: counted in this worker's memory on the hot path, moved to the database in batches.

A scan costs no I/O: the worker adds it to its own per point-and-day counter and remembers the visitor (a keyed
hash of IP and user agent; no address is kept). Every `guides.scan_flush_seconds` the worker adds its counts to
the day's row and its visitors to the day's HyperLogLog in the cache (shared by every worker and machine), whose
estimate becomes the row's unique visitors. A report flushes this worker first; other workers' scans arrive
within one flush interval.
"""
from __future__ import annotations

import asyncio
import hashlib
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sanic.log import logger
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from server import clock
from server.cache import Cache
from server.config import Settings
from server.errors import Invalid
from server.models.guides import PointScanDay, ServicePoint

# The visitor estimate of a day outlives the day by a week, for a flush delayed by an outage.
VISITORS_TTL = 8 * 86400

# (point id, local day) -> scans and visitor ids not yet flushed from this worker
_scans: dict[tuple[int, str], int] = {}
_visitors: dict[tuple[int, str], set[str]] = {}


def local_today(settings: Settings) -> date:
    return clock.today(ZoneInfo(settings.review.timezone))


def _visitors_key(point_id: int, day: str) -> str:
    return f"guides:visitors:{point_id}:{day}"


# The keyed hash's state once the key is in, per secret: a scan copies it instead of hashing the key block again.
_keyed: dict[str, hashlib.blake2b] = {}


def visitor_id(settings: Settings, ip: str, user_agent: str) -> str:
    keyed = _keyed.get(settings.secret_key)
    if keyed is None:
        keyed = _keyed[settings.secret_key] = hashlib.blake2b(key=settings.secret_key.encode()[:64], digest_size=12)
    visitor = keyed.copy()
    visitor.update(f"{ip}\n{user_agent}".encode())
    return visitor.hexdigest()


# (time zone, the local day's first instant, the next day's first instant, the day): while the clock is between the
# two, a scan's day is a comparison, not a time zone conversion.
_day: tuple[str, datetime, datetime, str] | None = None


def _scan_day(settings: Settings) -> str:
    global _day
    now, zone = clock.now(), settings.review.timezone
    if _day is not None and _day[0] == zone and _day[1] <= now < _day[2]:
        return _day[3]
    tz = ZoneInfo(zone)
    day = now.astimezone(tz).date()
    # In UTC, as the clock answers: aware datetimes in the same zone compare without asking for their offsets.
    start, end = (datetime.combine(first, time.min, tz).astimezone(timezone.utc)
                  for first in (day, day + timedelta(days=1)))
    _day = (zone, start, end, day.isoformat())
    return _day[3]


def record_scan(settings: Settings, point_id: int, ip: str, user_agent: str) -> None:
    key = (point_id, _scan_day(settings))
    _scans[key] = _scans.get(key, 0) + 1
    visitors = _visitors.get(key)
    if visitors is None:
        visitors = _visitors[key] = set()
    visitors.add(visitor_id(settings, ip, user_agent))


async def _flush_one(cache: Cache, point_id: int, day: str, scans: int, visitors: set[str]) -> None:
    key = _visitors_key(point_id, day)
    await cache.hll_add(key, visitors, ttl=VISITORS_TTL)
    await _add_to_day(point_id, date.fromisoformat(day), scans, await cache.hll_count(key))


async def _add_to_day(point_id: int, day: date, scans: int, unique_visitors: int) -> None:
    row = PointScanDay.filter(point_id=point_id, day=day)
    if await row.update(scans=F("scans") + scans):
        # Workers flush in any order: the estimate only ever grows.
        await row.filter(unique_visitors__lt=unique_visitors).update(unique_visitors=unique_visitors)
        return
    if not await ServicePoint.exists(id=point_id):
        return
    try:
        await PointScanDay.create(point_id=point_id, day=day, scans=scans, unique_visitors=unique_visitors)
    except IntegrityError:
        await _add_to_day(point_id, day, scans, unique_visitors)


async def flush(cache: Cache, point_id: int | None = None) -> int:
    """Moves this worker's counts (of one point, or all) into the database; returns how many point-days."""
    keys = [key for key in _scans if point_id is None or key[0] == point_id]
    for key in keys:
        scans, visitors = _scans.pop(key, 0), _visitors.pop(key, set())
        if not scans:
            continue  # taken meanwhile by a concurrent flush of this worker
        try:
            await _flush_one(cache, key[0], key[1], scans, visitors)
        except Exception:
            # Put the counts back for the next flush rather than lose them.
            _scans[key] = _scans.get(key, 0) + scans
            _visitors.setdefault(key, set()).update(visitors)
            raise
    return len(keys)


async def flush_forever(settings: Settings, cache: Cache) -> None:
    """The background flusher of one worker; cancelled at shutdown, after which `flush` runs once more."""
    while True:
        await asyncio.sleep(settings.guides.scan_flush_seconds)
        try:
            await flush(cache)
        except Exception:
            logger.exception("flushing scan counters failed; they stay in memory for the next round")


async def scan_report(settings: Settings, cache: Cache, point: ServicePoint, days: int = 30) -> dict:
    if not 1 <= days <= 366:
        raise Invalid("days", "天数应在 1 至 366 之间")
    await flush(cache, point.id)
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

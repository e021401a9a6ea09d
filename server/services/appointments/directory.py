"""The public directory of help points (no login): address, coordinates, hours, hotline, the six 有, and the
helpers it publishes (name and landline only, seed 002), nearest first when a position is given."""
from __future__ import annotations

import math

from server.errors import Invalid
from server.models.accounts import Staff
from server.models.guides import POINT_TYPES, ServicePoint
from server.services.authorities import scope_prefix
from server.vocabulary import SixHas

EARTH_RADIUS_KM = 6371.0


def parse_near(text: str | None) -> tuple[float, float] | None:
    if not text:
        return None
    try:
        lat, lng = (float(part) for part in text.split(","))
    except ValueError:
        raise Invalid("near", "位置格式应为 纬度,经度，如 22.4,107.35") from None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or math.isnan(lat) or math.isnan(lng):
        raise Invalid("near", "纬度应在 -90 至 90、经度应在 -180 至 180 之间")
    return lat, lng


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine)."""
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def helper_name(staff: Staff) -> str:
    return staff.display_name or staff.username


async def published_helpers(point_ids: list[int]) -> dict[int, list[dict]]:
    by_point: dict[int, list[dict]] = {}
    for staff in await Staff.filter(point_id__in=point_ids, role="helper", active=True).order_by("id"):
        by_point.setdefault(staff.point_id, []).append({"name": helper_name(staff), "landline": staff.landline})
    return by_point


def public_point_view(point: ServicePoint, helpers: list[dict], distance: float | None) -> dict:
    return {
        "code": point.code, "name": point.name, "type": point.type, "type_label": POINT_TYPES.get(point.type),
        "authority": {"code": point.authority.code, "name": point.authority.name},
        "address": point.address, "latitude": point.latitude, "longitude": point.longitude,
        "opening_hours": point.opening_hours, "hotline": point.hotline,
        "six_has": [{"key": key, "label": label, "present": getattr(point, key)} for key, label in SixHas.choices()],
        "helpers": helpers,
        "distance_km": round(distance, 2) if distance is not None else None,
    }


async def directory(authority_code: str | None = None, type_: str | None = None,
                    near: str | None = None) -> list[dict]:
    position = parse_near(near)
    query = ServicePoint.filter(active=True)
    if authority_code:
        if not authority_code.isdigit() or len(authority_code) != 6:
            raise Invalid("authority", "登记机关代码应为6位数字")
        query = query.filter(authority_id__startswith=scope_prefix(authority_code))
    if type_:
        if type_ not in POINT_TYPES:
            raise Invalid("type", "网点类型应为 " + "、".join(POINT_TYPES))
        query = query.filter(type=type_)
    points = await query.order_by("authority_id", "id").prefetch_related("authority")
    helpers = await published_helpers([point.id for point in points])
    rows = []
    for point in points:
        located = point.latitude is not None and point.longitude is not None
        distance = distance_km(position, (point.latitude, point.longitude)) if position and located else None
        rows.append(public_point_view(point, helpers.get(point.id, []), distance))
    if position:
        # Nearest first; points without coordinates after those with them.
        rows.sort(key=lambda row: (row["distance_km"] is None, row["distance_km"] or 0))
    return rows

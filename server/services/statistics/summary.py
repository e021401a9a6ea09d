"""The figures of one authority (with its subordinates) for one period, against the same period last year."""
from __future__ import annotations

from dataclasses import dataclass, fields as dc_fields

from server import clock
from server.config import Settings
from server.errors import Invalid, NotFound
from server.models.accounts import Staff
from server.models.applications import BUSINESS_TYPES, ENTITY_TYPES
from server.models.authorities import Authority
from server.services.accounts.staff import require_role
from server.services.authorities import scope_prefix
from server.services.review.access import VIEWING_ROLES
from server.services.statistics import queries
from server.services.statistics.definitions import FIGURES, PERIOD_NOTE, hours_saved_assumption
from server.services.statistics.periods import Period, buckets
from server.vocabulary import BusinessType, EntityType

DURATIONS = ("submission_to_lock", "lock_to_signed", "submission_to_approval")
SERIES_METRICS = ("submitted", "returned", "return_rate", "cloud_submitted", "cloud_share", "first_pass_rate",
                  "signatures_saved", "signing_rounds", "hours_saved")


@dataclass
class Counts:
    submitted: int = 0
    cloud_submitted: int = 0
    returned: int = 0
    first_pass: int = 0
    signing_rounds: int = 0
    signatures_saved: int = 0

    def add(self, row: dict) -> None:
        for field in dc_fields(self):
            if field.name in row:
                setattr(self, field.name, getattr(self, field.name) + row[field.name])

    def figures(self, minutes_per_signature: float) -> dict:
        return {
            "submitted": self.submitted, "returned": self.returned,
            "return_rate": percent(self.returned, self.submitted),
            "cloud_submitted": self.cloud_submitted, "cloud_share": percent(self.cloud_submitted, self.submitted),
            "first_pass": self.first_pass, "first_pass_rate": percent(self.first_pass, self.submitted),
            "signing_rounds": self.signing_rounds, "signatures_saved": self.signatures_saved,
            "hours_saved": self.signatures_saved * minutes_per_signature / 60,
        }


def percent(part: int, whole: int) -> float | None:
    """Exact; shown to two decimals by `shown`, so that 同比 is taken from exact rates."""
    return part * 100 / whole if whole else None


def change(current: float | None, last_year: float | None) -> float | None:
    """同比: the change as a percentage of last year's value; None when last year had none."""
    if current is None or not last_year:
        return None
    return shown((current - last_year) * 100 / last_year)


def shown(value):
    return round(value, 2) if isinstance(value, float) else value


def shown_all(figures: dict) -> dict:
    return {key: shown(value) for key, value in figures.items()}


@dataclass(frozen=True)
class Query:
    authority: Authority
    period: Period
    business_type: str | None = None
    entity_type: str | None = None

    @property
    def scope(self) -> str:
        return scope_prefix(self.authority.code)


async def build_query(staff: Staff, args, period: Period) -> Query:
    """The authority (the caller's own by default; any one within their scope), period and filters of a request."""
    require_role(staff, *VIEWING_ROLES)
    code = args.get("authority") or staff.authority_id
    if not (isinstance(code, str) and len(code) == 6 and code.isdigit()
            and code.startswith(scope_prefix(staff.authority_id))):
        raise NotFound("登记机关不存在或不在您的管辖范围内", field="authority")
    authority = await Authority.get_or_none(code=code)
    if authority is None:
        raise NotFound("登记机关不存在或不在您的管辖范围内", field="authority")
    business_type = args.get("business_type") or None
    if business_type and business_type not in BUSINESS_TYPES:
        raise Invalid("business_type", "business_type：业务类型取值不在允许范围内")
    entity_type = args.get("entity_type") or None
    if entity_type and entity_type not in ENTITY_TYPES:
        raise Invalid("entity_type", "entity_type：主体类型取值不在允许范围内")
    return Query(authority, period, business_type, entity_type)


async def grouped_counts(query: Query, *periods: Period) -> list[dict[tuple[str, str], Counts]]:
    """Counts per (authority code, business type), for each of the periods, in one query over the day rollups."""
    grouped: list[dict[tuple[str, str], Counts]] = [{} for _ in periods]
    for row in await queries.application_counts(query.scope, [(period.first, period.last) for period in periods],
                                                query.business_type, query.entity_type):
        grouped[row["period"]].setdefault((row["authority"], row["business_type"]), Counts()).add(row)
    return grouped


def total(grouped: dict[tuple[str, str], Counts], keep=lambda key: True) -> Counts:
    out = Counts()
    for key, counts in grouped.items():
        if keep(key):
            out.add(counts.__dict__)
    return out


async def subordinates(authority: Authority) -> list[Authority]:
    """The rows of the per-authority table: the authority's own office, then each authority directly under it."""
    children = await Authority.filter(parent_id=authority.code).order_by("code")
    return [authority, *children]


def _owner(code: str, rows: list[Authority]) -> str:
    for row in rows[1:]:
        if code.startswith(scope_prefix(row.code)):
            return row.code
    return rows[0].code


def _compared(current: dict, last_year: dict) -> dict:
    return {key: {"value": shown(value), "last_year": shown(last_year[key]),
                  "yoy": change(value, last_year[key]) if isinstance(value, (int, float)) else None}
            for key, value in current.items()}


async def summary(settings: Settings, query: Query) -> dict:
    minutes = settings.statistics.minutes_per_signature
    last_period = query.period.same_period_last_year()
    now_grouped, last_grouped = await grouped_counts(query, query.period, last_period)

    headline = _compared(total(now_grouped).figures(minutes), total(last_grouped).figures(minutes))
    for key, entry in headline.items():
        entry.update(label=FIGURES[key]["label"], unit=FIGURES[key]["unit"], definition=FIGURES[key]["definition"])

    by_business_type = []
    for business_type in BUSINESS_TYPES:
        if query.business_type and business_type != query.business_type:
            continue
        current = total(now_grouped, lambda key: key[1] == business_type).figures(minutes)
        last = total(last_grouped, lambda key: key[1] == business_type).figures(minutes)
        by_business_type.append({"business_type": business_type, "label": BusinessType(business_type).label,
                                 **shown_all(current), "last_year_return_rate": shown(last["return_rate"]),
                                 "return_rate_yoy": change(current["return_rate"], last["return_rate"])})

    rows = await subordinates(query.authority)
    by_authority = []
    for row in rows:
        def mine(key, code=row.code):
            return _owner(key[0], rows) == code
        current = total(now_grouped, mine).figures(minutes)
        last = total(last_grouped, mine).figures(minutes)
        by_authority.append({"authority": row.code, "name": row.name + ("（本级）" if row is rows[0] and len(rows) > 1 else ""),
                             **shown_all(current), "last_year_return_rate": shown(last["return_rate"]),
                             "return_rate_yoy": change(current["return_rate"], last["return_rate"])})

    return {
        "authority": {"code": query.authority.code, "name": query.authority.name, "level": query.authority.level},
        "period": query.period.as_dict(), "last_year_period": last_period.as_dict(),
        "filters": {"business_type": query.business_type, "entity_type": query.entity_type,
                    "business_type_label": BusinessType.label_of(query.business_type, None),
                    "entity_type_label": EntityType.label_of(query.entity_type, None)},
        "figures": headline,
        "hours_saved_assumption": hours_saved_assumption(minutes),
        "minutes_per_signature": minutes,
        "durations": await durations(query),
        "online": await online_rate(query),
        "by_business_type": by_business_type,
        "by_authority": by_authority,
        "points": await point_figures(query),
        "period_note": PERIOD_NOTE,
    }


async def durations(query: Query) -> dict:
    figures = await queries.duration_figures(DURATIONS, query.scope, query.period.first, query.period.last,
                                             query.business_type, query.entity_type)
    return {kind: {"label": FIGURES[kind]["label"], "definition": FIGURES[kind]["definition"],
                   "unit": FIGURES[kind]["unit"], "count": figures[kind]["count"],
                   **{key: _hours(figures[kind][key]) for key in ("median", "p90", "mean")}}
            for kind in DURATIONS}


def _hours(value) -> float | None:
    return None if value is None else round(float(value), 2)


async def online_rate(query: Query) -> dict:
    months = query.period.whole_months()
    base = {"label": FIGURES["online_rate"]["label"], "definition": FIGURES["online_rate"]["definition"]}
    if query.business_type or query.entity_type:
        return {**base, "rate": None, "note": "线下办件数不分业务类型和主体类型，按类型筛选时不计算网办率"}
    if months is None:
        return {**base, "rate": None, "note": "统计期间不含完整月份，不计算网办率"}
    imported = await queries.offline_filings(query.scope, months.first, months.last)
    if not imported:
        return {**base, "months": months.as_dict(), "rate": None,
                "note": "尚未导入期间内的线下办件数（python -m server stats import-offline），不计算网办率"}
    online = total((await grouped_counts(query, months))[0]).submitted
    offline = sum(row["filings"] for row in imported)
    return {**base, "months": months.as_dict(), "online": online, "offline": offline,
            "rate": shown(percent(online, online + offline))}


async def point_figures(query: Query) -> dict:
    """Scans, and appointments and ratings only where the records exist: with none in the period the figure is
    null and a note says so, rather than a 0 that reads like a measured result."""
    points = await queries.point_scans(query.scope, query.period.first, query.period.last)
    booked = {row["point_id"]: row for row in await queries.point_appointments(
        query.scope, query.period.start, query.period.end, clock.now())}
    rated = {row["point_id"]: row for row in await queries.ratings(query.scope, query.period.start, query.period.end)}
    empty_visits = {"booked": 0, "served": 0, "no_show": 0}
    for point in points:
        visits = booked.get(point["point_id"], empty_visits)
        marks = rated.get(point["point_id"])
        point.update({key: visits[key] for key in empty_visits},
                     ratings=marks["count"] if marks else 0, ratings_bad=marks["bad"] if marks else 0,
                     rating_average=_average(marks["score_sum"], marks["count"]) if marks else None)
    appointments = None
    if booked:
        appointments = {key: sum(row[key] for row in booked.values()) for key in empty_visits}
    ratings = None
    if rated:
        count = sum(row["count"] for row in rated.values())
        filings = rated.get(None)
        ratings = {"count": count, "bad": sum(row["bad"] for row in rated.values()),
                   "average": _average(sum(row["score_sum"] for row in rated.values()), count),
                   "of_appointments": count - (filings["count"] if filings else 0),
                   "of_filings": filings["count"] if filings else 0}
    keys = ("scans", "unique_visitors", "appointments_booked", "appointments_served", "appointments_no_show",
            "ratings", "ratings_bad")
    return {"count": len(points), "scans": sum(p["scans"] for p in points),
            "unique_visitors": sum(p["unique_visitors"] for p in points), "items": points,
            "appointments": appointments, "ratings": ratings,
            "notes": {"appointments": None if appointments else "期间内辖区网点没有预约记录，不统计预约、办结、未到场",
                      "ratings": None if ratings else "期间内没有评价记录，不统计评价"},
            "definitions": {key: FIGURES[key]["definition"] for key in keys}}


def _average(score_sum: int, count: int) -> float | None:
    return round(score_sum / count, 2) if count else None


async def series(settings: Settings, query: Query, metric: str, interval: str) -> dict:
    """One figure per day, week or month of the period, and of the same buckets a year earlier."""
    if metric not in SERIES_METRICS:
        raise Invalid("metric", f"metric：取值应为 {', '.join(SERIES_METRICS)}")
    if interval not in ("day", "week", "month"):
        raise Invalid("interval", "interval：取值应为 day、week 或 month")
    minutes = settings.statistics.minutes_per_signature
    now = buckets(query.period, interval)
    grouped = await grouped_counts(query, *now, *(bucket.same_period_last_year() for bucket in now))
    points = []
    for index, bucket in enumerate(now):
        value = total(grouped[index]).figures(minutes)[metric]
        last_value = total(grouped[len(now) + index]).figures(minutes)[metric]
        points.append({"from": bucket.first.isoformat(), "to": bucket.last.isoformat(), "value": shown(value),
                       "last_year": shown(last_value), "yoy": change(value, last_value)})
    return {"metric": metric, "label": FIGURES[metric]["label"], "unit": FIGURES[metric]["unit"],
            "definition": FIGURES[metric]["definition"], "interval": interval,
            "authority": query.authority.code, "period": query.period.as_dict(), "points": points}


def trend_period(period: Period) -> Period:
    """The months the 退件率 line shows: the period's own months, or its year so far when it lies within one month."""
    if (period.first.year, period.first.month) != (period.last.year, period.last.month):
        return period
    return Period(period.last.replace(month=1, day=1), period.last, period.zone)


async def monthly_return_rate(settings: Settings, query: Query) -> dict:
    trend = Query(query.authority, trend_period(query.period), query.business_type, query.entity_type)
    return await series(settings, trend, "return_rate", "month")

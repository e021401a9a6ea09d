"""Periods: local (Beijing-time) calendar days, inclusive at both ends, as UTC instants [start, end)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from server import clock
from server.errors import Invalid
from server.vocabulary import StatisticsPeriod

MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    first: date  # first local day
    last: date  # last local day, inclusive
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), self.zone).astimezone(timezone.utc)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), self.zone).astimezone(timezone.utc)

    def same_period_last_year(self) -> Period:
        return Period(_year_earlier(self.first), _year_earlier(self.last), self.zone)

    def whole_months(self) -> Period | None:
        """The calendar months wholly inside the period, or None when there is none."""
        first = self.first if self.first.day == 1 else _next_month(self.first)
        after = _next_month(self.last) if (self.last + timedelta(days=1)).day == 1 else self.last.replace(day=1)
        if first >= after:
            return None
        return Period(first, after - timedelta(days=1), self.zone)

    def as_dict(self) -> dict:
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


def _year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def months_of(period: Period) -> list[Period]:
    """The calendar months the period touches, each clipped to the period."""
    months, first = [], period.first
    while first <= period.last:
        last = min(_next_month(first) - timedelta(days=1), period.last)
        months.append(Period(first, last, period.zone))
        first = last + timedelta(days=1)
    return months


def buckets(period: Period, interval: str) -> list[Period]:
    """Days, weeks (Monday to Sunday) or calendar months covering the period, clipped to it."""
    if interval == "month":
        return months_of(period)
    step = 1 if interval == "day" else 7
    out, first = [], period.first
    if interval == "week":
        first_end = period.first + timedelta(days=6 - period.first.weekday())
        out.append(Period(period.first, min(first_end, period.last), period.zone))
        first = first_end + timedelta(days=1)
    while first <= period.last:
        out.append(Period(first, min(first + timedelta(days=step - 1), period.last), period.zone))
        first += timedelta(days=step)
    return out


def preset(name: str, zone: ZoneInfo) -> Period:
    today = clock.today(zone)
    if name == "week":
        return Period(today - timedelta(days=today.weekday()), today, zone)
    if name == "month":
        return Period(today.replace(day=1), today, zone)
    if name == "year":
        return Period(today.replace(month=1, day=1), today, zone)
    if name == "last_year":
        return Period(today.replace(month=1, day=1), today, zone).same_period_last_year()
    raise Invalid("period", f"period：取值应为 {', '.join(StatisticsPeriod.values())}")


def parse_period(args, zone: ZoneInfo) -> Period:
    """From `from`/`to` (YYYY-MM-DD, inclusive) or `period` (week|month|year|last_year); default: this year."""
    raw_from, raw_to = args.get("from") or "", args.get("to") or ""
    if not raw_from and not raw_to:
        return preset(args.get("period") or "year", zone)
    first, last = _date(raw_from, "from"), _date(raw_to, "to")
    if last < first:
        raise Invalid("to", "to：结束日期不能早于开始日期")
    if (last - first).days >= MAX_DAYS:
        raise Invalid("to", f"to：统计期间最长 {MAX_DAYS} 天")
    return Period(first, last, zone)


def _date(raw: str, field: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid(field, f"{field}：日期格式应为 YYYY-MM-DD") from None

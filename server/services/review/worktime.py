"""Due times counted in working time: working hours of working days (Monday to Friday) in the authority's zone."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from server.config import ReviewSettings


def _is_workday(day) -> bool:
    return day.weekday() < 5


def add_working_hours(start: datetime, hours: float, review: ReviewSettings) -> datetime:
    """The moment `hours` of working time after `start`; time outside working hours does not count."""
    zone = ZoneInfo(review.timezone)
    moment = start.astimezone(zone)
    remaining = timedelta(hours=hours)
    while True:
        day = moment.date()
        opens = datetime.combine(day, time(review.workday_start_hour), zone)
        closes = datetime.combine(day, time(0), zone) + timedelta(hours=review.workday_end_hour)
        if _is_workday(day) and moment < closes:
            moment = max(moment, opens)
            if moment + remaining <= closes:
                return (moment + remaining).astimezone(start.tzinfo)
            remaining -= closes - moment
        moment = datetime.combine(day + timedelta(days=1), time(0), zone)


def add_working_days(start: datetime, days: int, review: ReviewSettings) -> datetime:
    """The close of the `days`-th working day after the day of `start` (the start day itself is not counted)."""
    zone = ZoneInfo(review.timezone)
    day = start.astimezone(zone).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if _is_workday(day):
            counted += 1
    closes = datetime.combine(day, time(0), zone) + timedelta(hours=review.workday_end_hour)
    return closes.astimezone(start.tzinfo)


def working_hours_between(start: datetime, end: datetime, review: ReviewSettings) -> float:
    """Working time from `start` to `end` in hours (statistics' durations); 0 when end is not after start."""
    zone = ZoneInfo(review.timezone)
    moment, end = start.astimezone(zone), end.astimezone(zone)
    total = timedelta(0)
    while moment < end:
        day = moment.date()
        opens = datetime.combine(day, time(review.workday_start_hour), zone)
        closes = datetime.combine(day, time(0), zone) + timedelta(hours=review.workday_end_hour)
        if _is_workday(day):
            counted_from, counted_to = max(moment, opens), min(end, closes)
            if counted_to > counted_from:
                total += counted_to - counted_from
        moment = datetime.combine(day + timedelta(days=1), time(0), zone)
    return total.total_seconds() / 3600

"""The working calendar: which days are working days and which hours are working hours.

Statutory holidays and 调休 make-up working days come from the `chinese-calendar` package, corrected and extended by
the overrides file (a year the package does not know yet, a local closure); working hours, lunch break included,
from config `calendar.working_hours`. Every due time and every "working day" in the product is counted here.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import yaml

from server.config import ConfigError, Settings
from server.errors import Unavailable

DEFAULT_OVERRIDES_FILE = Path(__file__).resolve().parents[2] / "data" / "calendar.yaml"


class CalendarYearUnknown(Unavailable):
    code = "calendar_year_unknown"

    def __init__(self, year: int):
        super().__init__(f"{year}年的节假日安排尚未载入工作日历，暂无法计算工作日，请联系管理员更新", field=None)
        self.year = year


def _statutory(day: date) -> tuple[bool, str | None]:
    """(a day off?, the holiday's name) from chinese-calendar, which signals a year it does not know yet by raising
    NotImplementedError: that is translated here, once, into the 503 the product answers."""
    try:
        return chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        raise CalendarYearUnknown(day.year) from None


@dataclass(frozen=True)
class WorkingCalendar:
    zone: ZoneInfo
    # Working periods of a working day, e.g. ((09:00, 12:00), (14:30, 17:30)); the gap is the lunch break.
    periods: tuple[tuple[time, time], ...]
    closed_days: frozenset[date]
    extra_working_days: frozenset[date]
    # Years whose whole arrangement is in the overrides file (the package does not know them).
    override_years: frozenset[int]

    def knows_year(self, year: int) -> bool:
        if year in self.override_years:
            return True
        try:
            _statutory(date(year, 6, 1))
        except CalendarYearUnknown:
            return False
        return True

    def is_working_day(self, day: date) -> bool:
        if day in self.closed_days:
            return False
        if day in self.extra_working_days:
            return True
        if day.year in self.override_years:
            return day.weekday() < 5
        on_holiday, _ = _statutory(day)
        return not on_holiday

    def is_holiday(self, day: date) -> bool:
        """A statutory holiday (with its 调休 days off) or a local closure, not an ordinary weekend: help points
        close even where they open on weekends."""
        if day in self.closed_days:
            return True
        if day in self.extra_working_days or day.year in self.override_years:
            return False
        on_holiday, holiday = _statutory(day)
        return on_holiday and holiday is not None

    def is_makeup_working_day(self, day: date) -> bool:
        """A weekend day worked in exchange for a holiday (调休上班)."""
        return day.weekday() >= 5 and self.is_working_day(day)

    def working_periods(self, day: date) -> list[tuple[datetime, datetime]]:
        if not self.is_working_day(day):
            return []
        return [(datetime.combine(day, opens, self.zone), datetime.combine(day, closes, self.zone))
                for opens, closes in self.periods]

    def next_working_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The moment `hours` of working time after `start`; nights, lunch breaks and days off do not count."""
        moment = start.astimezone(self.zone)
        remaining = timedelta(hours=hours)
        day = moment.date()
        while True:
            for opens, closes in self.working_periods(day):
                if moment >= closes:
                    continue
                moment = max(moment, opens)
                if moment + remaining <= closes:
                    return (moment + remaining).astimezone(start.tzinfo)
                remaining -= closes - moment
                moment = closes
            day += timedelta(days=1)

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The close of the `days`-th working day after the day of `start` (the start day itself is not counted)."""
        day = start.astimezone(self.zone).date()
        for _ in range(days):
            day = self.next_working_day(day)
        return datetime.combine(day, self.periods[-1][1], self.zone).astimezone(start.tzinfo)

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Working time from `start` to `end`, in hours (0 when end is not after start)."""
        return self._working_time(start, end).total_seconds() / 3600

    def working_minutes_between(self, start: datetime, end: datetime) -> int:
        """Working time from `start` to `end` in whole minutes, to the nearest (half a minute up): the statistics'
        durations, kept as integers so that their percentiles can be read from counts per value."""
        return (self._working_time(start, end) + timedelta(seconds=30)) // timedelta(minutes=1)

    def _working_time(self, start: datetime, end: datetime) -> timedelta:
        total = timedelta()
        day, last = start.astimezone(self.zone).date(), end.astimezone(self.zone).date()
        while day <= last:
            for opens, closes in self.working_periods(day):
                overlap = min(closes, end) - max(opens, start)
                if overlap > timedelta():
                    total += overlap
            day += timedelta(days=1)
        return total


def _dates(section: dict | None, path: Path, key: str) -> frozenset[date]:
    days = set()
    for value in (section or {}):
        try:
            days.add(value if isinstance(value, date) else date.fromisoformat(str(value)))
        except ValueError:
            raise ConfigError(f"{path}: {key}: {value!r} is not a date (YYYY-MM-DD)") from None
    return frozenset(days)


@functools.lru_cache(maxsize=8)
def _load(overrides_file: str, working_hours: tuple[str, ...], timezone: str) -> WorkingCalendar:
    path = Path(overrides_file) if overrides_file else DEFAULT_OVERRIDES_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"config key 'calendar.overrides_file': cannot read {path} ({exc.__class__.__name__})") from None
    periods = tuple(tuple(time.fromisoformat(part) for part in period.split("-")) for period in working_hours)
    try:
        years = frozenset(int(year) for year in (data.get("years") or []))
    except (TypeError, ValueError):
        raise ConfigError(f"{path}: years: a list of years such as 2027") from None
    return WorkingCalendar(zone=ZoneInfo(timezone), periods=periods,
                           closed_days=_dates(data.get("closed_days"), path, "closed_days"),
                           extra_working_days=_dates(data.get("working_days"), path, "working_days"),
                           override_years=years)


def calendar_for(settings: Settings) -> WorkingCalendar:
    return _load(settings.calendar.overrides_file, tuple(settings.calendar.working_hours), settings.review.timezone)


# The process's calendar, for the code that runs without settings: the statistics rollups written with each timeline
# entry (lifecycle.transition). Set where every process opens its database (server.db), as the data keys are.
_configured: WorkingCalendar | None = None


def configure(settings: Settings) -> WorkingCalendar:
    global _configured
    _configured = calendar_for(settings)
    return _configured


def configured() -> WorkingCalendar:
    if _configured is None:
        raise RuntimeError("server.services.review.worktime.configure(settings) was not called")
    return _configured


def require_year(settings: Settings, year: int) -> None:
    """At start: a year neither chinese-calendar nor the overrides file knows is an error, never a weekday guess."""
    if not calendar_for(settings).knows_year(year):
        raise ConfigError(
            f"working calendar: {year} is unknown to chinese-calendar {chinese_calendar.__version__} and to the "
            f"overrides file; add its holidays and 调休 working days under 'years' / 'closed_days' / 'working_days' "
            f"of {settings.calendar.overrides_file or DEFAULT_OVERRIDES_FILE}, or upgrade chinesecalendar")


def add_working_hours(start: datetime, hours: float, settings: Settings) -> datetime:
    return calendar_for(settings).add_working_hours(start, hours)


def add_working_days(start: datetime, days: int, settings: Settings) -> datetime:
    return calendar_for(settings).add_working_days(start, days)


def working_hours_between(start: datetime, end: datetime, settings: Settings) -> float:
    return calendar_for(settings).working_hours_between(start, end)

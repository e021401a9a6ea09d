"""Which slots a point offers on a day: its hours per weekday, cut into slots, on days the working calendar and
the point leave open."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from server.config import Settings
from server.errors import Invalid
from server.models.guides import ServicePoint
from server.services.review.worktime import WorkingCalendar, calendar_for

WEEKDAYS = ("1", "2", "3", "4", "5", "6", "7")  # ISO: Monday is 1


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime

    @property
    def start_utc(self) -> datetime:
        """As stored and queried (SQLite compares the stored text, so one zone for every write and filter)."""
        return self.start.astimezone(timezone.utc)

    @property
    def end_utc(self) -> datetime:
        return self.end.astimezone(timezone.utc)


def parse_period(text: str, field: str) -> tuple[time, time]:
    try:
        opens, closes = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except (ValueError, AttributeError):
        raise Invalid(field, "时段格式应为 HH:MM-HH:MM，如 09:00-12:00") from None
    if closes <= opens:
        raise Invalid(field, "时段的结束时间应晚于开始时间")
    return opens, closes


def validate_hours(hours: dict | None, field: str = "appointment_hours") -> None:
    """{"1": ["09:00-12:00", "14:30-17:30"], …}: ISO weekdays, periods in order without overlap."""
    if hours is None:
        return
    if not isinstance(hours, dict):
        raise Invalid(field, "预约时间应按星期（1-7）列出时段")
    for weekday, periods in hours.items():
        if weekday not in WEEKDAYS or not isinstance(periods, list):
            raise Invalid(f"{field}.{weekday}", "星期应为 1（周一）至 7（周日），其值为时段列表")
        previous = None
        for position, period in enumerate(periods):
            opens, closes = parse_period(period, f"{field}.{weekday}[{position}]")
            if previous and opens < previous:
                raise Invalid(f"{field}.{weekday}[{position}]", "时段应按时间先后排列且互不重叠")
            previous = closes


def validate_closed_days(days: list) -> list[str]:
    if not isinstance(days, list):
        raise Invalid("closed_days", "停办日期应为日期列表（YYYY-MM-DD）")
    for position, value in enumerate(days):
        try:
            date.fromisoformat(str(value))
        except ValueError:
            raise Invalid(f"closed_days[{position}]", "日期格式应为 YYYY-MM-DD") from None
    return sorted({str(value) for value in days})


def _periods(calendar: WorkingCalendar, point: ServicePoint, day: date) -> list[tuple[datetime, datetime]]:
    if day.isoformat() in (point.closed_days or []) or calendar.is_holiday(day):
        return []
    if point.appointment_hours is None:
        return calendar.working_periods(day)
    texts = point.appointment_hours.get(str(day.isoweekday())) or []
    if not texts and calendar.is_makeup_working_day(day):
        # 调休上班: a point closed on weekends opens with its Monday hours.
        texts = point.appointment_hours.get("1") or []
    periods = []
    for text in texts:
        opens, closes = parse_period(text, "appointment_hours")
        periods.append((datetime.combine(day, opens, calendar.zone), datetime.combine(day, closes, calendar.zone)))
    return periods


def slots_on(settings: Settings, point: ServicePoint, day: date) -> list[Slot]:
    calendar = calendar_for(settings)
    length = timedelta(minutes=point.slot_minutes)
    slots = []
    for opens, closes in _periods(calendar, point, day):
        start = opens
        while start + length <= closes:
            slots.append(Slot(start, start + length))
            start += length
    return slots

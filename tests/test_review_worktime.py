"""The working calendar: statutory holidays and 调休 (国务院办公厅 notices), working hours 9:00–12:00 and
14:30–17:30 (the posters' hours), and due times counted in it."""
from datetime import date, datetime, timezone

import pytest

from server.config import ConfigError, load_settings
from server.services.review.worktime import CalendarYearUnknown, calendar_for, require_year

DEVELOPMENT = {"YCT_MODE": "development"}
SETTINGS = load_settings(environ=DEVELOPMENT)  # config.yaml: 3 working hours for 云帮办, 3 working days for 受理/核准
CALENDAR = calendar_for(SETTINGS)


def shanghai(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00").astimezone(timezone.utc)


# 国务院办公厅关于2025年部分节假日安排的通知: 春节 1月28日至2月4日放假，1月26日（周日）、2月8日（周六）上班；
# 国庆节、中秋节 10月1日至8日放假，9月28日（周日）、10月11日（周六）上班。
# 关于2026年部分节假日安排的通知: 春节 2月15日至23日放假，2月14日（周六）、2月28日（周六）上班；
# 国庆节 10月1日至7日放假，9月20日（周日）、10月10日（周六）上班。
HOLIDAYS = [("2025-01-28", "2025-02-04"), ("2025-10-01", "2025-10-08"),
            ("2026-02-15", "2026-02-23"), ("2026-10-01", "2026-10-07")]
MAKEUP_WORKING_DAYS = ["2025-01-26", "2025-02-08", "2025-09-28", "2025-10-11",
                       "2026-02-14", "2026-02-28", "2026-09-20", "2026-10-10"]


@pytest.mark.parametrize("first, last", HOLIDAYS)
def test_spring_festival_and_national_day_are_days_off(first, last):
    day = date.fromisoformat(first)
    while day <= date.fromisoformat(last):
        assert not CALENDAR.is_working_day(day), day
        assert CALENDAR.working_periods(day) == []
        day = day.fromordinal(day.toordinal() + 1)
    # The days either side of each holiday are worked (each of them a weekday or a make-up day).
    before, after = date.fromisoformat(first).toordinal() - 1, date.fromisoformat(last).toordinal() + 1
    assert CALENDAR.is_working_day(date.fromordinal(after))
    assert CALENDAR.is_working_day(date.fromordinal(before)) or date.fromordinal(before).weekday() >= 5


@pytest.mark.parametrize("day", MAKEUP_WORKING_DAYS)
def test_makeup_weekend_days_are_working_days(day):
    assert date.fromisoformat(day).weekday() >= 5
    assert CALENDAR.is_working_day(date.fromisoformat(day))
    assert CALENDAR.is_makeup_working_day(date.fromisoformat(day))


def test_an_ordinary_weekend_is_off():
    assert not CALENDAR.is_working_day(date(2026, 11, 28))
    assert not CALENDAR.is_working_day(date(2026, 11, 29))
    assert CALENDAR.is_working_day(date(2026, 11, 27))


@pytest.mark.parametrize("start, due", [
    ("2026-11-23T10:00", "2026-11-23T15:30"),  # Monday 10:00: 2 hours before lunch, 1 after it
    ("2026-11-23T07:30", "2026-11-23T12:00"),  # before opening: counted from 09:00
    ("2026-11-23T12:30", "2026-11-23T17:30"),  # in the lunch break: counted from 14:30
    ("2026-11-23T16:00", "2026-11-24T10:30"),  # 1.5 hours today, 1.5 tomorrow
    ("2026-11-27T16:00", "2026-11-30T10:30"),  # Friday afternoon: the weekend does not count
    ("2026-11-28T10:00", "2026-11-30T12:00"),  # submitted on Saturday
    # The eve of 国庆: the holiday does not count; due after it.
    ("2025-09-30T16:00", "2025-10-09T10:30"),
    ("2026-09-30T16:00", "2026-10-08T10:30"),
    # Before 春节 2026 the make-up Saturday 2月14日 counts.
    ("2026-02-13T16:00", "2026-02-14T10:30"),
])
def test_cloud_review_is_due_within_half_a_working_day(start, due):
    assert CALENDAR.add_working_hours(shanghai(start), SETTINGS.review.cloud_review_working_hours) == shanghai(due)


@pytest.mark.parametrize("start, due", [
    ("2026-11-23T10:00", "2026-11-26T17:30"),  # Monday: the close of Thursday
    ("2026-11-26T10:00", "2026-12-01T17:30"),  # Thursday: Friday, Monday, Tuesday
    ("2026-09-30T10:00", "2026-10-10T17:30"),  # 国庆 2026: 10月8日, 9日 and the make-up Saturday 10日
    ("2025-09-30T10:00", "2025-10-11T17:30"),  # 国庆 2025: 10月9日, 10日 and the make-up Saturday 11日
    ("2026-02-13T10:00", "2026-02-25T17:30"),  # 春节 2026: 2月14日 (Saturday, worked), 24日, 25日
    ("2025-01-24T10:00", "2025-02-05T17:30"),  # 春节 2025: 1月26日 (Sunday, worked), 27日, then 2月5日
])
def test_registration_is_due_within_three_working_days(start, due):
    assert CALENDAR.add_working_days(shanghai(start), SETTINGS.review.registration_working_days) == shanghai(due)


def test_working_hours_between_skip_lunch_nights_and_holidays():
    assert CALENDAR.working_hours_between(shanghai("2026-11-23T09:00"), shanghai("2026-11-23T17:30")) == 6
    assert CALENDAR.working_hours_between(shanghai("2026-09-30T16:00"), shanghai("2026-10-08T10:30")) == 3


def test_a_cloud_submission_on_the_eve_of_national_day_is_due_after_the_holiday(tmp_path):
    from server.services.review.submission import _due_at

    assert _due_at(SETTINGS, "submit_cloud", False, shanghai("2026-09-30T16:00")) == shanghai("2026-10-08T10:30")
    assert _due_at(SETTINGS, "submit_general", False, shanghai("2026-09-30T16:00")) == shanghai("2026-10-10T17:30")


def test_a_year_unknown_to_both_sources_stops_the_start_and_is_never_guessed():
    with pytest.raises(ConfigError, match="2027"):
        require_year(SETTINGS, 2027)
    with pytest.raises(CalendarYearUnknown):
        CALENDAR.is_working_day(date(2027, 3, 1))
    require_year(SETTINGS, 2026)


def test_the_overrides_file_adds_a_year_and_a_local_closure(tmp_path):
    overrides = tmp_path / "calendar.yaml"
    overrides.write_text("years: [2027]\nclosed_days: [2027-10-01, 2026-12-01]\nworking_days: [2027-09-26]\n",
                         encoding="utf-8")
    settings = load_settings(environ={**DEVELOPMENT, "YCT_CALENDAR__OVERRIDES_FILE": str(overrides)})
    require_year(settings, 2027)
    calendar = calendar_for(settings)
    assert not calendar.is_working_day(date(2027, 10, 1))
    assert calendar.is_working_day(date(2027, 9, 26))  # a Sunday, worked
    assert calendar.is_working_day(date(2027, 3, 1))
    assert not calendar.is_working_day(date(2026, 12, 1))  # a local closure on a Tuesday


def test_working_hours_and_lunch_break_are_configurable():
    settings = load_settings(environ=DEVELOPMENT, calendar={"working_hours": ["08:00-12:00"]}, review={"timezone": "UTC"})
    monday_11 = datetime(2026, 11, 23, 11, tzinfo=timezone.utc)
    assert calendar_for(settings).add_working_hours(monday_11, 5) == datetime(2026, 11, 24, 12, tzinfo=timezone.utc)


@pytest.mark.parametrize("hours", [["17:00-09:00"], ["09:00-12:00", "11:00-15:00"], ["nine-to-five"]])
def test_working_hours_that_make_no_sense_are_refused(hours):
    with pytest.raises(ConfigError):
        load_settings(environ=DEVELOPMENT, calendar={"working_hours": hours})


def test_holidays_are_told_apart_from_ordinary_weekends():
    assert CALENDAR.is_holiday(date(2026, 10, 3))  # 国庆, a Saturday
    assert CALENDAR.is_holiday(date(2026, 2, 16))  # 春节, a Monday
    assert not CALENDAR.is_holiday(date(2026, 11, 28))  # an ordinary Saturday
    assert not CALENDAR.is_holiday(date(2026, 10, 10))  # the make-up Saturday

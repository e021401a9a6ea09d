"""Due times count working time only: working hours of Monday to Friday in the configured zone."""
from datetime import datetime, timezone

import pytest

from server.config import ReviewSettings
from server.services.review.worktime import add_working_days, add_working_hours

REVIEW = ReviewSettings()  # 09:00–17:00 Asia/Shanghai, 4 working hours, 3 working days


def shanghai(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00").astimezone(timezone.utc)


@pytest.mark.parametrize("start, due", [
    ("2026-11-23T10:00", "2026-11-23T14:00"),  # Monday morning: the same afternoon
    ("2026-11-23T07:30", "2026-11-23T13:00"),  # before opening: counted from 09:00
    ("2026-11-23T15:00", "2026-11-24T11:00"),  # 2 hours today, 2 tomorrow
    ("2026-11-23T20:00", "2026-11-24T13:00"),  # after closing: from tomorrow's opening
    ("2026-11-27T16:00", "2026-11-30T12:00"),  # Friday afternoon: the weekend does not count
    ("2026-11-28T10:00", "2026-11-30T13:00"),  # submitted on Saturday
])
def test_cloud_review_is_due_within_half_a_working_day(start, due):
    assert add_working_hours(shanghai(start), REVIEW.cloud_review_working_hours, REVIEW) == shanghai(due)


@pytest.mark.parametrize("start, due", [
    ("2026-11-23T10:00", "2026-11-26T17:00"),  # Monday: the close of Thursday
    ("2026-11-26T10:00", "2026-12-01T17:00"),  # Thursday: Friday, Monday, Tuesday
    ("2026-11-29T10:00", "2026-12-02T17:00"),  # Sunday: Monday to Wednesday
])
def test_registration_is_due_within_three_working_days(start, due):
    assert add_working_days(shanghai(start), REVIEW.registration_working_days, REVIEW) == shanghai(due)


def test_working_day_and_zone_are_configurable():
    review = ReviewSettings(workday_start_hour=8, workday_end_hour=12, timezone="UTC")
    monday_11 = datetime(2026, 11, 23, 11, tzinfo=timezone.utc)
    assert add_working_hours(monday_11, 5, review) == datetime(2026, 11, 24, 12, tzinfo=timezone.utc)
    assert add_working_hours(monday_11, 6, review) == datetime(2026, 11, 25, 9, tzinfo=timezone.utc)


def test_a_working_day_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError):
        ReviewSettings(workday_start_hour=17, workday_end_hour=9)

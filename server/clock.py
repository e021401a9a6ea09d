"""The one clock. Every rule that reads the time asks here, so tests move time instead of sleeping.

Production never calls set/advance; tests use the `clock` fixture, which resets after each test.
"""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")

_frozen: datetime | None = None
_offset = timedelta(0)
# monotonic() while frozen, and the seconds set/advance have added to it while running.
_frozen_monotonic = 0.0
_monotonic_offset = 0.0


def now() -> datetime:
    """The current instant, timezone-aware UTC."""
    return _frozen if _frozen is not None else datetime.now(timezone.utc) + _offset


def monotonic() -> float:
    """Seconds that never go back (time.monotonic()), for how long something is kept: a step of the wall clock
    (NTP setting it back) does not stretch a lifetime. set/advance move it forward as they move now(), never back,
    so tests expire what is kept without sleeping."""
    if _frozen is not None:
        return _frozen_monotonic
    return time.monotonic() + _monotonic_offset


def local(tz: ZoneInfo = CHINA) -> datetime:
    """The current wall-clock time where the applicants are."""
    return now().astimezone(tz)


def today(tz: ZoneInfo = CHINA) -> date:
    """Today's date in China: a day starts at local midnight, not at UTC midnight."""
    return local(tz).date()


def end_of_today(tz: ZoneInfo = CHINA) -> datetime:
    """The instant today() turns into tomorrow: the next local midnight."""
    return datetime.combine(today(tz) + timedelta(days=1), datetime.min.time(), tzinfo=tz)


def set(at: datetime) -> None:  # noqa: A001 - clock.set reads as intended at call sites
    """Freeze the clock at an instant (tests only)."""
    global _frozen, _frozen_monotonic
    if at.tzinfo is None:
        raise ValueError("the clock needs a timezone-aware instant")
    _frozen_monotonic = monotonic() + max(0.0, (at - now()).total_seconds())
    _frozen = at.astimezone(timezone.utc)


def advance(delta: timedelta) -> None:
    """Move the clock forward, frozen or running (tests only)."""
    global _frozen, _offset, _frozen_monotonic, _monotonic_offset
    forward = max(0.0, delta.total_seconds())
    if _frozen is not None:
        _frozen += delta
        _frozen_monotonic += forward
    else:
        _offset += delta
        _monotonic_offset += forward


def reset() -> None:
    global _frozen, _offset, _frozen_monotonic, _monotonic_offset
    _frozen, _offset = None, timedelta(0)
    _frozen_monotonic = _monotonic_offset = 0.0

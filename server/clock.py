"""The one clock. Every rule that reads the time asks here, so tests move time instead of sleeping.

Production never calls set/advance; tests use the `clock` fixture, which resets after each test.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")

_frozen: datetime | None = None
_offset = timedelta(0)


def now() -> datetime:
    """The current instant, timezone-aware UTC."""
    return _frozen if _frozen is not None else datetime.now(timezone.utc) + _offset


def local(tz: ZoneInfo = CHINA) -> datetime:
    """The current wall-clock time where the applicants are."""
    return now().astimezone(tz)


def today(tz: ZoneInfo = CHINA) -> date:
    """Today's date in China: a day starts at local midnight, not at UTC midnight."""
    return local(tz).date()


def set(at: datetime) -> None:  # noqa: A001 - clock.set reads as intended at call sites
    """Freeze the clock at an instant (tests only)."""
    global _frozen
    if at.tzinfo is None:
        raise ValueError("the clock needs a timezone-aware instant")
    _frozen = at.astimezone(timezone.utc)


def advance(delta: timedelta) -> None:
    """Move the clock forward, frozen or running (tests only)."""
    global _frozen, _offset
    if _frozen is not None:
        _frozen += delta
    else:
        _offset += delta


def reset() -> None:
    global _frozen, _offset
    _frozen, _offset = None, timedelta(0)

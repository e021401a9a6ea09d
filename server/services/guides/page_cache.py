"""Rendered landing pages kept in this worker for a short time: a scan must not cost a database query.

Edits forget the affected pages at once in the worker that made them; other workers see them after the TTL.
"""
from __future__ import annotations

import time

# Unknown codes are kept too (so random scans cost no query), hence the bound.
MAX_PAGES = 20000
_pages: dict[str, tuple[float, object]] = {}


def get(code: str) -> object | None:
    entry = _pages.get(code)
    if entry is None:
        return None
    if entry[0] <= time.monotonic():
        _pages.pop(code, None)
        return None
    return entry[1]


def put(code: str, page: object, ttl: float) -> None:
    if ttl <= 0:
        return
    if len(_pages) >= MAX_PAGES:
        now = time.monotonic()
        for stale in [key for key, (expires, _) in _pages.items() if expires <= now]:
            del _pages[stale]
        if len(_pages) >= MAX_PAGES:
            _pages.clear()
    _pages[code] = (time.monotonic() + ttl, page)


def forget(code: str | None = None) -> None:
    """One point's page, or every page (guide content is shared by many points)."""
    if code is None:
        _pages.clear()
    else:
        _pages.pop(code, None)

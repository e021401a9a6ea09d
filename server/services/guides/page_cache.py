"""Rendered landing pages kept in this worker for a short time: a scan must not cost a database query.

An edit forgets the affected pages in every worker on every machine (cache.invalidation). When a page is
missing or expired, one request renders it and the others arriving meanwhile wait for that render (no stampede).
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from server.cache import invalidation

# Unknown codes are kept too (so random scans cost no query), hence the bound.
MAX_PAGES = 20000
_pages: dict[str, tuple[float, object]] = {}
_rendering: dict[str, asyncio.Future] = {}
# Bumped by every forget, so a render that started before an edit is not kept after it.
_generation = 0


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


async def get_or_render(code: str, render: Callable[[], Awaitable[object]], ttl: float) -> object:
    page = get(code)
    if page is not None:
        return page
    pending = _rendering.get(code)
    if pending is not None:
        return await asyncio.shield(pending)
    generation = _generation
    future = asyncio.get_running_loop().create_future()
    _rendering[code] = future
    try:
        page = await render()
    except BaseException as exc:
        future.set_exception(exc)
        future.exception()  # retrieved here, so a render nobody waited for does not warn
        raise
    finally:
        _rendering.pop(code, None)
    if generation == _generation:
        put(code, page, ttl)
    future.set_result(page)
    return page


def _forget_local(code: str | None) -> None:
    global _generation
    _generation += 1
    if code is None:
        _pages.clear()
    else:
        _pages.pop(code, None)


invalidation.topic("landing", _forget_local)


async def forget(code: str | None = None) -> None:
    """One point's page, or every page (guide content is shared by many points), in every worker."""
    await invalidation.announce("landing", code)

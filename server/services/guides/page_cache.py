"""Rendered landing pages kept in this worker for a short time: a scan must not cost a database query.

An edit forgets the affected pages in every worker on every machine (cache.invalidation). When a page is
missing or expired, one request renders it and the others arriving meanwhile wait for that render (no stampede).
"""
from __future__ import annotations

from server.cache import invalidation
from server.cache.local import LocalCache

# Unknown codes are kept too (so random scans cost no query), hence the bound.
MAX_PAGES = 20000
_pages = LocalCache(MAX_PAGES)
get, get_or_render, _forget_local = _pages.get, _pages.get_or_render, _pages.forget

invalidation.topic("landing", _forget_local)


async def forget(code: str | None = None) -> None:
    """One point's page, or every page (guide content is shared by many points), in every worker."""
    await invalidation.announce("landing", code)

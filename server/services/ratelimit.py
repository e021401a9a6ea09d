"""Fixed-window limits kept in the cache, shared by every worker when the cache is Redis."""
from __future__ import annotations

from server.cache import Cache
from server.errors import RateLimited


async def hit_window(cache: Cache, key: str, *, limit: int, window: int, message: str | None = None) -> int:
    """Count one attempt; RateLimited (with seconds to wait) once the window's limit is passed."""
    count = await cache.incr(f"rl:{key}:{window}", 1, ttl=window)
    if count > limit:
        retry_after = await cache.ttl(f"rl:{key}:{window}") or window
        raise RateLimited(max(1, int(retry_after + 0.999)), message)
    return count

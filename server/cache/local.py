"""Answers kept in this worker's memory for a short time, rendered once per expiry.

When an entry is missing or expired, one caller renders it and the others asking for the same key meanwhile wait
for that render (no stampede). Every forget bumps a generation, so a render that started before a change (and so
may have read the old rows) answers its callers but is not kept. The owners forget through cache.invalidation,
so every worker on every machine forgets; while this worker cannot hear the others (invalidation.hearing() is
False), nothing is answered from memory or kept.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable

from server.cache import invalidation


class LocalCache:
    def __init__(self, max_entries: int, timer: Callable[[], float] = time.monotonic) -> None:
        # Keys may come from the request (unknown codes, cursors), hence the bound.
        self.max_entries = max_entries
        self._timer = timer
        self._entries: dict[Hashable, tuple[float, object]] = {}
        self._rendering: dict[Hashable, asyncio.Future] = {}
        self._generation = 0

    def get(self, key: Hashable) -> object | None:
        if not invalidation.hearing():
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._timer():
            self._entries.pop(key, None)
            return None
        return entry[1]

    def put(self, key: Hashable, value: object, ttl: float) -> None:
        if ttl <= 0 or not invalidation.hearing():
            return
        if len(self._entries) >= self.max_entries:
            moment = self._timer()
            for stale in [key for key, (expires, _) in self._entries.items() if expires <= moment]:
                del self._entries[stale]
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
        self._entries[key] = (self._timer() + ttl, value)

    async def get_or_render(self, key: Hashable, render: Callable[[], Awaitable[object]],
                            ttl: float | Callable[[object], float]) -> object:
        """The kept value, or render() kept for `ttl` seconds (or ttl(value): how long depends on what was read)."""
        value = self.get(key)
        if value is not None:
            return value
        pending = self._rendering.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        generation = self._generation
        future = asyncio.get_running_loop().create_future()
        self._rendering[key] = future
        try:
            value = await render()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here, so a render nobody waited for does not warn
            raise
        finally:
            self._rendering.pop(key, None)
        if generation == self._generation:
            self.put(key, value, ttl(value) if callable(ttl) else ttl)
        future.set_result(value)
        return value

    def forget(self, key: Hashable | None = None) -> None:
        """One entry, or every entry."""
        self._generation += 1
        if key is None:
            self._entries.clear()
        else:
            self._entries.pop(key, None)

    def forget_where(self, covers: Callable[[Hashable], bool]) -> None:
        """Every entry whose key `covers` says is affected."""
        self._generation += 1
        for key in [key for key in self._entries if covers(key)]:
            del self._entries[key]

"""The cache contract (values with TTL, windowed atomic counters, simple locks) and its two backends."""
from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable

from sanic.log import logger

from server.errors import Conflict


class Cache(ABC):
    """Values are str. Every operation is atomic with respect to other callers of the same backend."""

    @abstractmethod
    async def get(self, key: str) -> str | None: ...

    @abstractmethod
    async def set(self, key: str, value: str, ttl: float | None = None) -> None: ...

    @abstractmethod
    async def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        """Set only if absent; True when this call set it."""

    @abstractmethod
    async def delete(self, key: str) -> None: ...

    @abstractmethod
    async def getdel(self, key: str) -> str | None:
        """Read and remove in one step (single-use values)."""

    @abstractmethod
    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """Add to a counter; the TTL starts with the counter's window (first increment)."""

    @abstractmethod
    async def take_windows(self, windows: list[tuple[str, int, float]]) -> float:
        """Count one hit in every (key, limit, window seconds) together, or in none when any window is full.

        Returns 0 when counted, else the seconds until every full window has freed.
        """

    async def take_windows_many(self, batches: list[list[tuple[str, int, float]]]) -> list[float]:
        """take_windows for each batch, in order (one round trip on Redis)."""
        return [await self.take_windows(windows) for windows in batches]

    @abstractmethod
    async def ttl(self, key: str) -> float | None:
        """Seconds left, None when the key is absent or has no expiry."""

    @abstractmethod
    async def release_if_owner(self, key: str, token: str) -> None: ...

    @abstractmethod
    async def ping(self) -> bool: ...

    @abstractmethod
    async def clear(self) -> None:
        """Remove every key of this application (only its own prefix on a shared Redis)."""

    @abstractmethod
    async def hll_add(self, key: str, members: Iterable[str], ttl: float | None = None) -> None:
        """Add members to a distinct-count estimate (HyperLogLog on Redis); the TTL starts with the first add."""

    @abstractmethod
    async def hll_count(self, key: str) -> int: ...

    @abstractmethod
    async def publish(self, channel: str, message: str) -> None:
        """Tell every other worker sharing this cache; in-process backends have none to tell."""

    @abstractmethod
    def listen(self, channel: str, handler: Callable[[str | None], None],
               lost: Callable[[], None] = lambda: None) -> asyncio.Task | None:
        """Call handler(message) for every message published by others; handler(None) whenever messages may
        have been missed (on each (re)subscription), and lost() when the subscription is lost (messages go unheard
        until the next handler(None)). None when there is nobody else to hear from."""

    async def close(self) -> None:
        return None

    @contextlib.asynccontextmanager
    async def lock(self, key: str, ttl: float = 10.0, wait: float = 0.0) -> AsyncIterator[None]:
        """A short lease; Conflict when another holder keeps it past `wait` seconds."""
        token = secrets.token_hex(16)
        deadline = time.monotonic() + wait
        while not await self.add(f"lock:{key}", token, ttl):
            if time.monotonic() >= deadline:
                raise Conflict("该事项正由他人处理，请稍后再试")
            await asyncio.sleep(0.01)
        try:
            yield
        finally:
            await self.release_if_owner(f"lock:{key}", token)


class MemoryCache(Cache):
    """In-process backend for a single worker (like Django's local-memory cache)."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[str, float | None]] = {}
        # One process: an exact set is the distinct count.
        self._hll: dict[str, tuple[set[str], float | None]] = {}

    def _live(self, key: str) -> tuple[str, float | None] | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry[1] is not None and entry[1] <= time.monotonic():
            del self._data[key]
            return None
        return entry

    @staticmethod
    def _expiry(ttl: float | None) -> float | None:
        return None if ttl is None else time.monotonic() + ttl

    async def get(self, key):
        entry = self._live(key)
        return entry[0] if entry else None

    async def set(self, key, value, ttl=None):
        self._data[key] = (str(value), self._expiry(ttl))

    async def add(self, key, value, ttl=None):
        if self._live(key):
            return False
        self._data[key] = (str(value), self._expiry(ttl))
        return True

    async def delete(self, key):
        self._data.pop(key, None)

    async def getdel(self, key):
        entry = self._live(key)
        self._data.pop(key, None)
        return entry[0] if entry else None

    async def incr(self, key, amount=1, ttl=None):
        entry = self._live(key)
        if entry is None:
            value, expiry = amount, self._expiry(ttl)
        else:
            value, expiry = int(entry[0]) + amount, entry[1]
        self._data[key] = (str(value), expiry)
        return value

    async def take_windows(self, windows):
        wait = 0.0
        for key, limit, window in windows:
            entry = self._live(key)
            if entry and int(entry[0]) >= limit:
                wait = max(wait, window if entry[1] is None else entry[1] - time.monotonic())
        if wait > 0:
            return wait
        for key, _, window in windows:
            entry = self._live(key)
            self._data[key] = (str(int(entry[0]) + 1), entry[1]) if entry else ("1", self._expiry(window))
        return 0.0

    async def ttl(self, key):
        entry = self._live(key)
        if not entry or entry[1] is None:
            return None
        return max(0.0, entry[1] - time.monotonic())

    async def release_if_owner(self, key, token):
        entry = self._live(key)
        if entry and entry[0] == token:
            del self._data[key]

    async def hll_add(self, key, members, ttl=None):
        entry = self._hll.get(key)
        if entry is None or (entry[1] is not None and entry[1] <= time.monotonic()):
            entry = self._hll[key] = (set(), self._expiry(ttl))
        entry[0].update(members)

    async def hll_count(self, key):
        entry = self._hll.get(key)
        if entry is None or (entry[1] is not None and entry[1] <= time.monotonic()):
            return 0
        return len(entry[0])

    async def publish(self, channel, message):
        return None

    def listen(self, channel, handler, lost=lambda: None):
        return None

    async def ping(self):
        return True

    async def clear(self):
        self._data.clear()
        self._hll.clear()


_INCR_WITH_WINDOW = """
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if tonumber(ARGV[2]) > 0 and redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return value
"""

_TAKE_WINDOWS = """
local wait = 0
for i, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= tonumber(ARGV[2 * i - 1]) then
    local left = redis.call('PTTL', key)
    if left < 0 then left = tonumber(ARGV[2 * i]) end
    if left > wait then wait = left end
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('PEXPIRE', key, ARGV[2 * i]) end
end
return 0
"""

_RELEASE_IF_OWNER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisCache(Cache):
    """Shared backend for several workers and hosts, through redis.asyncio."""

    def __init__(self, url: str, prefix: str = "yct:") -> None:
        from redis import asyncio as redis_asyncio

        self._redis = redis_asyncio.from_url(url, decode_responses=True)
        self._prefix = prefix
        self._incr = self._redis.register_script(_INCR_WITH_WINDOW)
        self._release = self._redis.register_script(_RELEASE_IF_OWNER)
        self._take_windows = self._redis.register_script(_TAKE_WINDOWS)

    def _k(self, key: str) -> str:
        return self._prefix + key

    @staticmethod
    def _ms(ttl: float | None) -> int | None:
        return None if ttl is None else max(1, int(ttl * 1000))

    async def get(self, key):
        return await self._redis.get(self._k(key))

    async def set(self, key, value, ttl=None):
        await self._redis.set(self._k(key), str(value), px=self._ms(ttl))

    async def add(self, key, value, ttl=None):
        return bool(await self._redis.set(self._k(key), str(value), px=self._ms(ttl), nx=True))

    async def delete(self, key):
        await self._redis.delete(self._k(key))

    async def getdel(self, key):
        return await self._redis.getdel(self._k(key))

    async def incr(self, key, amount=1, ttl=None):
        return int(await self._incr(keys=[self._k(key)], args=[amount, self._ms(ttl) or 0]))

    async def take_windows(self, windows):
        args: list[int] = []
        for _, limit, window in windows:
            args += [limit, self._ms(window)]
        wait_ms = await self._take_windows(keys=[self._k(key) for key, _, _ in windows], args=args)
        return int(wait_ms) / 1000

    async def take_windows_many(self, batches):
        async with self._redis.pipeline(transaction=False) as pipe:
            for windows in batches:
                args: list[int] = []
                for _, limit, window in windows:
                    args += [limit, self._ms(window)]
                await self._take_windows(keys=[self._k(key) for key, _, _ in windows], args=args, client=pipe)
            return [int(wait_ms) / 1000 for wait_ms in await pipe.execute()]

    async def ttl(self, key):
        ms = await self._redis.pttl(self._k(key))
        return None if ms is None or ms < 0 else ms / 1000

    async def release_if_owner(self, key, token):
        await self._release(keys=[self._k(key)], args=[token])

    async def hll_add(self, key, members, ttl=None):
        members = list(members)
        if not members:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.pfadd(self._k(key), *members)
            if ttl is not None:
                pipe.expire(self._k(key), int(ttl), nx=True)
            await pipe.execute()

    async def hll_count(self, key):
        return int(await self._redis.pfcount(self._k(key)))

    async def publish(self, channel, message):
        await self._redis.publish(self._k(channel), message)

    def listen(self, channel, handler, lost=lambda: None):
        return asyncio.create_task(self._listen(self._k(channel), handler, lost))

    async def _listen(self, channel: str, handler: Callable[[str | None], None], lost: Callable[[], None]) -> None:
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=False) as pubsub:
                    await pubsub.subscribe(channel)
                    async for message in pubsub.listen():
                        if message["type"] == "subscribe":
                            handler(None)
                        elif message["type"] == "message":
                            handler(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis away: try again; handler(None) on resubscribing covers the gap
                logger.warning("cache subscription to %s lost (%s); resubscribing", channel, exc.__class__.__name__)
                lost()
                await asyncio.sleep(1)

    async def ping(self):
        return bool(await self._redis.ping())

    async def clear(self):
        async for key in self._redis.scan_iter(match=self._prefix + "*", count=500):
            await self._redis.delete(key)

    async def close(self):
        await self._redis.aclose()


def make_cache(url: str) -> Cache:
    if url.startswith("memory://"):
        return MemoryCache()
    return RedisCache(url)

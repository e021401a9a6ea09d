"""One contract, two backends: the in-process cache and Redis through redis.asyncio."""
import asyncio

import pytest

from server.errors import Conflict


async def test_get_set_delete(cache):
    assert await cache.get("k") is None
    await cache.set("k", "v")
    assert await cache.get("k") == "v"
    await cache.delete("k")
    assert await cache.get("k") is None


async def test_values_expire(cache):
    await cache.set("k", "v", ttl=0.2)
    assert await cache.get("k") == "v"
    assert 0 < await cache.ttl("k") <= 0.2
    await asyncio.sleep(0.3)
    assert await cache.get("k") is None and await cache.ttl("k") is None


async def test_add_only_sets_when_absent(cache):
    assert await cache.add("k", "first", ttl=5)
    assert not await cache.add("k", "second", ttl=5)
    assert await cache.get("k") == "first"


async def test_getdel_is_single_use(cache):
    await cache.set("k", "v")
    assert await cache.getdel("k") == "v"
    assert await cache.getdel("k") is None


async def test_counter_window_starts_at_first_hit(cache):
    assert await cache.incr("c", ttl=0.3) == 1
    await asyncio.sleep(0.15)
    assert await cache.incr("c", ttl=0.3) == 2  # does not extend the window
    await asyncio.sleep(0.2)
    assert await cache.incr("c", ttl=0.3) == 1


async def test_concurrent_increments_are_atomic(cache):
    results = await asyncio.gather(*(cache.incr("c", ttl=10) for _ in range(50)))
    assert sorted(results) == list(range(1, 51))


async def test_lock_admits_one_holder(cache):
    async with cache.lock("job", ttl=5):
        with pytest.raises(Conflict):
            async with cache.lock("job", ttl=5):
                pass
    async with cache.lock("job", ttl=5):
        pass


async def test_lock_lease_expires(cache):
    assert await cache.add("lock:stuck", "someone", ttl=0.1)
    async with cache.lock("stuck", ttl=5, wait=1):
        pass


async def test_clear_removes_only_own_keys(cache):
    await cache.set("a", "1")
    await cache.clear()
    assert await cache.get("a") is None


async def test_ping(cache):
    assert await cache.ping()

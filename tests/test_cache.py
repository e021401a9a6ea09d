"""One contract, two backends: the in-process cache and Redis through redis.asyncio."""
import asyncio
import os
import socket

import pytest

from server.cache import MemoryCache, RedisCache
from server.errors import Conflict

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")  # as the `cache` fixture


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


async def test_distinct_count(cache):
    await cache.hll_add("visitors", ["a", "b"], ttl=60)
    await cache.hll_add("visitors", ["a", "c"], ttl=60)
    await cache.hll_add("visitors", [], ttl=60)
    assert await cache.hll_count("visitors") == 3
    assert await cache.hll_count("nobody") == 0


async def test_messages_reach_the_other_workers_listening(cache):
    heard: list[str | None] = []
    arrived = asyncio.Event()

    def handler(message):
        heard.append(message)
        arrived.set()

    if isinstance(cache, MemoryCache):
        assert cache.listen("news", handler) is None  # one process: nobody else to hear from
        await cache.publish("news", "x")
        assert heard == []
        return
    other_worker = RedisCache(REDIS_URL, prefix=cache._prefix)
    listener = other_worker.listen("news", handler)
    try:
        await asyncio.wait_for(arrived.wait(), 30)
        assert heard == [None]  # subscribed: whatever was missed before must be forgotten
        arrived.clear()
        await cache.publish("news", "session:abc")
        await asyncio.wait_for(arrived.wait(), 30)
        assert heard == [None, "session:abc"]
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await other_worker.close()


async def test_a_lost_subscription_is_told_and_a_new_one_tells_what_may_have_been_missed(tmp_path):
    """A Redis of its own, stopped and started again under the listener: lost() when it goes, handler(None) when
    the listener has subscribed again (so whatever was announced meanwhile is forgotten)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def redis_server() -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(tmp_path), stdout=asyncio.subprocess.DEVNULL)

    events: asyncio.Queue = asyncio.Queue()
    server = await redis_server()
    worker = RedisCache(f"redis://127.0.0.1:{port}/0")
    listener = worker.listen("news", events.put_nowait, lambda: events.put_nowait("lost"))

    async def subscribed() -> bool:
        # A listener that tried before the server was up was told so; it tries again every second.
        while (heard := await asyncio.wait_for(events.get(), 30)) == "lost":
            pass
        return heard is None

    try:
        assert await subscribed()
        server.terminate()
        await server.wait()
        assert await asyncio.wait_for(events.get(), 30) == "lost"
        server = await redis_server()
        assert await subscribed()
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await worker.close()
        server.terminate()
        await server.wait()


async def test_windows_taken_in_one_batch_count_like_one_at_a_time(cache):
    # Three SMS to one phone whose minute allows two, and one to another phone: the third waits out its minute.
    one, other = [("q:{p1}:60", 2, 60), ("q:{p1}:3600", 5, 3600)], [("q:{p2}:60", 2, 60)]
    waits = await cache.take_windows_many([one, one, other, one])
    assert waits[:3] == [0, 0, 0] and 0 < waits[3] <= 60
    assert await cache.take_windows(other) == 0 and await cache.take_windows(other) > 0

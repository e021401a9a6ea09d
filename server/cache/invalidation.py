"""Invalidating what each worker keeps in its own memory (sessions, landing pages) on every worker and machine.

`announce(topic, key)` forgets the entry here at once and publishes `topic:key` through the cache's pub/sub
(Redis); every other worker's listener forgets it too. While this worker does not hear the others (its subscription
not made yet, or lost), `hearing()` is False and the keepers keep nothing, since a change elsewhere would go
unheard; when the subscription comes back, every topic forgets everything.

A topic's name is defined here when the module that keeps the entries is not the one that announces the change:
both import it from this layer, so the writer need not know (or import) who keeps what.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable

from server.cache import Cache
from server.transactions import when_ended

CHANNEL = "invalidate"
# The 待办 pages (services.review.queue keeps them); the key is the authority whose application changed status
# (services.applications.lifecycle announces it).
REVIEW_QUEUE = "review_queue"
# Each applicant's list of applications (services.applications.service keeps them); the key is the applicant whose
# application changed (services.applications.lifecycle and service announce it), or every applicant when the names
# register or the reservations change (a row's `missing` says whether its name is still usable).
APPLICANT_APPLICATIONS = "applicant_applications"
# topic -> forget(key); forget(None) forgets every entry of the topic.
_topics: dict[str, Callable[[str | None], None]] = {}
_cache: Cache | None = None
# A process with nobody else to hear from (one worker on the in-process cache, a command) hears everything.
_hearing = True


def hearing() -> bool:
    """Whether this worker would hear another's announcement now: what it keeps is only trustworthy while it does."""
    return _hearing


def topic(name: str, forget: Callable[[str | None], None]) -> None:
    _topics[name] = forget


async def announce(name: str, key: str | None = None) -> None:
    # A process that never loaded the topic's keeper has nothing to forget here, and still tells the others.
    forget = _topics.get(name)
    if forget is not None:
        forget(key)
    if _cache is not None:
        await _cache.publish(CHANNEL, f"{name}:{'*' if key is None else key}")


def announce_when_ended(connection, name: str, key: str | None = None) -> None:
    """announce() once `connection`'s transaction has ended: before, a request could keep the old rows again.

    After a rollback too: on SQLite's one connection a request may have read and kept the uncommitted rows."""
    when_ended(connection, lambda: announce(name, key))


def forget_everything() -> None:
    """Every topic's every entry, in this worker only."""
    for forget in _topics.values():
        forget(None)


def _received(message: str | None) -> None:
    global _hearing
    if message is None:
        _hearing = True
        forget_everything()
        return
    name, _, key = message.partition(":")
    forget = _topics.get(name)
    if forget is not None:
        forget(None if key == "*" else key)


def _lost() -> None:
    global _hearing
    _hearing = False
    forget_everything()


def start(cache: Cache) -> asyncio.Task | None:
    """Called once per worker when it starts serving."""
    global _cache, _hearing
    _cache = cache
    listener = cache.listen(CHANNEL, _received, _lost)
    # Deaf until subscribed (the listener's first message).
    _hearing = listener is None
    return listener


async def stop(listener: asyncio.Task | None) -> None:
    global _cache, _hearing
    _cache = None
    _hearing = True
    if listener is not None:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)

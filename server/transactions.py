"""What runs once a transaction has committed: forgetting what workers keep in memory about the rows it changed.

Forgetting before the commit is not enough: a request arriving between the forget and the commit reads the old
rows and keeps them again. So a write registers `after_commit(connection, callback)` inside its transaction, and
the outermost transaction runs the callbacks after its COMMIT (not after a rollback); `when_ended` callbacks run
after a rollback as well. The database connections are
tortoise's own clients whose outermost transaction context does this (`open_database` names this module as the
engine), so every `in_transaction()` has the hook without its call sites knowing.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from tortoise.backends.asyncpg import AsyncpgDBClient
from tortoise.backends.sqlite import SqliteClient

log = logging.getLogger("yct.transactions")

_CALLBACKS = "_yct_after_commit"


class _AfterCommit:
    """The outermost transaction's context: tortoise's, then the registered callbacks once it has committed."""

    __slots__ = ("_client", "_context")

    def __init__(self, context) -> None:
        self._context = context
        self._client = None

    async def __aenter__(self):
        self._client = await self._context.__aenter__()
        setattr(self._client, _CALLBACKS, [])
        return self._client

    async def __aexit__(self, exc_type, exc, traceback) -> None:
        callbacks = getattr(self._client, _CALLBACKS)
        await self._context.__aexit__(exc_type, exc, traceback)
        for callback, after_rollback_too in callbacks:
            if exc_type is not None and not after_rollback_too:
                continue
            try:
                await callback()
            except Exception:
                # The transaction has ended: the caller's answer stands. A forget that did not reach other workers
                # leaves what they keep until it expires (a 待办 page 2 s, an applicant's list at most 10 min), or
                # until their subscription is lost and regained, when they forget everything.
                log.exception("after-commit callback failed")


class _Asyncpg(AsyncpgDBClient):
    def _in_transaction(self):
        return _AfterCommit(super()._in_transaction())


class _Sqlite(SqliteClient):
    def _in_transaction(self):
        return _AfterCommit(super()._in_transaction())


def get_client_class(db_info: dict) -> type:
    """tortoise's engine entry point: the same clients as its own asyncpg and sqlite engines, with the hook."""
    return _Sqlite if "file_path" in db_info["credentials"] else _Asyncpg


def engine_of(connection: dict) -> dict:
    """A connection's configuration (tortoise's expanded form) served by these clients."""
    if not connection["engine"].endswith((".asyncpg", ".sqlite")):
        raise ValueError(f"no after-commit hook for the engine {connection['engine']}")
    return {**connection, "engine": __name__}


def after_commit(connection, callback: Callable[[], Awaitable[None]]) -> None:
    """Run `callback` once the transaction `connection` belongs to has committed; not after a rollback.

    Outside a transaction there is nothing to wait for, and a caller that thinks otherwise has a bug: refused."""
    _outermost(connection).append((callback, False))


def when_ended(connection, callback: Callable[[], Awaitable[None]]) -> None:
    """Run `callback` once the transaction `connection` belongs to has ended, committed or rolled back.

    For forgetting what was read meanwhile: on SQLite's one connection another request reads the transaction's
    uncommitted rows, so what it kept is wrong after a rollback as well."""
    _outermost(connection).append((callback, True))


def _outermost(connection) -> list:
    client = connection
    # A nested transaction (a savepoint) wraps its parent's client: the callbacks belong to the outermost.
    while not hasattr(client, _CALLBACKS):
        client = getattr(client, "_parent", None)
        if client is None:
            raise RuntimeError("after_commit outside a transaction")
    return getattr(client, _CALLBACKS)

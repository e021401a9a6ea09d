"""Tortoise ORM wiring: one app, its models, its migrations; the same code on SQLite and PostgreSQL."""
from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from tortoise import Tortoise, connections
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations import executor as migration_executor
from tortoise.migrations.schema_editor import SqliteSchemaEditor
from tortoise.queryset import QuerySet

from server.config import Settings
from server.crypto import configure as configure_crypto
from server.services.review import worktime
from server.transactions import engine_of

MODEL_MODULES = [
    "server.models.authorities",
    "server.models.accounts",
    "server.models.applications",
    "server.models.notifications",
    "server.models.signing",
    "server.models.names",
    "server.models.review",
    "server.models.guides",
    "server.models.documents",
    "server.models.appointments",
    "server.models.enterprise_accounts",
    "server.models.archive",
    "server.models.licenses",
    "server.models.annual_reports",
    "server.models.statistics",
]
MIGRATIONS_MODULE = "server.migrations"


def sqlite_statements(script: str) -> list[str]:
    """The statements of a script, cut only at the semicolons that end one (not those in a comment or a string)."""
    statements, start = [], 0
    for end, char in enumerate(script):
        if char == ";" and sqlite3.complete_statement(script[start:end + 1]):
            statements.append(script[start:end + 1])
            start = end + 1
    statements.append(script[start:])
    return [statement.strip() for statement in statements if statement.strip(" \t\r\n;")]


class _SqliteSchemaEditor(SqliteSchemaEditor):
    """tortoise's own, but a migration's script is cut where SQLite's parser says a statement ends: tortoise cut it
    at every `;`, so a table comment (a model docstring's first line) holding one broke every SQLite migration."""

    async def _run_sql(self, sql: str) -> None:
        if self.collect_sql or not self.atomic_migration:
            await super()._run_sql(sql)
            return
        for statement in sqlite_statements(sql):
            await self.client.execute_query(statement)


# tortoise picks the SQLite editor by this name, and offers no setting for another one.
migration_executor.SqliteSchemaEditor = _SqliteSchemaEditor


def database_url(settings: Settings) -> str:
    url = settings.database.url
    if url.startswith("sqlite://") and url != "sqlite://:memory:":
        Path(url[len("sqlite://"):]).expanduser().parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("postgresql://"):
        url = "postgres://" + url[len("postgresql://"):]
    return url


async def _keep_session(connection) -> None:
    """What asyncpg runs when a connection goes back to the pool, instead of its reset query.

    The default (`SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`) is one more round trip
    after every query. Our sessions carry no state: no LISTEN, no session-level SET, cursors and advisory locks
    only inside transactions; an unfinished transaction is still rolled back by asyncpg before this runs.
    """


def tortoise_config(settings: Settings) -> dict:
    connection: str | dict = database_url(settings)
    if connection.startswith("postgres://"):
        connection = expand_db_url(connection)
        connection["credentials"]["reset"] = _keep_session
    return {
        "connections": {"default": connection},
        "apps": {
            "yct": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def open_database(settings: Settings) -> None:
    configure_crypto(settings)
    worktime.configure(settings)
    config = tortoise_config(settings)
    # Served by clients whose transactions run after-commit callbacks (server.transactions); migrations keep
    # tortoise's own engines.
    default = config["connections"]["default"]
    config["connections"]["default"] = engine_of(expand_db_url(default) if isinstance(default, str) else default)
    # Global: Sanic runs listeners and requests in different tasks.
    await Tortoise.init(config=config, _enable_global_fallback=True)
    # Connect now: tortoise connects lazily, and concurrent first queries (the first requests racing the
    # background sender) could each open a SQLite connection and strand one of them.
    await connections.get("default").execute_query("SELECT 1")


class CompiledSelect:
    """An ORM select turned into SQL once per process; each call only binds its parameters.

    On the hot read paths the ORM's query building costs more CPU than the database round trip. `build(*params)`
    must bind the parameters in the order given (checked on first use).
    """

    def __init__(self, build: Callable[..., QuerySet]) -> None:
        self._build = build
        self._sql: str | None = None

    async def fetch(self, *params) -> list:
        if self._sql is None:
            query = self._build(*params)
            query._choose_db_if_not_chosen()
            query._make_query()
            sql, bound = query.query.get_parameterized_sql()
            if list(bound) != list(params):
                raise ValueError(f"compiled select binds {bound!r}, not the parameters in order {params!r}")
            self._sql, self._model = sql, query.model
        client = connections.get("default")
        pool = getattr(client, "_pool", None)
        if pool is not None and not isinstance(client, TransactionalDBClient):
            # asyncpg's pool acquires, runs the prepared statement and releases in one call. Tortoise's wrapper
            # around the same (two exception translators, an async context manager, a debug log call, each row
            # copied into a dict) took a third of the query's time in the applicant's list under pyinstrument.
            # Inside a transaction the query stays on the transaction's connection (the branch below).
            rows = await pool.fetch(self._sql, *params)
        else:
            rows = await client.execute_query_dict(self._sql, list(params))
        init = self._model._init_from_db
        return [init(**row) for row in rows]


_compiled: dict[tuple, CompiledSelect] = {}


def compiled(shape: tuple, build: Callable[..., QuerySet]) -> CompiledSelect:
    """The CompiledSelect of one shape of a list's query (which filters are present, how many ids): a list whose
    filters vary compiles each of its few shapes once."""
    select = _compiled.get(shape)
    if select is None:
        select = _compiled[shape] = CompiledSelect(build)
    return select


async def close_database() -> None:
    await Tortoise.close_connections()


async def migrate(settings: Settings) -> list[str]:
    """Apply every pending migration; returns the names applied."""
    from tortoise.migrations.api import migrate as run_migrations

    applied: list[str] = []
    # A migration that counts working time (0025) reads the process's calendar.
    worktime.configure(settings)

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_done":
            applied.append(f"{app_label}.{name}")

    await run_migrations(config=tortoise_config(settings), progress=progress)
    await Tortoise.close_connections()
    return applied


def is_postgres(settings: Settings) -> bool:
    return settings.database.url.startswith(("postgres", "asyncpg"))

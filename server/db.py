"""Tortoise ORM wiring: one app, its models, its migrations; the same code on SQLite and PostgreSQL."""
from __future__ import annotations

from pathlib import Path

from tortoise import Tortoise, connections

from server.config import Settings

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
    "server.models.enterprise_accounts",
    "server.models.archive",
    "server.models.licenses",
    "server.models.annual_reports",
]
MIGRATIONS_MODULE = "server.migrations"


def database_url(settings: Settings) -> str:
    url = settings.database.url
    if url.startswith("sqlite://") and url != "sqlite://:memory:":
        Path(url[len("sqlite://"):]).expanduser().parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("postgresql://"):
        url = "postgres://" + url[len("postgresql://"):]
    return url


def tortoise_config(settings: Settings) -> dict:
    return {
        "connections": {"default": database_url(settings)},
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
    # Global: Sanic runs listeners and requests in different tasks.
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
    # Connect now: tortoise connects lazily, and concurrent first queries (the first requests racing the
    # background sender) could each open a SQLite connection and strand one of them.
    await connections.get("default").execute_query("SELECT 1")


async def close_database() -> None:
    await Tortoise.close_connections()


async def migrate(settings: Settings) -> list[str]:
    """Apply every pending migration; returns the names applied."""
    from tortoise.migrations.api import migrate as run_migrations

    applied: list[str] = []

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_done":
            applied.append(f"{app_label}.{name}")

    await run_migrations(config=tortoise_config(settings), progress=progress)
    await Tortoise.close_connections()
    return applied


def is_postgres(settings: Settings) -> bool:
    return settings.database.url.startswith(("postgres", "asyncpg"))

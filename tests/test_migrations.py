"""Migrations upgrade an existing database in place, keeping its rows.

Run in child processes: tortoise's migration runner replaces the process-wide ORM state the test server uses.
"""
import os
import sqlite3
import subprocess
import sys

MIGRATE_TO_FIRST = """
import asyncio
from tortoise import Tortoise
from tortoise.migrations.api import migrate
from server.config import load_settings
from server.db import tortoise_config

async def main():
    await migrate(config=tortoise_config(load_settings()), target="yct.0001_initial")
    await Tortoise.close_connections()

asyncio.run(main())
"""


def _run(args, db_path):
    env = {**os.environ, "YCT_DATABASE__URL": f"sqlite://{db_path}"}
    result = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_upgrade_from_first_migration_keeps_rows(tmp_path):
    path = tmp_path / "old.sqlite3"
    _run(["-c", MIGRATE_TO_FIRST], path)
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO applicant (openid, created_at) VALUES ('kept-openid', '2026-01-01 00:00:00+00:00')")
        assert "outbox_message" not in {row[0] for row in db.execute("SELECT name FROM sqlite_master")}

    output = _run(["-m", "server", "migrate"], path)
    assert "0002" in output
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT openid FROM applicant").fetchall() == [("kept-openid",)]
        assert "outbox_message" in {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        assert db.execute("SELECT count(*) FROM authority WHERE code = '451400'").fetchone() == (1,)
    assert "none (up to date)" in _run(["-m", "server", "migrate"], path)

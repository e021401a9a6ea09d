"""Migrations upgrade an existing database in place, keeping its rows.

Run in child processes: tortoise's migration runner replaces the process-wide ORM state the test server uses.
"""
import os
import sqlite3
from contextlib import closing
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


MIGRATE_TO_BEFORE_ENCRYPTION = MIGRATE_TO_FIRST.replace("yct.0001_initial", "yct.0015_enterprise_accounts")
READ_BACK = """
import asyncio
from server.config import load_settings
from server.crypto import blind_index
from server.db import close_database, open_database
from server.models.accounts import Applicant
from server.models.applications import Application, Party

async def main():
    await open_database(load_settings())
    party = await Party.get(id_number_index=blind_index("451402199003071234"))
    applicant = await Applicant.get(phone_index=blind_index("13800009999"))
    entity = (await Application.get(id=party.application_id)).entity
    print(party.id_number, party.phone, applicant.openid, entity["contact_phone"])
    await close_database()

asyncio.run(main())
"""


def test_rows_from_before_encryption_are_encrypted_by_the_first_rotate_keys(tmp_path):
    path = tmp_path / "plain.sqlite3"
    _run(["-c", MIGRATE_TO_BEFORE_ENCRYPTION], path)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("INSERT INTO authority (code, name, level) VALUES ('451402', '江州区', 'county')")
        db.execute("INSERT INTO applicant (openid, phone, created_at) VALUES ('old-openid', '13800009999', "
                   "'2026-01-01 00:00:00+00:00')")
        db.execute("INSERT INTO application (id, applicant_id, authority_id, business_type, entity_type, status, "
                   "entity, materials_version, auto_submit, resubmission, created_at, updated_at) VALUES "
                   "('11111111-1111-1111-1111-111111111111', 1, '451402', 'establish', 'llc', 'draft', "
                   "'{\"contact_phone\": \"13800008888\"}', 1, 1, 0, '2026-01-01 00:00:00+00:00', "
                   "'2026-01-01 00:00:00+00:00')")
        db.execute("INSERT INTO party (id, application_id, position, role, kind, name, id_number, phone) VALUES "
                   "('22222222-2222-2222-2222-222222222222', '11111111-1111-1111-1111-111111111111', 0, "
                   "'legal_rep', 'person', '老张', '451402199003071234', '13800007777')")

    assert "0019_encryption_at_rest" in _run(["-m", "server", "migrate"], path)
    assert "3 rows re-encrypted" in _run(["-m", "server", "rotate-keys", "--batch-size", "1"], path)
    assert "0 rows re-encrypted" in _run(["-m", "server", "rotate-keys"], path)
    raw = path.read_bytes()
    for plain in ("13800009999", "13800008888", "451402199003071234", "13800007777"):
        assert plain.encode() not in raw
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT substr(id_number, 1, 7), substr(phone, 1, 7) FROM party").fetchall() == [
            ("v1:dev:", "v1:dev:")]
    assert _run(["-c", READ_BACK], path).split() == ["451402199003071234", "13800007777", "old-openid", "13800008888"]


PROPOSED_CHANGES = """
import asyncio
from tortoise import Tortoise
from tortoise.migrations.autodetector import MigrationAutodetector
from server.config import load_settings
from server.db import tortoise_config

async def main():
    config = tortoise_config(load_settings())
    await Tortoise.init(config=config)
    try:
        for writer in await MigrationAutodetector(Tortoise.apps, config["apps"]).changes():
            for operation in writer.operations:
                print(operation.describe())
    finally:
        await Tortoise.close_connections()

asyncio.run(main())
"""


def test_the_models_and_the_migrations_agree(tmp_path):
    """What `tortoise … makemigrations` would write (its own change detector, nothing written here)."""
    proposed = _run(["-c", PROPOSED_CHANGES], tmp_path / "none.sqlite3").splitlines()
    assert proposed == []


NOTES_MODELS = '''
from tortoise import fields
from tortoise.models import Model

class Note(Model):
    """A note; its docstring's first line holds a semicolon"""
    id = fields.IntField(primary_key=True)
    text = fields.TextField()

    class Meta:
        table = "note"
'''
NOTES_MIGRATION = '''
from tortoise import fields, migrations
from tortoise.migrations import operations as ops

class Migration(migrations.Migration):
    initial = True
    operations = [
        ops.CreateModel(
            name="Note",
            fields=[("id", fields.IntField(primary_key=True)), ("text", fields.TextField())],
            options={"table": "note", "app": "notes", "pk_attr": "id",
                     "table_description": "A note; its docstring's first line holds a semicolon"},
        ),
    ]
'''
MIGRATE_NOTES = """
import asyncio, sys
from tortoise import Tortoise
from tortoise.migrations.api import migrate
import server.db  # what `python -m server migrate` runs migrations with

config = {"connections": {"default": "sqlite://" + sys.argv[1]},
          "apps": {"notes": {"models": ["notes_models"], "migrations": "notes_migrations", "default_connection": "default"}}}

async def main():
    await migrate(config=config)
    await Tortoise.close_connections()

asyncio.run(main())
"""


def test_a_semicolon_in_a_table_comment_does_not_cut_the_sqlite_migration_in_two(tmp_path):
    package = tmp_path / "notes_migrations"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "0001_initial.py").write_text(NOTES_MIGRATION)
    (tmp_path / "notes_models.py").write_text(NOTES_MODELS)
    path = tmp_path / "notes.sqlite3"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.getcwd()])}
    result = subprocess.run([sys.executable, "-c", MIGRATE_NOTES, str(path)], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT app, name FROM tortoise_migrations").fetchall() == [("notes", "0001_initial")]
        db.execute("INSERT INTO note (text) VALUES ('kept')")
        assert db.execute("SELECT text FROM note").fetchall() == [("kept",)]

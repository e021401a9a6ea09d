"""archive_ledger_entry.seq as the model declares it: a plain BIGINT key that the ledger's writer numbers itself
(1, 2, 3, … with no gaps, services.archive.ledger), no longer a column the database numbers (0017 made it BIGSERIAL
on PostgreSQL, INTEGER PRIMARY KEY AUTOINCREMENT on SQLite), so no insert can take a number the chain did not give.
"""
from tortoise import fields, migrations
from tortoise.migrations import operations as ops

TABLE = "archive_ledger_entry"


class NumberedByTheWriter(ops.AlterField):
    """tortoise refuses to alter a generated column, so the statements are written here. PostgreSQL drops the default
    and its sequence; SQLite cannot alter a column, so the table is rebuilt (no foreign key points to it)."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor is None:
            return
        if state_editor.DIALECT == "postgres":
            sql = [f'ALTER TABLE "{TABLE}" ALTER COLUMN "seq" DROP DEFAULT',
                   f'DROP SEQUENCE IF EXISTS "{TABLE}_seq_seq"']
        else:
            columns = '"seq", "prev_hash", "payload", "entry_hash", "bundle_id"'
            sql = [f'CREATE TABLE "{TABLE}_0026" ("seq" BIGINT NOT NULL PRIMARY KEY, "prev_hash" VARCHAR(64) NOT NULL, '
                   '"payload" TEXT NOT NULL, "entry_hash" VARCHAR(64) NOT NULL, "bundle_id" CHAR(36) NOT NULL UNIQUE)',
                   f'INSERT INTO "{TABLE}_0026" ({columns}) SELECT {columns} FROM "{TABLE}"',
                   f'DROP TABLE "{TABLE}"',
                   f'ALTER TABLE "{TABLE}_0026" RENAME TO "{TABLE}"']
        await ops.RunSQL(sql).database_forward(app_label, old_state, new_state, state_editor)


class Migration(migrations.Migration):
    dependencies = [('yct', '0025_statistics_durations')]

    initial = False

    operations = [
        NumberedByTheWriter(
            model_name='ArchiveLedgerEntry',
            name='seq',
            field=fields.BigIntField(primary_key=True, generated=False),
        ),
    ]

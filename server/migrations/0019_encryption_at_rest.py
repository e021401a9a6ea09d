"""Personal data encrypted at rest (server/crypto.py): the encrypted columns become text, and each value looked up
gets its HMAC-SHA256 blind index column.

Rows written before this migration stay readable as they are (a value without the `v1:` prefix is plain);
`python -m server rotate-keys` encrypts them and fills their index columns (README "Personal data at rest").
"""
from tortoise import migrations
from tortoise.migrations import operations as ops

from server.crypto import BlindIndexField, EncryptedJSONField, EncryptedTextField


class BecomesText(ops.AlterField):
    """The column now holds `v1:<kid>:…` text: on PostgreSQL its type becomes text (varchar and jsonb alike). SQLite
    does not enforce a declared type or length, so its table is left as it is — rebuilding it, as tortoise's
    SQLite AlterField does, fails on rows that other tables' foreign keys point to."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor is None or state_editor.DIALECT != "postgres":
            return
        table = new_state.apps.get_model(f"{app_label}.{self.model_name}")._meta.db_table
        sql = f'ALTER TABLE "{table}" ALTER COLUMN "{self.name}" TYPE TEXT USING "{self.name}"::text'
        await ops.RunSQL([sql]).database_forward(app_label, old_state, new_state, state_editor)


class Migration(migrations.Migration):
    dependencies = [('yct', '0020_input_repair')]

    initial = False

    operations = [
        BecomesText(
            model_name='Applicant',
            name='phone',
            field=EncryptedTextField(null=True),
        ),
        BecomesText(
            model_name='Application',
            name='entity',
            field=EncryptedJSONField(null=False, default=dict),
        ),
        BecomesText(
            model_name='Application',
            name='snapshot',
            field=EncryptedJSONField(null=True),
        ),
        BecomesText(
            model_name='Party',
            name='id_number',
            field=EncryptedTextField(null=True),
        ),
        BecomesText(
            model_name='Party',
            name='phone',
            field=EncryptedTextField(null=True),
        ),
        BecomesText(
            model_name='SigningRequest',
            name='id_number',
            field=EncryptedTextField(null=True),
        ),
        BecomesText(
            model_name='SigningRequest',
            name='phone',
            field=EncryptedTextField(null=True),
        ),
        BecomesText(
            model_name='EnterpriseAccount',
            name='legal_rep_id_number',
            field=EncryptedTextField(null=False),
        ),
        BecomesText(
            model_name='EnterpriseAccount',
            name='legal_rep_phone',
            field=EncryptedTextField(null=False),
        ),
        BecomesText(
            model_name='EnterpriseAccount',
            name='agent_id_number',
            field=EncryptedTextField(null=True),
        ),
        BecomesText(
            model_name='EnterpriseAccount',
            name='agent_phone',
            field=EncryptedTextField(null=True),
        ),
        BecomesText(
            model_name='AuthorisationRequest',
            name='letter',
            field=EncryptedJSONField(null=False),
        ),
        BecomesText(
            model_name='AuthorisationRequest',
            name='id_number',
            field=EncryptedTextField(null=False),
        ),
        BecomesText(
            model_name='AuthorisationRequest',
            name='phone',
            field=EncryptedTextField(null=False),
        ),
        BecomesText(
            model_name='ArchiveBundle',
            name='applicant_phone',
            field=EncryptedTextField(null=True),
        ),
        BecomesText(
            model_name='LicenseIssue',
            name='recipient_phone',
            field=EncryptedTextField(null=True),
        ),
        BecomesText(
            model_name='LicenseIssue',
            name='postal_address',
            field=EncryptedTextField(null=True),
        ),
        BecomesText(
            model_name='RegisteredEntity',
            name='liaison_phone',
            field=EncryptedTextField(null=True),
        ),
        BecomesText(
            model_name='IdempotencyRecord',
            name='response',
            field=EncryptedJSONField(null=True),
        ),
        BecomesText(
            model_name='OutboxMessage',
            name='recipient',
            field=EncryptedTextField(null=False),
        ),
        BecomesText(
            model_name='OutboxMessage',
            name='params',
            field=EncryptedJSONField(null=False, default=dict),
        ),
        BecomesText(
            model_name='DevSms',
            name='phone',
            field=EncryptedTextField(null=False),
        ),
        BecomesText(
            model_name='DevSms',
            name='params',
            field=EncryptedJSONField(null=False, default=dict),
        ),
        BecomesText(
            model_name='DevSms',
            name='text',
            field=EncryptedTextField(null=False),
        ),
        ops.AddField(
            model_name='Applicant',
            name='phone_index',
            field=BlindIndexField('phone', null=True, db_index=True, max_length=64),
        ),
        ops.AddField(
            model_name='Party',
            name='id_number_index',
            field=BlindIndexField('id_number', null=True, db_index=True, max_length=64),
        ),
        ops.AddField(
            model_name='Party',
            name='phone_index',
            field=BlindIndexField('phone', null=True, db_index=True, max_length=64),
        ),
        ops.AddField(
            model_name='SigningRequest',
            name='id_number_index',
            field=BlindIndexField('id_number', null=True, db_index=True, max_length=64),
        ),
        ops.AddField(
            model_name='SigningRequest',
            name='phone_index',
            field=BlindIndexField('phone', null=True, db_index=True, max_length=64),
        ),
        ops.AddField(
            model_name='EnterpriseAccount',
            name='legal_rep_id_number_index',
            field=BlindIndexField('legal_rep_id_number', null=True, db_index=True, max_length=64),
        ),
        ops.AddField(
            model_name='EnterpriseAccount',
            name='legal_rep_phone_index',
            field=BlindIndexField('legal_rep_phone', null=True, db_index=True, max_length=64),
        ),
        ops.AddField(
            model_name='EnterpriseAccount',
            name='agent_id_number_index',
            field=BlindIndexField('agent_id_number', null=True, db_index=True, max_length=64),
        ),
        ops.AddField(
            model_name='ArchiveBundle',
            name='applicant_phone_index',
            field=BlindIndexField('applicant_phone', null=True, db_index=True, max_length=64),
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='recipient_index',
            field=BlindIndexField('recipient', null=True, db_index=True, max_length=64),
        ),
        ops.AddField(
            model_name='DevSms',
            name='phone_index',
            field=BlindIndexField('phone', null=True, db_index=True, max_length=64),
        ),
    ]

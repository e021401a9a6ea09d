from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('yct', '0009_registry_investors')]

    initial = False

    operations = [
        ops.CreateModel(
            name='GeneratedDocument',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('application', fields.ForeignKeyField('yct.Application', source_field='application_id', db_index=True, db_constraint=True, to_field='id', related_name='documents', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=32)),
                ('title', fields.CharField(max_length=200)),
                ('materials_hash', fields.CharField(max_length=64)),
                ('sha256', fields.CharField(db_index=True, max_length=64)),
                ('pages', fields.IntField()),
                ('size', fields.IntField()),
                ('storage_key', fields.CharField(max_length=255)),
                ('platform_signer', fields.CharField(null=True, max_length=255)),
                ('timestamp', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'generated_document', 'app': 'yct', 'unique_together': (('application_id', 'materials_hash', 'kind'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NotaryReceipt',
            fields=[
                ('seq', fields.BigIntField(primary_key=True, generated=False, unique=True, db_index=True)),
                ('application_id', fields.UUIDField(db_index=True)),
                ('entry_hash', fields.CharField(max_length=64)),
                ('receipt_id', fields.CharField(max_length=128)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'notary_receipt', 'app': 'yct', 'pk_attr': 'seq', 'table_description': "The notary data centre's acknowledgement of one evidence entry (一键公证, seed 004)."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='SigningRequest',
            name='opened_documents',
            field=fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]

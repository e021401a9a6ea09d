from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('yct', '0003_signing')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DevSms',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('out_id', fields.CharField(unique=True, max_length=64)),
                ('phone', fields.CharField(db_index=True, max_length=20)),
                ('template', fields.CharField(max_length=48)),
                ('params', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('text', fields.TextField(unique=False)),
                ('received_count', fields.IntField(default=1)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'dev_sms', 'app': 'yct', 'pk_attr': 'id', 'table_description': 'What the development SMS sink received: one row per outbox message (out_id), however often it was sent.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='claim_token',
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='quota_counted',
            field=fields.BooleanField(default=False),
        ),
        ops.AddIndex(
            model_name='OutboxMessage',
            index=Index(fields=['status', 'next_attempt_at']),
        ),
    ]

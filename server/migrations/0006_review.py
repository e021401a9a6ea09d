from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('yct', '0005_applications')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('staff_id', fields.IntField()),
                ('username', fields.CharField(max_length=64)),
                ('role', fields.CharField(max_length=16)),
                ('authority_code', fields.CharField(max_length=6)),
                ('action', fields.CharField(max_length=32)),
                ('application_id', fields.UUIDField(null=True, db_index=True)),
                ('from_status', fields.CharField(null=True, max_length=24)),
                ('to_status', fields.CharField(null=True, max_length=24)),
                ('detail', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('ip', fields.CharField(max_length=64)),
                ('user_agent', fields.CharField(default='', max_length=255)),
            ],
            options={'table': 'audit_entry', 'app': 'yct', 'pk_attr': 'id', 'table_description': 'Who did what to which application, when, and from where (IP and user agent).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='IdempotencyRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('applicant_id', fields.IntField()),
                ('key', fields.CharField(max_length=128)),
                ('fingerprint', fields.CharField(max_length=64)),
                ('status_code', fields.IntField(null=True)),
                ('response', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'idempotency_record', 'app': 'yct', 'unique_together': (('applicant_id', 'key'),), 'pk_attr': 'id', 'table_description': 'The first answer to a request sent with an Idempotency-Key, so that a retry gets it back instead of acting again.'},
            bases=['Model'],
        ),
    ]

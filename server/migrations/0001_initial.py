from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Applicant',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('openid', fields.CharField(unique=True, max_length=64)),
                ('unionid', fields.CharField(null=True, max_length=64)),
                ('phone', fields.CharField(null=True, max_length=20)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_login_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'applicant', 'app': 'yct', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Authority',
            fields=[
                ('code', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=6)),
                ('name', fields.CharField(max_length=64)),
                ('level', fields.CharField(max_length=16)),
                ('parent', fields.ForeignKeyField('yct.Authority', source_field='parent_id', null=True, db_constraint=True, to_field='code', related_name='children', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'authority', 'app': 'yct', 'pk_attr': 'code'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Application',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('applicant', fields.ForeignKeyField('yct.Applicant', source_field='applicant_id', db_constraint=True, to_field='id', related_name='applications', on_delete=OnDelete.RESTRICT)),
                ('authority', fields.ForeignKeyField('yct.Authority', source_field='authority_id', db_constraint=True, to_field='code', related_name='applications', on_delete=OnDelete.RESTRICT)),
                ('business_type', fields.CharField(max_length=24)),
                ('entity_type', fields.CharField(max_length=24)),
                ('name', fields.CharField(null=True, max_length=128)),
                ('credit_code', fields.CharField(null=True, max_length=18)),
                ('status', fields.CharField(default='draft', db_index=True, max_length=24)),
                ('flow', fields.CharField(null=True, max_length=16)),
                ('entity', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('materials_version', fields.IntField(default=1)),
                ('snapshot', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('snapshot_hash', fields.CharField(null=True, max_length=64)),
                ('resubmission', fields.BooleanField(default=False)),
                ('first_submitted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('submitted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'application', 'app': 'yct', 'indexes': [Index(fields=['authority_id', 'status'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Attachment',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('application', fields.ForeignKeyField('yct.Application', source_field='application_id', db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=48)),
                ('filename', fields.CharField(default='', max_length=255)),
                ('content_type', fields.CharField(max_length=64)),
                ('size', fields.IntField()),
                ('sha256', fields.CharField(max_length=64)),
                ('storage_path', fields.CharField(max_length=255)),
                ('thumbnail_path', fields.CharField(null=True, max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'attachment', 'app': 'yct', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Party',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('application', fields.ForeignKeyField('yct.Application', source_field='application_id', db_constraint=True, to_field='id', related_name='parties', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField(default=0)),
                ('role', fields.CharField(max_length=24)),
                ('kind', fields.CharField(max_length=16)),
                ('name', fields.CharField(max_length=128)),
                ('id_type', fields.CharField(null=True, max_length=32)),
                ('id_number', fields.CharField(null=True, max_length=32)),
                ('phone', fields.CharField(null=True, max_length=20)),
                ('origin', fields.CharField(null=True, max_length=24)),
                ('credit_code', fields.CharField(null=True, max_length=18)),
                ('share_percent', fields.DecimalField(null=True, max_digits=7, decimal_places=4)),
            ],
            options={'table': 'party', 'app': 'yct', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Staff',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('username', fields.CharField(unique=True, max_length=64)),
                ('display_name', fields.CharField(default='', max_length=64)),
                ('password_hash', fields.CharField(max_length=256)),
                ('role', fields.CharField(max_length=16)),
                ('authority', fields.ForeignKeyField('yct.Authority', source_field='authority_id', db_constraint=True, to_field='code', related_name='staff', on_delete=OnDelete.RESTRICT)),
                ('active', fields.BooleanField(default=True)),
                ('failed_logins', fields.IntField(default=0)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'staff', 'app': 'yct', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuthSession',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('applicant', fields.ForeignKeyField('yct.Applicant', source_field='applicant_id', null=True, db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('staff', fields.ForeignKeyField('yct.Staff', source_field='staff_id', null=True, db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'auth_session', 'app': 'yct', 'pk_attr': 'id', 'table_description': 'A bearer token. Only its SHA-256 is stored, so a database leak does not leak sessions.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TimelineEntry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('application', fields.ForeignKeyField('yct.Application', source_field='application_id', db_constraint=True, to_field='id', related_name='timeline', on_delete=OnDelete.CASCADE)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('actor', fields.CharField(max_length=64)),
                ('action', fields.CharField(max_length=32)),
                ('from_status', fields.CharField(null=True, max_length=24)),
                ('to_status', fields.CharField(null=True, max_length=24)),
                ('comments', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'timeline_entry', 'app': 'yct', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]

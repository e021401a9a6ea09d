from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('yct', '0002_outbox')]

    initial = False

    operations = [
        ops.CreateModel(
            name='EvidenceEntry',
            fields=[
                ('seq', fields.BigIntField(primary_key=True, generated=False, unique=True, db_index=True)),
                ('prev_hash', fields.CharField(max_length=64)),
                ('payload', fields.TextField(unique=False)),
                ('entry_hash', fields.CharField(max_length=64)),
                ('application_id', fields.UUIDField(db_index=True)),
            ],
            options={'table': 'evidence_entry', 'app': 'yct', 'pk_attr': 'seq', 'table_description': 'The append-only ledger: entry_hash is SHA-256 over prev_hash followed by the canonical JSON payload text.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SigningRequest',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('application', fields.ForeignKeyField('yct.Application', source_field='application_id', db_constraint=True, to_field='id', related_name='signing_requests', on_delete=OnDelete.CASCADE)),
                ('party_id', fields.UUIDField()),
                ('signer_name', fields.CharField(max_length=128)),
                ('signer_role', fields.CharField(max_length=24)),
                ('signer_roles', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('signer_kind', fields.CharField(max_length=16)),
                ('id_type', fields.CharField(null=True, max_length=32)),
                ('id_number', fields.CharField(null=True, max_length=32)),
                ('credit_code', fields.CharField(null=True, max_length=18)),
                ('origin', fields.CharField(null=True, max_length=24)),
                ('phone', fields.CharField(null=True, max_length=20)),
                ('method', fields.CharField(max_length=16)),
                ('flow', fields.CharField(max_length=16)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('materials_version', fields.IntField()),
                ('snapshot_hash', fields.CharField(null=True, max_length=64)),
                ('materials_hash', fields.CharField(max_length=64)),
                ('status', fields.CharField(default='pending', db_index=True, max_length=16)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('decline_reason', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'signing_request', 'app': 'yct', 'indexes': [Index(fields=['application_id', 'party_id'])], 'pk_attr': 'id', 'table_description': 'One link to one signatory, with the signatory particulars copied in (parties may be replaced later).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FaceVerification',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('request', fields.ForeignKeyField('yct.SigningRequest', source_field='request_id', db_constraint=True, to_field='id', related_name='face_verifications', on_delete=OnDelete.CASCADE)),
                ('verify_result_hash', fields.CharField(unique=True, max_length=64)),
                ('passed', fields.BooleanField()),
                ('reason', fields.CharField(null=True, max_length=32)),
                ('identify_ret', fields.IntField(null=True)),
                ('identify_time', fields.BigIntField(null=True)),
                ('openid', fields.CharField(null=True, max_length=64)),
                ('user_id_key', fields.CharField(null=True, max_length=128)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'face_verification', 'app': 'yct', 'pk_attr': 'id', 'table_description': 'Every WeChat face-verification result checked. A unique hash of each result makes a replay impossible.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Signature',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('request', fields.OneToOneField('yct.SigningRequest', source_field='request_id', db_constraint=True, to_field='id', related_name='signature', on_delete=OnDelete.CASCADE)),
                ('application', fields.ForeignKeyField('yct.Application', source_field='application_id', db_constraint=True, to_field='id', related_name='signatures', on_delete=OnDelete.CASCADE)),
                ('party_id', fields.UUIDField()),
                ('method', fields.CharField(max_length=16)),
                ('materials_version', fields.IntField()),
                ('snapshot_hash', fields.CharField(null=True, max_length=64)),
                ('materials_hash', fields.CharField(max_length=64)),
                ('signed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('image_sha256', fields.CharField(max_length=64)),
                ('image_path', fields.CharField(max_length=255)),
                ('seal_reference', fields.CharField(null=True, max_length=128)),
                ('evidence_seq', fields.BigIntField()),
                ('voided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'signature', 'app': 'yct', 'indexes': [Index(fields=['application_id', 'materials_version'])], 'pk_attr': 'id', 'table_description': 'A completed signature, one per request. Its evidence lives in the hash chain (evidence_seq).'},
            bases=['Model'],
        ),
    ]

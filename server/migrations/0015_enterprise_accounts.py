from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('yct', '0014_appointments')]

    initial = False

    operations = [
        ops.CreateModel(
            name='EnterpriseAccount',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('applicant', fields.ForeignKeyField('yct.Applicant', source_field='applicant_id', db_index=True, db_constraint=True, to_field='id', related_name='enterprise_accounts', on_delete=OnDelete.RESTRICT)),
                ('authority', fields.ForeignKeyField('yct.Authority', source_field='authority_id', db_constraint=True, to_field='code', related_name='enterprise_accounts', on_delete=OnDelete.RESTRICT)),
                ('credit_code', fields.CharField(db_index=True, max_length=18)),
                ('live_credit_code', fields.CharField(null=True, unique=True, max_length=18)),
                ('entity_name', fields.CharField(max_length=128)),
                ('entity_type', fields.CharField(max_length=24)),
                ('registrant', fields.CharField(max_length=16)),
                ('legal_rep_name', fields.CharField(max_length=64)),
                ('legal_rep_id_type', fields.CharField(max_length=32)),
                ('legal_rep_id_number', fields.CharField(max_length=32)),
                ('legal_rep_phone', fields.CharField(max_length=20)),
                ('agent_name', fields.CharField(null=True, max_length=64)),
                ('agent_id_type', fields.CharField(null=True, max_length=32)),
                ('agent_id_number', fields.CharField(null=True, max_length=32)),
                ('agent_phone', fields.CharField(null=True, max_length=20)),
                ('license_path', fields.CharField(null=True, max_length=255)),
                ('license_sha256', fields.CharField(null=True, max_length=64)),
                ('license_content_type', fields.CharField(null=True, max_length=32)),
                ('status', fields.CharField(default='draft', db_index=True, max_length=16)),
                ('confirmed_letter_hash', fields.CharField(null=True, max_length=64)),
                ('reject_reason', fields.TextField(null=True, unique=False)),
                ('submitted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('approved_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'enterprise_account', 'app': 'yct', 'indexes': [Index(fields=['authority_id', 'status'])], 'pk_attr': 'id', 'table_description': "One enterprise's online account, registered by its legal representative or by an agent (代理人)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AccountEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('yct.EnterpriseAccount', source_field='account_id', db_index=True, db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('actor', fields.CharField(max_length=64)),
                ('action', fields.CharField(max_length=32)),
                ('from_status', fields.CharField(null=True, max_length=16)),
                ('to_status', fields.CharField(null=True, max_length=16)),
                ('comment', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'enterprise_account_event', 'app': 'yct', 'pk_attr': 'id', 'table_description': "The account's history (法人注册结果): every status change and signature, with who and when."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuthorisationRequest',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('yct.EnterpriseAccount', source_field='account_id', db_index=True, db_constraint=True, to_field='id', related_name='authorisation_requests', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('letter', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('letter_hash', fields.CharField(max_length=64)),
                ('signer_name', fields.CharField(max_length=64)),
                ('id_number', fields.CharField(max_length=32)),
                ('phone', fields.CharField(max_length=20)),
                ('status', fields.CharField(default='pending', db_index=True, max_length=16)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('decline_reason', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'authorisation_request', 'app': 'yct', 'pk_attr': 'id', 'table_description': "One SMS link to the legal representative to sign the 法定代表人授权委托书, only the token's hash is kept."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AccountFaceCheck',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('yct.EnterpriseAccount', source_field='account_id', db_index=True, db_constraint=True, to_field='id', related_name='face_checks', on_delete=OnDelete.CASCADE)),
                ('request', fields.ForeignKeyField('yct.AuthorisationRequest', source_field='request_id', null=True, db_constraint=True, to_field='id', related_name='face_checks', on_delete=OnDelete.CASCADE)),
                ('verify_result_hash', fields.CharField(unique=True, max_length=64)),
                ('passed', fields.BooleanField()),
                ('reason', fields.CharField(null=True, max_length=32)),
                ('identify_time', fields.BigIntField(null=True)),
                ('openid', fields.CharField(null=True, max_length=64)),
                ('user_id_key', fields.CharField(null=True, max_length=128)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'account_face_check', 'app': 'yct', 'pk_attr': 'id', 'table_description': "A WeChat face-verification result checked for an account (the legal representative's, either path)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuthorisationSignature',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('request', fields.OneToOneField('yct.AuthorisationRequest', source_field='request_id', db_constraint=True, to_field='id', related_name='signature', on_delete=OnDelete.CASCADE)),
                ('account', fields.ForeignKeyField('yct.EnterpriseAccount', source_field='account_id', db_index=True, db_constraint=True, to_field='id', related_name='signatures', on_delete=OnDelete.CASCADE)),
                ('letter_hash', fields.CharField(max_length=64)),
                ('signed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('image_sha256', fields.CharField(max_length=64)),
                ('image_path', fields.CharField(max_length=255)),
                ('evidence_seq', fields.BigIntField()),
            ],
            options={'table': 'authorisation_signature', 'app': 'yct', 'pk_attr': 'id', 'table_description': "The legal representative's signature on one 授权委托书, its evidence is an entry of the signing chain."},
            bases=['Model'],
        ),
    ]

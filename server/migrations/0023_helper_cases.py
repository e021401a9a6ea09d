"""Helpers own a case (首问负责, 代办): the owner of an application's case and the applicant's grants to helpers."""
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [('yct', '0015_enterprise_accounts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='HelperCase',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('application', fields.OneToOneField('yct.Application', source_field='application_id', db_constraint=True, to_field='id', related_name='helper_case', on_delete=OnDelete.CASCADE)),
                ('owner', fields.ForeignKeyField('yct.Staff', source_field='owner_id', db_index=True, db_constraint=True, to_field='id', related_name='owned_cases', on_delete=OnDelete.RESTRICT)),
                ('point', fields.ForeignKeyField('yct.ServicePoint', source_field='point_id', null=True, db_constraint=True, to_field='id', related_name='helper_cases', on_delete=OnDelete.SET_NULL)),
                ('taken_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'helper_case', 'app': 'yct', 'pk_attr': 'id', 'table_description': '首问负责、一帮到底: the helper who first took an application stays its owner, whoever helps later.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='HelperGrant',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('application', fields.ForeignKeyField('yct.Application', source_field='application_id', db_index=True, db_constraint=True, to_field='id', related_name='helper_grants', on_delete=OnDelete.CASCADE)),
                ('applicant', fields.ForeignKeyField('yct.Applicant', source_field='applicant_id', db_index=True, db_constraint=True, to_field='id', related_name='helper_grants', on_delete=OnDelete.CASCADE)),
                ('helper', fields.ForeignKeyField('yct.Staff', source_field='helper_id', db_constraint=True, to_field='id', related_name='helper_grants', on_delete=OnDelete.CASCADE)),
                ('point', fields.ForeignKeyField('yct.ServicePoint', source_field='point_id', null=True, db_constraint=True, to_field='id', related_name='helper_grants', on_delete=OnDelete.SET_NULL)),
                ('granted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'helper_grant', 'app': 'yct', 'indexes': [Index(fields=['helper_id', 'revoked_at'])], 'pk_attr': 'id', 'table_description': '代办: the applicant lets one helper fill and upload for one application, until the applicant revokes it.'},
            bases=['Model'],
        ),
    ]

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('yct', '0004_notifications')]

    initial = False

    operations = [
        ops.CreateModel(
            name='NameReservation',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('applicant', fields.ForeignKeyField('yct.Applicant', source_field='applicant_id', db_constraint=True, to_field='id', related_name='name_reservations', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=128)),
                ('trade_name', fields.CharField(max_length=64)),
                ('trade_pinyin', fields.CharField(default='', max_length=255)),
                ('industry', fields.CharField(default='', max_length=32)),
                ('entity_type', fields.CharField(max_length=24)),
                ('authority_code', fields.CharField(max_length=6)),
                ('city_code', fields.CharField(max_length=6)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'name_reservation', 'app': 'yct', 'unique_together': (('city_code', 'trade_name', 'industry'),), 'indexes': [Index(fields=['city_code', 'trade_pinyin'])], 'pk_attr': 'id', 'table_description': 'A name held for one applicant until expires_at (名称自主申报保留).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RegisteredEntity',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('credit_code', fields.CharField(unique=True, max_length=18)),
                ('name', fields.CharField(max_length=128)),
                ('trade_name', fields.CharField(max_length=64)),
                ('trade_pinyin', fields.CharField(default='', max_length=255)),
                ('industry', fields.CharField(default='', max_length=32)),
                ('org_form', fields.CharField(default='', max_length=32)),
                ('authority_code', fields.CharField(max_length=6)),
                ('city_code', fields.CharField(max_length=6)),
                ('entity_type', fields.CharField(max_length=24)),
                ('status', fields.CharField(default='registered', max_length=16)),
                ('status_date', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'registered_entity', 'app': 'yct', 'indexes': [Index(fields=['city_code', 'trade_name']), Index(fields=['city_code', 'trade_pinyin'])], 'pk_attr': 'id', 'table_description': 'One registered entity by its credit code, with its name split the way conflicts are judged.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RetiredName',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('credit_code', fields.CharField(max_length=18)),
                ('name', fields.CharField(max_length=128)),
                ('trade_name', fields.CharField(max_length=64)),
                ('trade_pinyin', fields.CharField(default='', max_length=255)),
                ('industry', fields.CharField(default='', max_length=32)),
                ('city_code', fields.CharField(max_length=6)),
                ('retired_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'retired_name', 'app': 'yct', 'indexes': [Index(fields=['city_code', 'trade_name']), Index(fields=['city_code', 'trade_pinyin'])], 'pk_attr': 'id', 'table_description': 'A name an entity gave up by changing it (名称变更): protected for a year from retired_at.'},
            bases=['Model'],
        ),
    ]

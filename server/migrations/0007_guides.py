from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('yct', '0006_review')]

    initial = False

    operations = [
        ops.CreateModel(
            name='GuideItem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('authority', fields.ForeignKeyField('yct.Authority', source_field='authority_id', db_constraint=True, to_field='code', related_name='guide_items', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharField(max_length=16)),
                ('title', fields.CharField(max_length=100)),
                ('description', fields.CharField(default='', max_length=500)),
                ('body', fields.TextField(default='', unique=False)),
                ('external_url', fields.CharField(null=True, max_length=500)),
                ('file_name', fields.CharField(null=True, max_length=120)),
                ('download_name', fields.CharField(null=True, max_length=120)),
                ('content_type', fields.CharField(null=True, max_length=80)),
                ('size', fields.BigIntField(null=True)),
                ('sort_order', fields.IntField(default=0)),
                ('active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'guide_item', 'app': 'yct', 'indexes': [Index(fields=['authority_id', 'kind'])], 'pk_attr': 'id', 'table_description': 'A video, a downloadable form or a text service guide, shown at every point its authority oversees.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ServicePoint',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=16)),
                ('name', fields.CharField(max_length=100)),
                ('type', fields.CharField(max_length=24)),
                ('authority', fields.ForeignKeyField('yct.Authority', source_field='authority_id', db_constraint=True, to_field='code', related_name='service_points', on_delete=OnDelete.RESTRICT)),
                ('address', fields.CharField(default='', max_length=200)),
                ('hotline', fields.CharField(default='', max_length=40)),
                ('opening_hours', fields.CharField(default='', max_length=100)),
                ('has_sign', fields.BooleanField(default=False)),
                ('has_computer', fields.BooleanField(default=False)),
                ('has_staff', fields.BooleanField(default=False)),
                ('has_guide', fields.BooleanField(default=False)),
                ('has_hotline', fields.BooleanField(default=False)),
                ('has_public_notice', fields.BooleanField(default=False)),
                ('active', fields.BooleanField(default=True)),
                ('poster_generated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'service_point', 'app': 'yct', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PointScanDay',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('point', fields.ForeignKeyField('yct.ServicePoint', source_field='point_id', db_constraint=True, to_field='id', related_name='scan_days', on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
                ('scans', fields.IntField(default=0)),
                ('unique_visitors', fields.IntField(default=0)),
            ],
            options={'table': 'point_scan_day', 'app': 'yct', 'unique_together': (('point', 'day'),), 'pk_attr': 'id', 'table_description': 'Scans of one point on one local day, flushed from the cache counters.'},
            bases=['Model'],
        ),
    ]

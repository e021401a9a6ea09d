from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('yct', '0017_after_approval')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OfflineFiling',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('authority', fields.ForeignKeyField('yct.Authority', source_field='authority_id', db_constraint=True, to_field='code', related_name='offline_filings', on_delete=OnDelete.RESTRICT)),
                ('month', fields.DateField()),
                ('filings', fields.IntField()),
                ('imported_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'offline_filing', 'app': 'yct', 'unique_together': (('authority', 'month'),), 'pk_attr': 'id', 'table_description': 'Filings made at a counter (not online) for one authority and calendar month, imported from a CSV (网办率).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WeeklyReport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('authority', fields.ForeignKeyField('yct.Authority', source_field='authority_id', db_constraint=True, to_field='code', related_name='weekly_reports', on_delete=OnDelete.RESTRICT)),
                ('period_from', fields.DateField()),
                ('period_to', fields.DateField()),
                ('generated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('xlsx_key', fields.CharField(max_length=255)),
                ('pdf_key', fields.CharField(max_length=255)),
                ('headline', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'weekly_report', 'app': 'yct', 'unique_together': (('authority', 'period_from'),), 'pk_attr': 'id', 'table_description': 'The Friday report of one authority (with its subordinates) for one week: an XLSX and a PDF in storage.'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='TimelineEntry',
            index=Index(fields=['action', 'at']),
        ),
    ]

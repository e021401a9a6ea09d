from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('yct', '0010_documents')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AnnualReport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('credit_code', fields.CharField(max_length=18)),
                ('year', fields.IntField()),
                ('reported_on', fields.DateField(null=True)),
                ('imported_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'annual_report', 'app': 'yct', 'unique_together': (('credit_code', 'year'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AnnualReportReminder',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('credit_code', fields.CharField(max_length=18)),
                ('year', fields.IntField()),
                ('reminder_date', fields.DateField()),
                ('city_code', fields.CharField(max_length=6)),
                ('send_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'annual_report_reminder', 'app': 'yct', 'unique_together': (('credit_code', 'year', 'reminder_date'),), 'pk_attr': 'id', 'table_description': 'One reminder for one entity on one reminder date: the unique key makes it at most once per date.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ArchiveBundle',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=16)),
                ('application_id', fields.UUIDField(null=True, unique=True)),
                ('credit_code', fields.CharField(null=True, db_index=True, max_length=18)),
                ('entity_name', fields.CharField(default='', db_index=True, max_length=128)),
                ('applicant_phone', fields.CharField(null=True, db_index=True, max_length=20)),
                ('party_names', fields.CharField(default='', max_length=1000)),
                ('authority_code', fields.CharField(db_index=True, max_length=6)),
                ('business_type', fields.CharField(null=True, max_length=24)),
                ('outcome', fields.CharField(max_length=16)),
                ('decided_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('retention_years', fields.IntField(null=True)),
                ('retain_until', fields.DateField(null=True)),
                ('manifest', fields.TextField(unique=False)),
                ('manifest_sha256', fields.CharField(unique=True, max_length=64)),
                ('ledger_seq', fields.BigIntField(unique=True)),
                ('archived_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'archive_bundle', 'app': 'yct', 'pk_attr': 'id', 'table_description': 'One archived filing (or one batch of scans): its manifest text, whose SHA-256 the ledger holds.'},
            bases=['_AppendOnly'],
        ),
        ops.CreateModel(
            name='ArchiveLedgerEntry',
            fields=[
                ('seq', fields.BigIntField(primary_key=True, unique=True, db_index=True)),
                ('prev_hash', fields.CharField(max_length=64)),
                ('payload', fields.TextField(unique=False)),
                ('entry_hash', fields.CharField(max_length=64)),
                ('bundle_id', fields.UUIDField(unique=True)),
            ],
            options={'table': 'archive_ledger_entry', 'app': 'yct', 'pk_attr': 'seq', 'table_description': "Entry n: entry_hash = SHA-256(prev_hash + payload), the payload naming the bundle and its manifest's SHA-256."},
            bases=['_AppendOnly'],
        ),
        ops.CreateModel(
            name='LicenseIssue',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('application', fields.OneToOneField('yct.Application', source_field='application_id', db_constraint=True, to_field='id', related_name='license_issue', on_delete=OnDelete.RESTRICT)),
                ('credit_code', fields.CharField(db_index=True, max_length=18)),
                ('entity_name', fields.CharField(max_length=128)),
                ('business_type', fields.CharField(max_length=24)),
                ('authority_code', fields.CharField(db_index=True, max_length=6)),
                ('status', fields.CharField(default='awaiting_choice', db_index=True, max_length=24)),
                ('method', fields.CharField(null=True, max_length=16)),
                ('pickup_authority_code', fields.CharField(null=True, db_index=True, max_length=6)),
                ('recipient_name', fields.CharField(null=True, max_length=64)),
                ('recipient_phone', fields.CharField(null=True, max_length=20)),
                ('postal_address', fields.CharField(null=True, max_length=255)),
                ('serial_number', fields.CharField(null=True, db_index=True, max_length=32)),
                ('ready_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('collected_by', fields.CharField(null=True, max_length=64)),
                ('collector_id_masked', fields.CharField(null=True, max_length=32)),
                ('handed_over_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('carrier', fields.CharField(null=True, max_length=32)),
                ('tracking_number', fields.CharField(null=True, max_length=64)),
                ('posted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('handled_by', fields.CharField(null=True, max_length=64)),
                ('old_license_status', fields.CharField(default='not_applicable', max_length=16)),
                ('old_serial_number', fields.CharField(null=True, max_length=32)),
                ('old_license_note', fields.CharField(null=True, max_length=255)),
                ('old_license_recorded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('chosen_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'license_issue', 'app': 'yct', 'indexes': [Index(fields=['pickup_authority_code', 'status'])], 'pk_attr': 'id', 'table_description': "The license of one approved 设立 or 变更 filing, from the applicant's choice to hand-over or posting."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='RegisteredEntity',
            name='liaison_phone',
            field=fields.CharField(null=True, max_length=20),
        ),
    ]

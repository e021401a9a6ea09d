from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index


async def fill_rollups(apps, schema_editor) -> None:
    """The counts of the timeline written before them, day by day (its durations are counted by 0025, in working
    minutes)."""
    from datetime import timedelta

    from server.services.statistics import rollups

    client = schema_editor.client
    span = await rollups.timeline_days(client)
    if span is None:
        return
    day, last = span
    while day <= last:
        await rollups.rebuild_day(client, day)
        if day == last or (day + timedelta(days=1)).day == 1:
            await rollups.rebuild_month(client, day.replace(day=1))
        day += timedelta(days=1)


class Migration(migrations.Migration):
    """Statistics rollups: counts per Beijing-time day and durations, maintained with the timeline."""

    dependencies = [('yct', '0019_encryption_at_rest')]

    initial = False

    operations = [
        ops.CreateModel(
            name='StatsDay',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('authority_id', fields.CharField(max_length=6)),
                ('business_type', fields.CharField(max_length=24)),
                ('entity_type', fields.CharField(max_length=24)),
                ('day', fields.DateField()),
                ('since', fields.DateField()),
                ('submitted', fields.IntField(default=0)),
                ('cloud_submitted', fields.IntField(default=0)),
                ('returned', fields.IntField(default=0)),
                ('first_pass', fields.IntField(default=0)),
                ('signing_rounds', fields.IntField(default=0)),
                ('signatures_saved', fields.IntField(default=0)),
            ],
            options={'table': 'stats_day', 'app': 'yct', 'unique_together': (('day', 'since', 'authority_id', 'business_type', 'entity_type'),), 'pk_attr': 'id', 'table_description': 'Counts of one Beijing-time day for one authority, business type and entity type, split by the day of the previous event of the same kind.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StatsMonth',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('authority_id', fields.CharField(max_length=6)),
                ('business_type', fields.CharField(max_length=24)),
                ('entity_type', fields.CharField(max_length=24)),
                ('month', fields.DateField()),
                ('since', fields.DateField()),
                ('submitted', fields.IntField(default=0)),
                ('cloud_submitted', fields.IntField(default=0)),
                ('returned', fields.IntField(default=0)),
                ('first_pass', fields.IntField(default=0)),
                ('signing_rounds', fields.IntField(default=0)),
                ('signatures_saved', fields.IntField(default=0)),
            ],
            options={'table': 'stats_month', 'app': 'yct', 'unique_together': (('month', 'since', 'authority_id', 'business_type', 'entity_type'),), 'pk_attr': 'id', 'table_description': 'The same counts per calendar month, keeping only the events whose previous one of their kind came before the month.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StatsDuration',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=24)),
                ('authority_id', fields.CharField(max_length=6)),
                ('business_type', fields.CharField(max_length=24)),
                ('entity_type', fields.CharField(max_length=24)),
                ('day', fields.DateField()),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ended_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('hours', fields.FloatField(null=True)),
            ],
            options={'table': 'stats_duration', 'app': 'yct', 'indexes': [Index(fields=['kind', 'day', 'authority_id', 'business_type', 'entity_type', 'hours']), Index(fields=['hours'])], 'pk_attr': 'id', 'table_description': 'One measured duration (submission to lock, lock to last signature, submission to approval), by the Beijing-time day of the event that ends it.'},
            bases=['Model'],
        ),
        ops.RunPython(fill_rollups, ops.RunPython.noop),
    ]

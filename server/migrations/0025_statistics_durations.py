from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index


async def fill_durations(apps, schema_editor) -> None:
    """The durations of the timeline written before, day by day, in working minutes of the calendar that
    `python -m server migrate` read from the settings (server.db.migrate configures it)."""
    from datetime import timedelta

    from server.services.review import worktime
    from server.services.statistics import rollups

    client = schema_editor.client
    calendar = worktime.configured()
    span = await rollups.timeline_days(client)
    if span is not None:
        day, last = span
        while day <= last:
            await rollups.rebuild_durations_day(client, day, calendar)
            if day == last or (day + timedelta(days=1)).day == 1:
                await rollups.rebuild_durations_month(client, day.replace(day=1))
            day += timedelta(days=1)
    await rollups.analyze(client, ("stats_duration", "stats_duration_month"))


class Migration(migrations.Migration):
    """Statistics durations in whole working minutes, counted when written (no later update), and their counts per
    month, authority and minute, from which the medians and 90th percentiles of whole months are read."""

    dependencies = [('yct', '0024_statistics_rollups')]

    initial = False

    operations = [
        # Rebuilt rather than altered: every row is recounted from the timeline below, and SQLite cannot add a
        # NOT NULL column to a table.
        ops.DeleteModel(name='StatsDuration'),
        ops.CreateModel(
            name='StatsDuration',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=24)),
                ('authority_id', fields.CharField(max_length=6)),
                ('business_type', fields.CharField(max_length=24)),
                ('entity_type', fields.CharField(max_length=24)),
                ('day', fields.DateField()),
                ('minutes', fields.IntField()),
            ],
            options={'table': 'stats_duration', 'app': 'yct', 'indexes': [Index(fields=['kind', 'day', 'authority_id', 'business_type', 'entity_type', 'minutes'])], 'pk_attr': 'id', 'table_description': 'One measured duration (submission to lock, lock to last signature, submission to approval), by the Beijing-time day of the event that ends it, in whole working minutes.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StatsDurationMonth',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=24)),
                ('authority_id', fields.CharField(max_length=6)),
                ('month', fields.DateField()),
                ('minutes', fields.IntField()),
                ('count', fields.IntField(default=0)),
            ],
            options={'table': 'stats_duration_month', 'app': 'yct', 'unique_together': (('kind', 'month', 'authority_id', 'minutes'),), 'pk_attr': 'id', 'table_description': 'How many durations of a kind ended in one calendar month at one authority took each number of working minutes.'},
            bases=['Model'],
        ),
        ops.RunPython(fill_durations, ops.RunPython.noop),
    ]

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('yct', '0007_guides')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Application',
            name='applicant',
            field=fields.ForeignKeyField('yct.Applicant', source_field='applicant_id', db_index=True, db_constraint=True, to_field='id', related_name='applications', on_delete=OnDelete.RESTRICT),
        ),
        ops.AlterField(
            model_name='Attachment',
            name='application',
            field=fields.ForeignKeyField('yct.Application', source_field='application_id', db_index=True, db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.CASCADE),
        ),
        ops.AlterField(
            model_name='NameReservation',
            name='applicant',
            field=fields.ForeignKeyField('yct.Applicant', source_field='applicant_id', db_index=True, db_constraint=True, to_field='id', related_name='name_reservations', on_delete=OnDelete.CASCADE),
        ),
        ops.AlterField(
            model_name='Party',
            name='application',
            field=fields.ForeignKeyField('yct.Application', source_field='application_id', db_index=True, db_constraint=True, to_field='id', related_name='parties', on_delete=OnDelete.CASCADE),
        ),
        ops.AlterField(
            model_name='Signature',
            name='application',
            field=fields.ForeignKeyField('yct.Application', source_field='application_id', db_index=True, db_constraint=True, to_field='id', related_name='signatures', on_delete=OnDelete.CASCADE),
        ),
        ops.AlterField(
            model_name='SigningRequest',
            name='application',
            field=fields.ForeignKeyField('yct.Application', source_field='application_id', db_index=True, db_constraint=True, to_field='id', related_name='signing_requests', on_delete=OnDelete.CASCADE),
        ),
        ops.AlterField(
            model_name='TimelineEntry',
            name='application',
            field=fields.ForeignKeyField('yct.Application', source_field='application_id', db_index=True, db_constraint=True, to_field='id', related_name='timeline', on_delete=OnDelete.CASCADE),
        ),
    ]

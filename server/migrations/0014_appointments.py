"""Help points: appointment slots and bookings, ratings (好差评) and their follow-ups, point hours and coordinates, helpers tied to a point."""
from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('yct', '0013_signing_exits')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AppointmentSlot',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('point', fields.ForeignKeyField('yct.ServicePoint', source_field='point_id', db_constraint=True, to_field='id', related_name='slots', on_delete=OnDelete.CASCADE)),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('capacity', fields.IntField()),
                ('booked', fields.IntField(default=0)),
            ],
            options={'table': 'appointment_slot', 'app': 'yct', 'unique_together': (('point', 'starts_at'),), 'pk_attr': 'id', 'table_description': 'One bookable period at a point, whose booked count only moves by a guarded UPDATE, so it never passes capacity.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Appointment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('applicant', fields.ForeignKeyField('yct.Applicant', source_field='applicant_id', db_constraint=True, to_field='id', related_name='appointments', on_delete=OnDelete.CASCADE)),
                ('point', fields.ForeignKeyField('yct.ServicePoint', source_field='point_id', db_constraint=True, to_field='id', related_name='appointments', on_delete=OnDelete.RESTRICT)),
                ('slot', fields.ForeignKeyField('yct.AppointmentSlot', source_field='slot_id', db_index=True, db_constraint=True, to_field='id', related_name='appointments', on_delete=OnDelete.RESTRICT)),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('business_type', fields.CharField(max_length=24)),
                ('note', fields.CharField(default='', max_length=200)),
                ('status', fields.CharField(default='booked', max_length=16)),
                ('holds_day', fields.DateField(null=True)),
                ('reminder_message_id', fields.UUIDField(null=True)),
                ('checked_in_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('served_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('cancelled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('helper', fields.ForeignKeyField('yct.Staff', source_field='helper_id', null=True, db_constraint=True, to_field='id', related_name='appointments_served', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'appointment', 'app': 'yct', 'unique_together': (('applicant', 'holds_day'),), 'indexes': [Index(fields=['status', 'ends_at']), Index(fields=['point_id', 'starts_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Rating',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('applicant', fields.ForeignKeyField('yct.Applicant', source_field='applicant_id', db_constraint=True, to_field='id', related_name='ratings', on_delete=OnDelete.CASCADE)),
                ('subject_type', fields.CharField(max_length=16)),
                ('subject_id', fields.CharField(max_length=40)),
                ('authority', fields.ForeignKeyField('yct.Authority', source_field='authority_id', db_index=True, db_constraint=True, to_field='code', related_name='ratings', on_delete=OnDelete.RESTRICT)),
                ('point', fields.ForeignKeyField('yct.ServicePoint', source_field='point_id', null=True, db_index=True, db_constraint=True, to_field='id', related_name='ratings', on_delete=OnDelete.SET_NULL)),
                ('helper', fields.ForeignKeyField('yct.Staff', source_field='helper_id', null=True, db_index=True, db_constraint=True, to_field='id', related_name='ratings', on_delete=OnDelete.SET_NULL)),
                ('score', fields.SmallIntField()),
                ('comment', fields.CharField(default='', max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'rating', 'app': 'yct', 'unique_together': (('subject_type', 'subject_id'),), 'pk_attr': 'id', 'table_description': '好差评: once per served appointment or finished filing.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RatingFollowUp',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('rating', fields.OneToOneField('yct.Rating', source_field='rating_id', db_constraint=True, to_field='id', related_name='follow_up', on_delete=OnDelete.CASCADE)),
                ('authority', fields.ForeignKeyField('yct.Authority', source_field='authority_id', db_constraint=True, to_field='code', related_name='rating_follow_ups', on_delete=OnDelete.RESTRICT)),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('status', fields.CharField(default='open', max_length=16)),
                ('response', fields.TextField(default='', unique=False)),
                ('responded_by', fields.ForeignKeyField('yct.Staff', source_field='responded_by_id', null=True, db_constraint=True, to_field='id', related_name='follow_up_responses', on_delete=OnDelete.SET_NULL)),
                ('responded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'rating_follow_up', 'app': 'yct', 'indexes': [Index(fields=['authority_id', 'status'])], 'pk_attr': 'id', 'table_description': "A bad rating (1 or 2) opens an item for the admins of the point's authority, answered in writing."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='ServicePoint',
            name='appointment_hours',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='ServicePoint',
            name='closed_days',
            field=fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='ServicePoint',
            name='latitude',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='ServicePoint',
            name='longitude',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='ServicePoint',
            name='slot_capacity',
            field=fields.IntField(default=1),
        ),
        ops.AddField(
            model_name='ServicePoint',
            name='slot_minutes',
            field=fields.IntField(default=30),
        ),
        ops.AddField(
            model_name='Staff',
            name='landline',
            field=fields.CharField(default='', max_length=40),
        ),
        ops.AddField(
            model_name='Staff',
            name='point',
            field=fields.ForeignKeyField('yct.ServicePoint', source_field='point_id', null=True, db_index=True, db_constraint=True, to_field='id', related_name='helpers', on_delete=OnDelete.SET_NULL),
        ),
    ]

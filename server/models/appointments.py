"""Appointments at help points (帮办网点): bookable slots with a capacity, bookings, and ratings (好差评) with their
follow-ups."""
from tortoise import fields
from tortoise.models import Model

class AppointmentSlot(Model):
    """One bookable period at a point, whose booked count only moves by a guarded UPDATE, so it never passes capacity."""

    id = fields.IntField(pk=True)
    point = fields.ForeignKeyField("yct.ServicePoint", related_name="slots", on_delete=fields.CASCADE)
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    capacity = fields.IntField()
    booked = fields.IntField(default=0)

    class Meta:
        table = "appointment_slot"
        unique_together = (("point", "starts_at"),)


class Appointment(Model):
    id = fields.IntField(pk=True)
    applicant = fields.ForeignKeyField("yct.Applicant", related_name="appointments", on_delete=fields.CASCADE)
    point = fields.ForeignKeyField("yct.ServicePoint", related_name="appointments", on_delete=fields.RESTRICT)
    slot = fields.ForeignKeyField("yct.AppointmentSlot", related_name="appointments", on_delete=fields.RESTRICT,
                                  db_index=True)
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    business_type = fields.CharField(max_length=24)
    note = fields.CharField(max_length=200, default="")
    status = fields.CharField(max_length=16, default="booked")
    # The local day while the booking holds it (null once cancelled): one appointment per applicant and day,
    # kept by the unique constraint even when two bookings race.
    holds_day = fields.DateField(null=True)
    # The reminder waiting in the outbox, withdrawn when the appointment is cancelled.
    reminder_message_id = fields.UUIDField(null=True)
    checked_in_at = fields.DatetimeField(null=True)
    served_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)
    helper = fields.ForeignKeyField("yct.Staff", null=True, related_name="appointments_served",
                                    on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "appointment"
        unique_together = (("applicant", "holds_day"),)
        indexes = (("status", "ends_at"), ("point_id", "starts_at"))


class Rating(Model):
    """好差评: once per served appointment or finished filing."""

    id = fields.IntField(pk=True)
    applicant = fields.ForeignKeyField("yct.Applicant", related_name="ratings", on_delete=fields.CASCADE)
    subject_type = fields.CharField(max_length=16)
    subject_id = fields.CharField(max_length=40)
    authority = fields.ForeignKeyField("yct.Authority", related_name="ratings", on_delete=fields.RESTRICT,
                                       db_index=True)
    point = fields.ForeignKeyField("yct.ServicePoint", null=True, related_name="ratings", on_delete=fields.SET_NULL,
                                   db_index=True)
    helper = fields.ForeignKeyField("yct.Staff", null=True, related_name="ratings", on_delete=fields.SET_NULL,
                                    db_index=True)
    score = fields.SmallIntField()
    comment = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "rating"
        unique_together = (("subject_type", "subject_id"),)


class RatingFollowUp(Model):
    """A bad rating (1 or 2) opens an item for the admins of the point's authority, answered in writing."""

    id = fields.IntField(pk=True)
    rating = fields.OneToOneField("yct.Rating", related_name="follow_up", on_delete=fields.CASCADE)
    authority = fields.ForeignKeyField("yct.Authority", related_name="rating_follow_ups", on_delete=fields.RESTRICT)
    due_at = fields.DatetimeField()
    status = fields.CharField(max_length=16, default="open")
    response = fields.TextField(default="")
    responded_by = fields.ForeignKeyField("yct.Staff", null=True, related_name="follow_up_responses",
                                          on_delete=fields.SET_NULL)
    responded_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "rating_follow_up"
        indexes = (("authority_id", "status"),)


class HelperCase(Model):
    """首问负责、一帮到底: the helper who first took an application stays its owner, whoever helps later."""

    id = fields.IntField(pk=True)
    application = fields.OneToOneField("yct.Application", related_name="helper_case", on_delete=fields.CASCADE)
    owner = fields.ForeignKeyField("yct.Staff", related_name="owned_cases", on_delete=fields.RESTRICT, db_index=True)
    point = fields.ForeignKeyField("yct.ServicePoint", null=True, related_name="helper_cases",
                                   on_delete=fields.SET_NULL)
    taken_at = fields.DatetimeField()

    class Meta:
        table = "helper_case"


class HelperGrant(Model):
    """代办: the applicant lets one helper fill and upload for one application, until the applicant revokes it."""

    id = fields.IntField(pk=True)
    application = fields.ForeignKeyField("yct.Application", related_name="helper_grants", on_delete=fields.CASCADE,
                                         db_index=True)
    applicant = fields.ForeignKeyField("yct.Applicant", related_name="helper_grants", on_delete=fields.CASCADE,
                                       db_index=True)
    helper = fields.ForeignKeyField("yct.Staff", related_name="helper_grants", on_delete=fields.CASCADE)
    point = fields.ForeignKeyField("yct.ServicePoint", null=True, related_name="helper_grants",
                                   on_delete=fields.SET_NULL)
    granted_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "helper_grant"
        indexes = (("helper_id", "revoked_at"),)

"""码上导办: service points (帮办网点) with their QR codes, guide content, and daily scan counts."""
from tortoise import fields
from tortoise.models import Model

from server.vocabulary import PointType

POINT_TYPES = dict(PointType.choices())


class ServicePoint(Model):
    id = fields.IntField(pk=True)
    # The unguessable short code in the QR URL /g/{code}.
    code = fields.CharField(max_length=16, unique=True)
    name = fields.CharField(max_length=100)
    type = fields.CharField(max_length=24)
    authority = fields.ForeignKeyField("yct.Authority", related_name="service_points", on_delete=fields.RESTRICT)
    address = fields.CharField(max_length=200, default="")
    hotline = fields.CharField(max_length=40, default="")
    opening_hours = fields.CharField(max_length=100, default="")
    has_sign = fields.BooleanField(default=False)
    has_computer = fields.BooleanField(default=False)
    has_staff = fields.BooleanField(default=False)
    has_guide = fields.BooleanField(default=False)
    has_hotline = fields.BooleanField(default=False)
    has_public_notice = fields.BooleanField(default=False)
    active = fields.BooleanField(default=True)
    # The public directory: where the point is (WGS-84), for "nearest first".
    latitude = fields.FloatField(null=True)
    longitude = fields.FloatField(null=True)
    # Appointments: hours per ISO weekday {"1": ["09:00-12:00", "14:30-17:30"], …}; null → the working calendar's
    # hours on working days. Statutory holidays close the point; closed_days are its own extra closures.
    appointment_hours = fields.JSONField(null=True)
    slot_minutes = fields.IntField(default=30)
    slot_capacity = fields.IntField(default=1)  # helpers on duty
    closed_days = fields.JSONField(default=list)
    poster_generated_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "service_point"


class GuideItem(Model):
    """A video, a downloadable form or a text service guide, shown at every point its authority oversees."""

    id = fields.IntField(pk=True)
    authority = fields.ForeignKeyField("yct.Authority", related_name="guide_items", on_delete=fields.RESTRICT)
    kind = fields.CharField(max_length=16)  # video | form | guide
    title = fields.CharField(max_length=100)
    description = fields.CharField(max_length=500, default="")
    body = fields.TextField(default="")  # the text of a service guide (办事指南)
    external_url = fields.CharField(max_length=500, null=True)
    file_name = fields.CharField(max_length=120, null=True)  # stored name under uploads/guides/
    download_name = fields.CharField(max_length=120, null=True)
    content_type = fields.CharField(max_length=80, null=True)
    size = fields.BigIntField(null=True)
    sort_order = fields.IntField(default=0)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "guide_item"
        indexes = (("authority_id", "kind"),)


class PointScanDay(Model):
    """Scans of one point on one local day, flushed from the cache counters."""

    id = fields.IntField(pk=True)
    point = fields.ForeignKeyField("yct.ServicePoint", related_name="scan_days", on_delete=fields.CASCADE)
    day = fields.DateField()
    scans = fields.IntField(default=0)
    unique_visitors = fields.IntField(default=0)

    class Meta:
        table = "point_scan_day"
        unique_together = (("point", "day"),)

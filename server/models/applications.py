"""Applications (登记申请), their parties, attachments and timeline (办理进度)."""
from tortoise import fields
from tortoise.models import Model

from server.crypto import BlindIndexField, EncryptedJSONField, EncryptedTextField
from server.vocabulary import ApplicationStatus, BusinessType, EntityType, Flow

BUSINESS_TYPES = BusinessType.values()
ENTITY_TYPES = EntityType.values()
STATUSES = ApplicationStatus.values()
FLOWS = Flow.values()


class Application(Model):
    id = fields.UUIDField(pk=True)
    # PostgreSQL does not index foreign keys by itself: "my applications" and every per-application read filter on them.
    applicant = fields.ForeignKeyField("yct.Applicant", related_name="applications", on_delete=fields.RESTRICT, db_index=True)
    authority = fields.ForeignKeyField("yct.Authority", related_name="applications", on_delete=fields.RESTRICT)
    business_type = fields.CharField(max_length=24)
    entity_type = fields.CharField(max_length=24)
    name = fields.CharField(max_length=128, null=True)
    credit_code = fields.CharField(max_length=18, null=True)
    status = fields.CharField(max_length=24, default="draft", db_index=True)
    flow = fields.CharField(max_length=16, null=True)
    entity = EncryptedJSONField(default=dict)  # holds the contact phone and the address
    # Bumped on every change to the materials, so signatures can tell which materials they saw.
    materials_version = fields.IntField(default=1)
    snapshot = EncryptedJSONField(null=True)
    snapshot_hash = fields.CharField(max_length=64, null=True)
    # When the last required signature arrives: move to submitted by itself (True), or wait for the applicant's submit.
    auto_submit = fields.BooleanField(default=True)
    resubmission = fields.BooleanField(default=False)
    first_submitted_at = fields.DatetimeField(null=True)
    submitted_at = fields.DatetimeField(null=True)
    due_at = fields.DatetimeField(null=True)
    decided_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "application"
        indexes = (("authority_id", "status"),)


class Party(Model):
    id = fields.UUIDField(pk=True)
    application = fields.ForeignKeyField("yct.Application", related_name="parties", on_delete=fields.CASCADE, db_index=True)
    position = fields.IntField(default=0)
    role = fields.CharField(max_length=24)
    kind = fields.CharField(max_length=16)
    name = fields.CharField(max_length=128)
    id_type = fields.CharField(max_length=32, null=True)
    id_number = EncryptedTextField(null=True)
    id_number_index = BlindIndexField("id_number", db_index=True)
    phone = EncryptedTextField(null=True)
    phone_index = BlindIndexField("phone", db_index=True)
    # Optional: 事后确认 also goes by e-mail (seed 004 "短信或者邮件").
    email = fields.CharField(max_length=254, null=True)
    # An enterprise acts through a contact person, whose phone (above) receives the signing link.
    contact_name = fields.CharField(max_length=64, null=True)
    origin = fields.CharField(max_length=24, null=True)
    credit_code = fields.CharField(max_length=18, null=True)
    share_percent = fields.DecimalField(max_digits=7, decimal_places=4, null=True)

    class Meta:
        table = "party"
        ordering = ["position"]


class Attachment(Model):
    id = fields.UUIDField(pk=True)
    application = fields.ForeignKeyField("yct.Application", related_name="attachments", on_delete=fields.CASCADE, db_index=True)
    kind = fields.CharField(max_length=48)
    filename = fields.CharField(max_length=255, default="")
    content_type = fields.CharField(max_length=64)
    size = fields.IntField()
    sha256 = fields.CharField(max_length=64)
    storage_path = fields.CharField(max_length=255)
    thumbnail_path = fields.CharField(max_length=255, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "attachment"


class TimelineEntry(Model):
    id = fields.IntField(pk=True)
    application = fields.ForeignKeyField("yct.Application", related_name="timeline", on_delete=fields.CASCADE, db_index=True)
    at = fields.DatetimeField(auto_now_add=True)
    actor = fields.CharField(max_length=64)
    action = fields.CharField(max_length=32)
    from_status = fields.CharField(max_length=24, null=True)
    to_status = fields.CharField(max_length=24, null=True)
    comments = fields.JSONField(default=list)

    class Meta:
        table = "timeline_entry"
        ordering = ["at", "id"]
        # Statistics count events of one kind in a period (submissions, returns, locks) over this index.
        indexes = (("action", "at"),)

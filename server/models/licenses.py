"""Paper business licenses after approval: how the applicant collects it, and the ledger of licenses handed out
and old ones collected (纸质营业执照领取和收缴台账, seed 002)."""
from tortoise import fields
from tortoise.models import Model

from server.crypto import EncryptedTextField


class LicenseIssue(Model):
    """The license of one approved 设立 or 变更 filing, from the applicant's choice to hand-over or posting."""

    id = fields.UUIDField(pk=True)
    application = fields.OneToOneField("yct.Application", related_name="license_issue", on_delete=fields.RESTRICT)
    credit_code = fields.CharField(max_length=18, db_index=True)
    entity_name = fields.CharField(max_length=128)
    business_type = fields.CharField(max_length=24)
    # The competent authority that approved the filing (属地审核).
    authority_code = fields.CharField(max_length=6, db_index=True)
    status = fields.CharField(max_length=24, default="awaiting_choice", db_index=True)
    method = fields.CharField(max_length=16, null=True)  # electronic | window | post
    # Where the paper license is collected: any authority in the city (异地取照).
    pickup_authority_code = fields.CharField(max_length=6, null=True, db_index=True)
    recipient_name = fields.CharField(max_length=64, null=True)
    recipient_phone = EncryptedTextField(null=True)
    postal_address = EncryptedTextField(null=True)
    serial_number = fields.CharField(max_length=32, null=True, db_index=True)
    ready_at = fields.DatetimeField(null=True)
    collected_by = fields.CharField(max_length=64, null=True)
    collector_id_masked = fields.CharField(max_length=32, null=True)
    handed_over_at = fields.DatetimeField(null=True)
    carrier = fields.CharField(max_length=32, null=True)
    tracking_number = fields.CharField(max_length=64, null=True)
    posted_at = fields.DatetimeField(null=True)
    handled_by = fields.CharField(max_length=64, null=True)
    # 变更 that changes the license: the old one must be collected (收缴) or declared lost first.
    old_license_status = fields.CharField(max_length=16, default="not_applicable")
    old_serial_number = fields.CharField(max_length=32, null=True)
    old_license_note = fields.CharField(max_length=255, null=True)
    old_license_recorded_at = fields.DatetimeField(null=True)
    chosen_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "license_issue"
        indexes = (("pickup_authority_code", "status"),)

"""The outbox: every SMS and WeChat subscribe message, written in the transaction of the change that causes it."""
from tortoise import fields
from tortoise.models import Model

from server.crypto import BlindIndexField, EncryptedJSONField, EncryptedTextField
from server.vocabulary import MessageClass

# pending → sending → sent | failed | refused, or back to pending for a retry; a scheduled message no longer due
# (a reminder after the signature) is cancelled. sent/failed/refused/cancelled are final.
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "refused", "cancelled")
FINAL_STATUSES = ("sent", "failed", "refused", "cancelled")
CHANNELS = ("sms", "wechat", "email", "notary")
# Message classes, in the order the sender claims them; each has its own per-phone limits (sms.limits).
# code: verification codes; transactional: signing links, reminders, results; notice: 事后确认 (coalesced).
KINDS = MessageClass.values()


class OutboxMessage(Model):
    id = fields.UUIDField(pk=True)
    channel = fields.CharField(max_length=16)  # sms | wechat | email | notary
    kind = fields.CharField(max_length=16, default="transactional")
    # The claim order: the index of kind in KINDS (codes first, notices last).
    priority = fields.SmallIntField(default=1)
    # What a scheduled message is about ("signing_request:<id>"), so it can be cancelled when no longer due.
    reference = fields.CharField(max_length=64, null=True, db_index=True)
    recipient = EncryptedTextField()  # phone number, openid, e-mail address, or "notary"
    recipient_index = BlindIndexField("recipient", db_index=True)
    template = fields.CharField(max_length=48)
    # Encrypted; a link or a code in it is wiped when the message reaches a final state.
    params = EncryptedJSONField(default=dict)
    page = fields.CharField(max_length=255, null=True)
    status = fields.CharField(max_length=16, default="pending", db_index=True)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    lease_until = fields.DatetimeField(null=True)
    # Which sender holds the row while it is 'sending'; every write after the claim is guarded by it.
    claim_token = fields.CharField(max_length=32, null=True)
    # The per-phone limit was already counted for this message (a verification code counts when requested).
    quota_counted = fields.BooleanField(default=False)
    last_error = fields.TextField(null=True)
    provider_message_id = fields.CharField(max_length=128, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)
    # The registration authority the message is about; administrators see their own and their subordinates'.
    # None (a verification code, a notary entry) is seen only at province level.
    authority_code = fields.CharField(max_length=6, null=True, db_index=True)

    class Meta:
        table = "outbox_message"
        indexes = (("status", "next_attempt_at"), ("status", "priority", "next_attempt_at"))


class DevSms(Model):
    """What the development SMS sink received: one row per outbox message (out_id), however often it was sent."""

    id = fields.IntField(pk=True)
    out_id = fields.CharField(max_length=64, unique=True)
    phone = EncryptedTextField()
    phone_index = BlindIndexField("phone", db_index=True)
    template = fields.CharField(max_length=48)
    params = EncryptedJSONField(default=dict)
    text = EncryptedTextField()
    # A second delivery with the same out_id is deduplicated but counted, so a double send cannot hide.
    received_count = fields.IntField(default=1)
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "dev_sms"

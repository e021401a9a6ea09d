"""The outbox: every SMS and WeChat subscribe message, written in the transaction of the change that causes it."""
from tortoise import fields
from tortoise.models import Model

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed")


class OutboxMessage(Model):
    id = fields.UUIDField(pk=True)
    channel = fields.CharField(max_length=16)  # sms | wechat
    recipient = fields.CharField(max_length=64)  # phone number or openid
    template = fields.CharField(max_length=48)
    params = fields.JSONField(default=dict)
    page = fields.CharField(max_length=255, null=True)
    status = fields.CharField(max_length=16, default="pending", db_index=True)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    lease_until = fields.DatetimeField(null=True)
    last_error = fields.TextField(null=True)
    provider_message_id = fields.CharField(max_length=128, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_message"

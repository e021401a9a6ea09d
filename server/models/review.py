"""The back office's own records: the append-only audit log of staff actions, and idempotent-request records."""
from tortoise import fields
from tortoise.manager import Manager
from tortoise.models import Model

from server.crypto import EncryptedJSONField
from tortoise.queryset import QuerySet


class AppendOnlyError(RuntimeError):
    """Raised on any attempt to change or remove an audit entry: the log only grows."""


class _AppendOnlyQuerySet(QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("审计日志只能追加，不能修改")

    def delete(self):
        raise AppendOnlyError("审计日志只能追加，不能删除")

    def bulk_update(self, *args, **kwargs):
        raise AppendOnlyError("审计日志只能追加，不能修改")

    def select_for_update(self, *args, **kwargs):
        raise AppendOnlyError("审计日志只能追加，不能锁定修改")


class _AppendOnlyManager(Manager):
    def get_queryset(self) -> QuerySet:
        return _AppendOnlyQuerySet(self._model)


class AuditEntry(Model):
    """Who did what to which application, when, and from where (IP and user agent)."""

    id = fields.IntField(pk=True)
    at = fields.DatetimeField(auto_now_add=True, db_index=True)
    staff_id = fields.IntField()
    username = fields.CharField(max_length=64)
    role = fields.CharField(max_length=16)
    authority_code = fields.CharField(max_length=6)
    action = fields.CharField(max_length=32)
    application_id = fields.UUIDField(null=True, db_index=True)
    from_status = fields.CharField(max_length=24, null=True)
    to_status = fields.CharField(max_length=24, null=True)
    detail = fields.JSONField(default=dict)
    ip = fields.CharField(max_length=64)
    user_agent = fields.CharField(max_length=255, default="")

    class Meta:
        table = "audit_entry"
        manager = _AppendOnlyManager()

    async def save(self, *args, **kwargs) -> None:
        if self._saved_in_db:
            raise AppendOnlyError("审计日志只能追加，不能修改")
        await super().save(*args, **kwargs)

    async def delete(self, *args, **kwargs) -> None:
        raise AppendOnlyError("审计日志只能追加，不能删除")


class IdempotencyRecord(Model):
    """The first answer to a request sent with an Idempotency-Key, so that a retry gets it back instead of acting again.

    A row without a status is a request still in progress: a concurrent duplicate waits for it.
    """

    id = fields.IntField(pk=True)
    applicant_id = fields.IntField()
    key = fields.CharField(max_length=128)
    fingerprint = fields.CharField(max_length=64)
    status_code = fields.IntField(null=True)
    response = EncryptedJSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "idempotency_record"
        unique_together = (("applicant_id", "key"),)

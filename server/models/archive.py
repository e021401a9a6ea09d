"""The electronic archive (电子档案, 容e查): immutable bundles of finished filings and scanned paper archives, and the
hash-chained ledger of their manifests."""
from tortoise import fields
from tortoise.manager import Manager
from tortoise.models import Model

from server.crypto import BlindIndexField, EncryptedTextField
from tortoise.queryset import QuerySet

# filing: an approved, rejected or withdrawn filing of this platform; scans: paper archives scanned later.
BUNDLE_KINDS = ("filing", "scans")


class ArchiveImmutableError(RuntimeError):
    """Raised on any attempt to change or remove an archived bundle or a ledger entry."""


class _AppendOnlyQuerySet(QuerySet):
    def update(self, **kwargs):
        raise ArchiveImmutableError("电子档案一经归档不能修改")

    def delete(self):
        raise ArchiveImmutableError("电子档案一经归档不能删除")

    def bulk_update(self, *args, **kwargs):
        raise ArchiveImmutableError("电子档案一经归档不能修改")

    def select_for_update(self, *args, **kwargs):
        raise ArchiveImmutableError("电子档案一经归档不能锁定修改")


class _AppendOnlyManager(Manager):
    def get_queryset(self) -> QuerySet:
        return _AppendOnlyQuerySet(self._model)


class _AppendOnly(Model):
    async def save(self, *args, **kwargs) -> None:
        if self._saved_in_db:
            raise ArchiveImmutableError("电子档案一经归档不能修改")
        await super().save(*args, **kwargs)

    async def delete(self, *args, **kwargs) -> None:
        raise ArchiveImmutableError("电子档案一经归档不能删除")

    class Meta:
        abstract = True


class ArchiveBundle(_AppendOnly):
    """One archived filing (or one batch of scans): its manifest text, whose SHA-256 the ledger holds."""

    id = fields.UUIDField(pk=True)
    kind = fields.CharField(max_length=16)
    # A filing is archived once; scans have no application.
    application_id = fields.UUIDField(null=True, unique=True)
    credit_code = fields.CharField(max_length=18, null=True, db_index=True)
    entity_name = fields.CharField(max_length=128, default="", db_index=True)
    # Who filed: the applicant's bound phone, for 容e查 by applicant (shown masked).
    applicant_phone = EncryptedTextField(null=True)
    applicant_phone_index = BlindIndexField("applicant_phone", db_index=True)
    # The names of the filing's parties (legal representative, investors, liaison), for 容e查 by applicant.
    party_names = fields.CharField(max_length=1000, default="")
    authority_code = fields.CharField(max_length=6, db_index=True)
    business_type = fields.CharField(max_length=24, null=True)
    outcome = fields.CharField(max_length=16)  # approved | rejected | withdrawn | scanned
    decided_at = fields.DatetimeField(null=True, db_index=True)
    # 保管期限: null keeps the bundle for ever (永久).
    retention_years = fields.IntField(null=True)
    retain_until = fields.DateField(null=True)
    manifest = fields.TextField()
    manifest_sha256 = fields.CharField(max_length=64, unique=True)
    ledger_seq = fields.BigIntField(unique=True)
    archived_at = fields.DatetimeField()

    class Meta:
        table = "archive_bundle"
        manager = _AppendOnlyManager()


class ArchiveLedgerEntry(_AppendOnly):
    """Entry n: entry_hash = SHA-256(prev_hash + payload), the payload naming the bundle and its manifest's SHA-256."""

    seq = fields.BigIntField(primary_key=True, generated=False)
    prev_hash = fields.CharField(max_length=64)
    payload = fields.TextField()
    entry_hash = fields.CharField(max_length=64)
    bundle_id = fields.UUIDField(unique=True)

    class Meta:
        table = "archive_ledger_entry"
        manager = _AppendOnlyManager()

"""Generated documents (申请书, 章程, the platform-signed PDF) and the notary's receipts for evidence entries."""
from tortoise import fields
from tortoise.models import Model

# application_form, articles_of_association: generated from a snapshot; signed: the platform-signed result.
DOCUMENT_KINDS = ("application_form", "articles_of_association", "signed")


class GeneratedDocument(Model):
    id = fields.UUIDField(pk=True)
    application = fields.ForeignKeyField("yct.Application", related_name="documents", on_delete=fields.CASCADE,
                                         db_index=True)
    kind = fields.CharField(max_length=32)
    title = fields.CharField(max_length=200)
    # The SHA-256 of the materials (the locked snapshot) the document was made from.
    materials_hash = fields.CharField(max_length=64)
    # Anyone may look a file up by its SHA-256 (public verification).
    sha256 = fields.CharField(max_length=64, db_index=True)
    pages = fields.IntField()
    size = fields.IntField()
    storage_key = fields.CharField(max_length=255)
    # The signed PDF: what pyHanko found when it was made (signer's subject, timestamp or null).
    platform_signer = fields.CharField(max_length=255, null=True)
    timestamp = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "generated_document"
        unique_together = (("application_id", "materials_hash", "kind"),)


class NotaryReceipt(Model):
    """The notary data centre's acknowledgement of one evidence entry (一键公证, seed 004)."""

    seq = fields.BigIntField(primary_key=True, generated=False)
    application_id = fields.UUIDField(db_index=True)
    entry_hash = fields.CharField(max_length=64)
    receipt_id = fields.CharField(max_length=128)
    received_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "notary_receipt"

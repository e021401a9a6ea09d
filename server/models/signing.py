"""Remote signing (远程签名): signing requests behind SMS links, face verifications, signatures, the evidence chain."""
from tortoise import fields
from tortoise.models import Model

from server.crypto import BlindIndexField, EncryptedTextField
from server.vocabulary import SigningMethod

# cancelled: the case left locked_signing (a decline, 撤销锁定, a withdrawal) while the link was open.
REQUEST_STATUSES = ("pending", "signed", "declined", "replaced", "cancelled")
METHODS = SigningMethod.values()


class SigningRequest(Model):
    """One link to one signatory, with the signatory particulars copied in (parties may be replaced later)."""

    id = fields.UUIDField(pk=True)
    application = fields.ForeignKeyField("yct.Application", related_name="signing_requests", on_delete=fields.CASCADE, db_index=True)
    party_id = fields.UUIDField()
    signer_name = fields.CharField(max_length=128)
    signer_role = fields.CharField(max_length=24)
    signer_roles = fields.JSONField(default=list)
    signer_kind = fields.CharField(max_length=16)
    id_type = fields.CharField(max_length=32, null=True)
    id_number = EncryptedTextField(null=True)
    id_number_index = BlindIndexField("id_number", db_index=True)
    credit_code = fields.CharField(max_length=18, null=True)
    origin = fields.CharField(max_length=24, null=True)
    phone = EncryptedTextField(null=True)
    phone_index = BlindIndexField("phone", db_index=True)
    method = fields.CharField(max_length=16)
    flow = fields.CharField(max_length=16)  # cloud: signs the locked snapshot; general: the current materials
    # Only the SHA-256 of the link's token is kept: a database leak does not leak links.
    token_hash = fields.CharField(max_length=64, unique=True)
    materials_version = fields.IntField()
    snapshot_hash = fields.CharField(max_length=64, null=True)
    materials_hash = fields.CharField(max_length=64)
    status = fields.CharField(max_length=16, default="pending", db_index=True)
    expires_at = fields.DatetimeField()
    decline_reason = fields.TextField(null=True)
    # Which generated documents the signer opened through the link: {kind: {sha256, at}}.
    opened_documents = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "signing_request"
        indexes = (("application_id", "party_id"),)


FACE_PROVIDERS = ("wechat", "tencent_h5")


class FaceVerification(Model):
    """Every face-verification result checked (WeChat's verify_result, or a Tencent FaceID H5 BizToken). A unique
    hash of each result makes a replay impossible."""

    id = fields.UUIDField(pk=True)
    request = fields.ForeignKeyField("yct.SigningRequest", related_name="face_verifications", on_delete=fields.CASCADE)
    provider = fields.CharField(max_length=16, default="wechat")
    verify_result_hash = fields.CharField(max_length=64, unique=True)
    passed = fields.BooleanField()
    reason = fields.CharField(max_length=32, null=True)
    identify_ret = fields.IntField(null=True)
    identify_time = fields.BigIntField(null=True)
    openid = fields.CharField(max_length=64, null=True)
    user_id_key = fields.CharField(max_length=128, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "face_verification"


class Signature(Model):
    """A completed signature, one per request. Its evidence lives in the hash chain (evidence_seq)."""

    id = fields.UUIDField(pk=True)
    request = fields.OneToOneField("yct.SigningRequest", related_name="signature", on_delete=fields.CASCADE)
    application = fields.ForeignKeyField("yct.Application", related_name="signatures", on_delete=fields.CASCADE, db_index=True)
    party_id = fields.UUIDField()
    method = fields.CharField(max_length=16)
    materials_version = fields.IntField()
    snapshot_hash = fields.CharField(max_length=64, null=True)
    materials_hash = fields.CharField(max_length=64)
    signed_at = fields.DatetimeField()
    image_sha256 = fields.CharField(max_length=64)
    image_path = fields.CharField(max_length=255)
    seal_reference = fields.CharField(max_length=128, null=True)
    evidence_seq = fields.BigIntField()
    # Set once the timeline has said that a change to the materials voided this signature (一般流程).
    voided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "signature"
        indexes = (("application_id", "materials_version"),)


class EvidenceEntry(Model):
    """The append-only ledger: entry_hash is SHA-256 over prev_hash followed by the canonical JSON payload text."""

    # seq is the primary key, so two appends racing for the same place cannot both land: the chain cannot fork.

    seq = fields.BigIntField(primary_key=True, generated=False)
    prev_hash = fields.CharField(max_length=64)
    payload = fields.TextField()
    entry_hash = fields.CharField(max_length=64)
    application_id = fields.UUIDField(db_index=True)

    class Meta:
        table = "evidence_entry"

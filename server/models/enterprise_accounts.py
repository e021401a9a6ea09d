"""Legal-person accounts (法人注册, seed 001): the account, its history, and the legal representative's authorisation."""
from tortoise import fields
from tortoise.models import Model

from server.crypto import BlindIndexField, EncryptedJSONField, EncryptedTextField
from server.vocabulary import Registrant

STATUSES = ("draft", "signing", "pending_review", "approved", "rejected", "expired", "declined", "revoked")
REGISTRANTS = Registrant.values()
AUTHORISATION_STATUSES = ("pending", "signed", "declined", "replaced")


class EnterpriseAccount(Model):
    """One enterprise's online account, registered by its legal representative or by an agent (代理人)."""

    id = fields.UUIDField(pk=True)
    applicant = fields.ForeignKeyField("yct.Applicant", related_name="enterprise_accounts", on_delete=fields.RESTRICT,
                                       db_index=True)
    authority = fields.ForeignKeyField("yct.Authority", related_name="enterprise_accounts", on_delete=fields.RESTRICT)
    credit_code = fields.CharField(max_length=18, db_index=True)
    # Set to credit_code while the account is signing, awaiting review or approved: the unique index makes
    # "one account per credit code at a time" hold even for two registrations racing.
    live_credit_code = fields.CharField(max_length=18, null=True, unique=True)
    entity_name = fields.CharField(max_length=128)
    entity_type = fields.CharField(max_length=24)
    registrant = fields.CharField(max_length=16)
    legal_rep_name = fields.CharField(max_length=64)
    legal_rep_id_type = fields.CharField(max_length=32)
    legal_rep_id_number = EncryptedTextField()
    legal_rep_id_number_index = BlindIndexField("legal_rep_id_number", db_index=True)
    legal_rep_phone = EncryptedTextField()
    legal_rep_phone_index = BlindIndexField("legal_rep_phone", db_index=True)
    agent_name = fields.CharField(max_length=64, null=True)
    agent_id_type = fields.CharField(max_length=32, null=True)
    agent_id_number = EncryptedTextField(null=True)
    agent_id_number_index = BlindIndexField("agent_id_number", db_index=True)
    agent_phone = EncryptedTextField(null=True)
    license_path = fields.CharField(max_length=255, null=True)
    license_sha256 = fields.CharField(max_length=64, null=True)
    license_content_type = fields.CharField(max_length=32, null=True)
    status = fields.CharField(max_length=16, default="draft", db_index=True)
    # The 授权委托书 (or, registered by the legal representative, the particulars) the legal representative last
    # confirmed by face verification and signature: an edit that changes it needs a new signature.
    confirmed_letter_hash = fields.CharField(max_length=64, null=True)
    reject_reason = fields.TextField(null=True)
    submitted_at = fields.DatetimeField(null=True)
    approved_at = fields.DatetimeField(null=True, db_index=True)
    decided_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "enterprise_account"
        indexes = (("authority_id", "status"),)


class AccountEvent(Model):
    """The account's history (法人注册结果): every status change and signature, with who and when."""

    id = fields.IntField(pk=True)
    account = fields.ForeignKeyField("yct.EnterpriseAccount", related_name="events", on_delete=fields.CASCADE,
                                     db_index=True)
    at = fields.DatetimeField()
    actor = fields.CharField(max_length=64)
    action = fields.CharField(max_length=32)
    from_status = fields.CharField(max_length=16, null=True)
    to_status = fields.CharField(max_length=16, null=True)
    comment = fields.TextField(null=True)

    class Meta:
        table = "enterprise_account_event"
        ordering = ["at", "id"]


class AuthorisationRequest(Model):
    """One SMS link to the legal representative to sign the 法定代表人授权委托书, only the token's hash is kept."""

    id = fields.UUIDField(pk=True)
    account = fields.ForeignKeyField("yct.EnterpriseAccount", related_name="authorisation_requests",
                                     on_delete=fields.CASCADE, db_index=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    letter = EncryptedJSONField()
    letter_hash = fields.CharField(max_length=64)
    signer_name = fields.CharField(max_length=64)
    id_number = EncryptedTextField()
    phone = EncryptedTextField()
    status = fields.CharField(max_length=16, default="pending", db_index=True)
    expires_at = fields.DatetimeField()
    decline_reason = fields.TextField(null=True)
    created_at = fields.DatetimeField()
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "authorisation_request"


class AccountFaceCheck(Model):
    """A WeChat face-verification result checked for an account (the legal representative's, either path)."""

    id = fields.UUIDField(pk=True)
    account = fields.ForeignKeyField("yct.EnterpriseAccount", related_name="face_checks", on_delete=fields.CASCADE,
                                     db_index=True)
    request = fields.ForeignKeyField("yct.AuthorisationRequest", related_name="face_checks", null=True,
                                     on_delete=fields.CASCADE)
    verify_result_hash = fields.CharField(max_length=64, unique=True)
    passed = fields.BooleanField()
    reason = fields.CharField(max_length=32, null=True)
    identify_time = fields.BigIntField(null=True)
    openid = fields.CharField(max_length=64, null=True)
    user_id_key = fields.CharField(max_length=128, null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "account_face_check"


class AuthorisationSignature(Model):
    """The legal representative's signature on one 授权委托书, its evidence is an entry of the signing chain."""

    id = fields.UUIDField(pk=True)
    request = fields.OneToOneField("yct.AuthorisationRequest", related_name="signature", on_delete=fields.CASCADE)
    account = fields.ForeignKeyField("yct.EnterpriseAccount", related_name="signatures", on_delete=fields.CASCADE,
                                     db_index=True)
    letter_hash = fields.CharField(max_length=64)
    signed_at = fields.DatetimeField()
    image_sha256 = fields.CharField(max_length=64)
    image_path = fields.CharField(max_length=255)
    evidence_seq = fields.BigIntField()

    class Meta:
        table = "authorisation_signature"

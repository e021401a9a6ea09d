"""Who logs in: applicants (by WeChat openid) and registrar staff (by password), and their sessions."""
from tortoise import fields
from tortoise.models import Model

from server.crypto import BlindIndexField, EncryptedTextField


class Applicant(Model):
    id = fields.IntField(pk=True)
    openid = fields.CharField(max_length=64, unique=True)
    unionid = fields.CharField(max_length=64, null=True)
    phone = EncryptedTextField(null=True)
    phone_index = BlindIndexField("phone", db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_login_at = fields.DatetimeField(null=True)

    class Meta:
        table = "applicant"


class Staff(Model):
    id = fields.IntField(pk=True)
    username = fields.CharField(max_length=64, unique=True)
    display_name = fields.CharField(max_length=64, default="")
    password_hash = fields.CharField(max_length=256)
    role = fields.CharField(max_length=16)  # reviewer | helper | admin
    authority = fields.ForeignKeyField("yct.Authority", related_name="staff", on_delete=fields.RESTRICT)
    active = fields.BooleanField(default=True)
    # A helper (帮办员) works at one point; the directory publishes their name and landline (seed 002).
    point = fields.ForeignKeyField("yct.ServicePoint", null=True, related_name="helpers", on_delete=fields.SET_NULL,
                                   db_index=True)
    landline = fields.CharField(max_length=40, default="")
    failed_logins = fields.IntField(default=0)
    locked_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "staff"


class AuthSession(Model):
    """A bearer token. Only its SHA-256 is stored, so a database leak does not leak sessions."""

    id = fields.IntField(pk=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    applicant = fields.ForeignKeyField("yct.Applicant", null=True, related_name="sessions", on_delete=fields.CASCADE)
    staff = fields.ForeignKeyField("yct.Staff", null=True, related_name="sessions", on_delete=fields.CASCADE)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "auth_session"

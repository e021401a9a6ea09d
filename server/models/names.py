"""The registry of existing market entities (已登记主体) and name reservations (名称保留) for 自主核名."""
from tortoise import fields
from tortoise.models import Model

from server.crypto import EncryptedTextField

REGISTRY_STATUSES = ("registered", "cancelled", "changed")


class RegisteredEntity(Model):
    """One registered entity by its credit code, with its name split the way conflicts are judged."""

    id = fields.IntField(pk=True)
    credit_code = fields.CharField(max_length=18, unique=True)
    name = fields.CharField(max_length=128)
    trade_name = fields.CharField(max_length=64)
    trade_pinyin = fields.CharField(max_length=255, default="")
    industry = fields.CharField(max_length=32, default="")
    org_form = fields.CharField(max_length=32, default="")
    authority_code = fields.CharField(max_length=6)
    city_code = fields.CharField(max_length=6)
    entity_type = fields.CharField(max_length=24)
    status = fields.CharField(max_length=16, default="registered")
    # When a cancellation or a name change took effect: such a name stays protected for a year.
    status_date = fields.DatetimeField(null=True)
    # The entity's investors as [{name, credit_code}] (规定第十七条 投资关系); null when the registry does not know them.
    investors = fields.JSONField(null=True)
    # The liaison's (联络员) mobile, where annual-report reminders go; null when the registry does not know it.
    liaison_phone = EncryptedTextField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "registered_entity"
        indexes = (("city_code", "trade_name"), ("city_code", "trade_pinyin"))


class RetiredName(Model):
    """A name an entity gave up by changing it (名称变更): protected for a year from retired_at."""

    id = fields.IntField(pk=True)
    credit_code = fields.CharField(max_length=18)
    name = fields.CharField(max_length=128)
    trade_name = fields.CharField(max_length=64)
    trade_pinyin = fields.CharField(max_length=255, default="")
    industry = fields.CharField(max_length=32, default="")
    city_code = fields.CharField(max_length=6)
    retired_at = fields.DatetimeField()

    class Meta:
        table = "retired_name"
        indexes = (("city_code", "trade_name"), ("city_code", "trade_pinyin"))


class NameReservation(Model):
    """A name held for one applicant until expires_at (名称自主申报保留)."""

    id = fields.UUIDField(pk=True)
    applicant = fields.ForeignKeyField("yct.Applicant", related_name="name_reservations", on_delete=fields.CASCADE, db_index=True)
    name = fields.CharField(max_length=128)
    trade_name = fields.CharField(max_length=64)
    trade_pinyin = fields.CharField(max_length=255, default="")
    industry = fields.CharField(max_length=32, default="")
    entity_type = fields.CharField(max_length=24)
    authority_code = fields.CharField(max_length=6)
    city_code = fields.CharField(max_length=6)
    expires_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "name_reservation"
        # The same 字号 in the same industry within one city: the database lets exactly one racer in.
        unique_together = (("city_code", "trade_name", "industry"),)
        indexes = (("city_code", "trade_pinyin"),)

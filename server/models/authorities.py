"""Registration authorities (登记机关), keyed by their 6-digit administrative division code."""
from tortoise import fields
from tortoise.models import Model


class Authority(Model):
    code = fields.CharField(pk=True, max_length=6)
    name = fields.CharField(max_length=64)
    level = fields.CharField(max_length=16)  # province | city | county
    parent = fields.ForeignKeyField("yct.Authority", null=True, related_name="children", on_delete=fields.RESTRICT)

    class Meta:
        table = "authority"

    @property
    def city_code(self) -> str:
        """The 设区的市 this authority belongs to: names conflict within one city."""
        return self.code[:4] + "00" if self.level != "province" else self.code

"""The development SMS sink: keeps every message in the database, readable at GET /dev/sms."""
from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from server.models.notifications import DevSms
from server.sms import Accepted, SmsMessage, SmsProvider


class DevSinkProvider(SmsProvider):
    name = "dev_sink"

    async def send(self, message: SmsMessage) -> Accepted:
        try:
            row = await DevSms.create(out_id=message.id, phone=message.phone, template=message.template,
                                      params=message.params, text=message.text)
        except IntegrityError:
            # Like a provider honouring an idempotency key: the phone shows it once, the repeat is counted.
            await DevSms.filter(out_id=message.id).update(received_count=F("received_count") + 1)
            row = await DevSms.get(out_id=message.id)
        return Accepted(f"dev-{row.id}")

    async def find(self, message: SmsMessage) -> Accepted | None:
        row = await DevSms.get_or_none(out_id=message.id)
        return Accepted(f"dev-{row.id}") if row else None

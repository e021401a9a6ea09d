"""The development SMS sink: keeps every message in the database, readable at GET /dev/sms.

Sends that arrive together (the outbox has many in flight) are written with one INSERT, as a provider's batch API
would take them: a message counts as accepted when the statement holding it committed.
"""
from __future__ import annotations

import asyncio

from tortoise import connections

from server.clock import now
from server.crypto import blind_index
from server.models.notifications import DevSms
from server.sms import Accepted, SmsMessage, SmsProvider

BATCH_MAX = 500


class DevSinkProvider(SmsProvider):
    name = "dev_sink"

    def __init__(self):
        self._waiting: list[tuple[SmsMessage, asyncio.Future]] = []
        self._flushing: asyncio.Task | None = None

    async def send(self, message: SmsMessage) -> Accepted:
        accepted = asyncio.get_running_loop().create_future()
        self._waiting.append((message, accepted))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        return await accepted

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let the sends started in the same round join this batch
        while self._waiting:
            batch, seen, later = [], set(), []
            for item in self._waiting[:BATCH_MAX]:
                # A repeat of a message in the same batch goes into the next statement, so it is counted.
                (later if item[0].id in seen else batch).append(item)
                seen.add(item[0].id)
            self._waiting = later + self._waiting[BATCH_MAX:]
            try:
                ids = await _insert(batch)
            except Exception as exc:
                for _, accepted in batch:
                    if not accepted.done():
                        accepted.set_exception(exc)
                continue
            for message, accepted in batch:
                if not accepted.done():
                    accepted.set_result(Accepted(f"dev-{ids[message.id]}"))

    async def find(self, message: SmsMessage) -> Accepted | None:
        row = await DevSms.get_or_none(out_id=message.id)
        return Accepted(f"dev-{row.id}") if row else None


def _marks(start: int, count: int) -> str:
    postgres = connections.get("default").capabilities.dialect == "postgres"
    return ", ".join(f"${n}" if postgres else "?" for n in range(start, start + count))


async def _insert(batch: list[tuple[SmsMessage, asyncio.Future]]) -> dict[str, int]:
    """One INSERT for the batch; a message already received (same out_id) is counted again, like a provider
    honouring an idempotency key: the phone shows it once, the repeat cannot hide."""
    columns = ("out_id", "phone", "phone_index", "template", "params", "text", "received_count", "at")
    rows, values = [], []
    moment = now()
    # The model's own fields encrypt what the sink keeps, as on any save (personal data at rest).
    field = DevSms._meta.fields_map
    for n, (message, _) in enumerate(batch):
        rows.append(f"({_marks(n * len(columns) + 1, len(columns))})")
        values += [message.id, field["phone"].to_db_value(message.phone, None), blind_index(message.phone),
                   message.template, field["params"].to_db_value(message.params, None),
                   field["text"].to_db_value(message.text, None), 1, moment]
    names = ", ".join(f'"{column}"' for column in columns)
    sql = (f'INSERT INTO "dev_sms" ({names}) '
           f'VALUES {", ".join(rows)} ON CONFLICT ("out_id") DO UPDATE SET '
           f'"received_count" = "dev_sms"."received_count" + 1 RETURNING "id", "out_id"')
    result = await connections.get("default").execute_query_dict(sql, values)
    return {row["out_id"]: row["id"] for row in result}

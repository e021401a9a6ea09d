"""After a load test: every SMS the outbox holds reached the development sink exactly once (exit 1 otherwise).

    YCT_DATABASE__URL=… .venv/bin/python -m bench.load_check

Waits up to two minutes for the workers to drain what is still queued.
"""
from __future__ import annotations

import asyncio
import sys

from server.config import load_settings
from server.db import close_database, open_database
from server.models.notifications import DevSms, OutboxMessage


async def problems() -> list[str]:
    await open_database(load_settings())
    try:
        queued = OutboxMessage.filter(channel="sms", status__in=["pending", "sending"])
        for _ in range(120):
            if not await queued.exists():
                break
            await asyncio.sleep(1)
        sent = {str(i) for i in await OutboxMessage.filter(channel="sms", status="sent").values_list("id", flat=True)}
        left = await queued.count()
        received = dict(await DevSms.all().values_list("out_id", "received_count"))
        doubled = [out_id for out_id, count in received.items() if count > 1]
        lost = sent - set(received)
        print(f"outbox: {len(sent)} SMS sent, {len(received)} in the sink, {len(lost)} lost, {len(doubled)} doubled, "
              f"{left} still queued")
        return ([f"{left} SMS still queued after two minutes"] if left else []) + \
            ([f"{len(lost)} SMS marked sent but not in the sink"] if lost else []) + \
            ([f"{len(doubled)} SMS received more than once"] if doubled else [])
    finally:
        await close_database()


def main() -> int:
    found = asyncio.run(problems())
    print("load check: " + ("OK — no message lost or doubled" if not found else "; ".join(found)))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

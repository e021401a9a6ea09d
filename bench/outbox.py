"""Outbox throughput: messages delivered per second to the development SMS sink, with 10,000 queued.

    .venv/bin/python -m bench.outbox [--messages 10000] [--concurrency 16]

Runs on a fresh SQLite file and the in-process cache unless YCT_DATABASE__URL / YCT_CACHE__URL are set; a
PostgreSQL database given that way must be a scratch one (the benchmark empties its outbox and sink tables).
Each message goes to its own phone, so the per-phone limits are checked for every message but hold none back.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from server.cache import make_cache
from server.config import load_settings
from server.db import close_database, migrate, open_database
from server.models.notifications import DevSms, OutboxMessage
from server.clock import now
from server.services.notifications.outbox import OutboxSender
from server.sms.dev_sink import DevSinkProvider

PARAMS = {"name": "云帆（崇左）科技有限公司", "business": "设立登记", "result": "已核准"}


async def run(messages: int, concurrency: int) -> None:
    environ = dict(os.environ)
    environ.setdefault("YCT_DATABASE__URL", f"sqlite://{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}")
    environ.setdefault("YCT_CACHE__URL", "memory://")
    settings = load_settings(environ=environ, outbox={"concurrency": concurrency})
    await migrate(settings)
    await open_database(settings)
    cache = make_cache(settings.cache.url)
    try:
        await OutboxMessage.all().delete()
        await DevSms.all().delete()
        await cache.clear()
        moment = now()
        await OutboxMessage.bulk_create(
            [OutboxMessage(channel="sms", recipient=f"139{n:08d}", template="application_result", params=PARAMS,
                           next_attempt_at=moment) for n in range(messages)], batch_size=1000)

        sender = OutboxSender(settings, cache, DevSinkProvider(), None)
        started = time.perf_counter()
        handled = await sender.deliver_due()
        elapsed = time.perf_counter() - started

        sent = await OutboxMessage.filter(status="sent").count()
        received = await DevSms.all().count()
        assert handled == sent == received == messages, (handled, sent, received)
        database = settings.database.url.split("://", 1)[0]
        print(f"outbox → development sink: {messages} messages in {elapsed:.2f} s = {messages / elapsed:,.0f} "
              f"messages/s ({database}, cache {settings.cache.url.split('://', 1)[0]}, "
              f"concurrency {concurrency})")
    finally:
        await cache.close()
        await close_database()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.outbox", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(run(args.messages, args.concurrency))


if __name__ == "__main__":
    main()

"""The outbox sender in a process of its own, as on another worker or host: `python -m tests.outbox_child [N]`.

With N it dies by SIGKILL right after the development sink accepted its N-th message and before the outbox
row is marked: the worst moment for a crash. Settings come from the environment (YCT_DATABASE__URL …).
"""
import asyncio
import os
import signal
import sys

from server.cache import make_cache
from server.config import load_settings
from server.db import close_database, open_database
from server.services.notifications.outbox import OutboxSender
from server.sms.dev_sink import DevSinkProvider


class SinkThatDiesAfter(DevSinkProvider):
    def __init__(self, accepted_before_death: int):
        super().__init__()
        self.left = accepted_before_death

    async def send(self, message):
        accepted = await super().send(message)
        self.left -= 1
        if self.left == 0:
            os.kill(os.getpid(), signal.SIGKILL)
        return accepted


async def main(die_after: int) -> None:
    settings = load_settings(outbox={"lease_seconds": 1, "concurrency": 4})
    await open_database(settings)
    cache = make_cache(settings.cache.url)
    sink = SinkThatDiesAfter(die_after) if die_after else DevSinkProvider()
    try:
        print(await OutboxSender(settings, cache, sink, None).deliver_due(), flush=True)
    finally:
        await cache.close()
        await close_database()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))

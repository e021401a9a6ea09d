"""`python -m server worker`: the outbox sender as a process of its own, one or more per machine.

Several can run on several machines against one PostgreSQL: claims are guarded UPDATEs under SELECT … FOR UPDATE
SKIP LOCKED, so each message has one sender. SIGTERM or SIGINT stops the worker gracefully: the round in hand is
finished and recorded (up to `grace_seconds`); a round still unfinished then is abandoned with its rows in
'sending', and once their lease runs out the next sender asks the provider before sending any again. One that
comes while the database is still being reached ends the start there.
"""
from __future__ import annotations

import asyncio
import logging
import signal

from server.cache import make_cache
from server.config import Settings
from server.db import close_database, open_database
from server.mail import MailSender
from server.notary import make_notary_client
from server.services.notifications.outbox import OutboxSender
from server.sms import make_sms_provider
from server.wechat import WeChatGateway

log = logging.getLogger("yct.worker")


async def run_worker(settings: Settings, grace_seconds: float = 10.0) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    # An unanswering database holds the connect for the driver's timeout (a minute): a signal meanwhile ends it.
    opening = asyncio.ensure_future(open_database(settings))
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait((opening, stopped), return_when=asyncio.FIRST_COMPLETED)
    if not opening.done():
        opening.cancel()
        await asyncio.gather(opening, return_exceptions=True)
        await close_database()
        print("outbox worker stopped before it started", flush=True)
        return
    stopped.cancel()
    opening.result()
    cache = make_cache(settings.cache.url)
    notary = make_notary_client(settings)
    wechat = WeChatGateway(settings.wechat.appid, settings.wechat.secret, settings.wechat_api_base_url,
                           settings.wechat.timeout_seconds)
    # A worker reaches a real SMTP server only; the development mail stand-in lives in the web process.
    mail = MailSender(settings, settings.email.host, settings.email.port or 25) \
        if settings.email.enabled and settings.email.host else None
    sender = OutboxSender(settings, cache, make_sms_provider(settings), wechat, notary, mail)
    try:
        sender.start()
        print(f"outbox worker sending (concurrency {settings.outbox.concurrency}); SIGTERM stops it", flush=True)
        await stop.wait()
        log.info("stopping: finishing the round in hand (up to %s s)", grace_seconds)
        await sender.stop(grace_seconds)
    finally:
        if notary is not None:
            await notary.close()
        await cache.close()
        await close_database()
    print("outbox worker stopped", flush=True)

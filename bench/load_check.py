"""After a load test: every SMS the outbox sent reached the development sink exactly once, and every filing that was
approved-and-locked and then signed by all its signatories was submitted (exit 1 otherwise).

    YCT_DATABASE__URL=… .venv/bin/python -m bench.load_check

First waits for the workers to send what is due (事后确认 notices wait sms.notice_coalesce_seconds for the signatures
after them, so up to that long plus two minutes); messages scheduled further ahead (a signing link's reminder, a day
before it expires) are counted apart. Filings still being signed when the run stopped are reported by how many of
their signatures were in, not counted as failures.
"""
from __future__ import annotations

import asyncio
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone

from server.config import Settings, load_settings
from server.db import close_database, open_database
from server.models.applications import Application
from server.models.notifications import DevSms, OutboxMessage
from server.models.signing import SigningRequest
from server.services.signing.signatures import all_required_signed

WAITING = ("pending", "sending")


async def sms_problems(settings: Settings) -> list[str]:
    horizon = datetime.now(timezone.utc) + timedelta(seconds=settings.sms.notice_coalesce_seconds + 5)
    due = OutboxMessage.filter(channel="sms", status__in=WAITING, next_attempt_at__lte=horizon)
    for _ in range(settings.sms.notice_coalesce_seconds + 120):
        if not await due.exists():
            break
        await asyncio.sleep(1)
    sent = {str(i) for i in await OutboxMessage.filter(channel="sms", status="sent").values_list("id", flat=True)}
    left = await due.count()
    later = Counter(await OutboxMessage.filter(channel="sms", status__in=WAITING, next_attempt_at__gt=horizon)
                    .values_list("template", flat=True))
    received = dict(await DevSms.all().values_list("out_id", "received_count"))
    doubled = [out_id for out_id, count in received.items() if count > 1]
    lost = sent - set(received)
    print(f"outbox: {len(sent)} SMS sent, {len(received)} in the sink, {len(lost)} lost, {len(doubled)} doubled, "
          f"{left} due and still queued; scheduled for later: "
          + (", ".join(f"{template} ×{count}" for template, count in sorted(later.items())) or "none"))
    return ([f"{left} due SMS still queued after waiting"] if left else []) + \
        ([f"{len(lost)} SMS marked sent but not in the sink"] if lost else []) + \
        ([f"{len(doubled)} SMS received more than once"] if doubled else [])


async def signing_problems(settings: Settings) -> list[str]:
    """Each filing approved-and-locked through 云帮办 must be submitted once all its signatories signed."""
    locked = await Application.filter(flow="cloud", snapshot_hash__not_isnull=True)
    statuses = Counter(application.status for application in locked)
    stuck, unfinished = [], Counter()
    for application in locked:
        if application.status != "locked_signing":
            continue
        if await all_required_signed(application, settings.home_province):
            stuck.append(str(application.id))
            continue
        requests = Counter(await SigningRequest.filter(application_id=application.id)
                           .values_list("status", flat=True))
        unfinished[f"{requests['signed']} of {sum(requests.values())} signed"] += 1
    print(f"filings: {len(locked)} approved and locked, {statuses['submitted']} submitted by their last signature"
          + (f", {len(stuck)} signed by everyone but not submitted" if stuck else "")
          + ("; still being signed when the run stopped: "
             + ", ".join(f"{count} with {state}" for state, count in sorted(unfinished.items())) if unfinished else "")
          + "".join(f", {count} {status}" for status, count in sorted(statuses.items())
                    if status not in ("submitted", "locked_signing")))
    return [f"{len(stuck)} filings signed by every signatory but not submitted"] if stuck else []


async def problems() -> list[str]:
    settings = load_settings()
    await open_database(settings)
    try:
        return await sms_problems(settings) + await signing_problems(settings)
    finally:
        await close_database()


def main() -> int:
    found = asyncio.run(problems())
    print("load check: " + ("OK — no message lost or doubled, every fully signed filing submitted" if not found
                            else "; ".join(found)))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

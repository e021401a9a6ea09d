"""Idempotency-Key: the first answer to a request is stored; a retry, even a concurrent one, gets that answer back."""
from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable

from tortoise.exceptions import IntegrityError

from server.errors import Invalid
from server.models.review import IdempotencyRecord
from server.clock import now
from server.services.review.access import conflict

MAX_KEY_LENGTH = 128
# How long a duplicate waits for the first request to finish before it is told to retry.
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.05
# A record still unanswered after this long belongs to a request that died mid-way: its key is free again.
ABANDONED_SECONDS = 300


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise Invalid("Idempotency-Key", f"Idempotency-Key 应为1至{MAX_KEY_LENGTH}个可打印字符")
    return key


def fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()


async def once(applicant_id: int, key: str | None, request_fingerprint: str,
               work: Callable[[], Awaitable[dict]]) -> dict:
    """Run `work` at most once per (applicant, key); a failure is not stored, so the request can be retried."""
    if key is None:
        return await work()
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            record = await IdempotencyRecord.create(applicant_id=applicant_id, key=key,
                                                    fingerprint=request_fingerprint)
        except IntegrityError:
            existing = await IdempotencyRecord.get_or_none(applicant_id=applicant_id, key=key)
            if existing is None:
                continue  # the first attempt failed and let go of the key: act now
            if existing.fingerprint != request_fingerprint:
                raise Invalid("Idempotency-Key", "该 Idempotency-Key 已用于另一个请求，请换一个") from None
            if existing.status_code is not None:
                return existing.response
            if (now() - existing.created_at).total_seconds() > ABANDONED_SECONDS:
                await IdempotencyRecord.filter(id=existing.id, status_code=None).delete()
                continue
            if time.monotonic() > deadline:
                raise conflict("request_in_progress", "相同的请求正在处理中，请稍后重试") from None
            await asyncio.sleep(POLL_SECONDS)
            continue
        try:
            answer = await work()
        except BaseException:
            await IdempotencyRecord.filter(id=record.id).delete()
            raise
        await IdempotencyRecord.filter(id=record.id).update(status_code=200, response=answer)
        return answer

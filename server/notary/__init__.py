"""The notary's data centre (公证处数据中心, seed 004 一键公证): each evidence entry is pushed as HMAC-signed JSON.

One small interface, `push(record) → receipt id`, spoken over HTTP to the URL in notary.url: the body is the
record as canonical JSON, `X-YCT-Signature` its HMAC-SHA256 under notary.hmac_key (hex), and `Idempotency-Key`
the outbox message id, so a repeated push returns the first receipt. The stand-in (miniprogram-mock/trustmock)
answers the same way.
"""
from __future__ import annotations

import hashlib
import hmac

import httpx

from server.canonical import canonical_json
from server.config import Settings
from server.sms import PermanentFailure, TemporaryFailure

SIGNATURE_HEADER = "X-YCT-Signature"


def canonical_body(record: dict) -> bytes:
    return canonical_json(record).encode("ascii")


def signature(key: str, body: bytes) -> str:
    return hmac.new(key.encode("utf-8"), body, hashlib.sha256).hexdigest()


class NotaryClient:
    def __init__(self, url: str, hmac_key: str, timeout: float):
        self.url = url
        self.key = hmac_key
        self.http = httpx.AsyncClient(timeout=timeout)

    async def push(self, record: dict, idempotency_key: str) -> str:
        """Send one record; the notary's receipt id. TemporaryFailure (retry) or PermanentFailure otherwise."""
        body = canonical_body(record)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature(self.key, body),
                   "Idempotency-Key": idempotency_key}
        try:
            response = await self.http.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise TemporaryFailure("notary_unreachable", f"公证处数据中心无法连接：{exc.__class__.__name__}") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise TemporaryFailure(f"http_{response.status_code}", "公证处数据中心暂不可用")
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code >= 400:
            raise PermanentFailure(f"http_{response.status_code}", str(answer.get("error") or "公证处拒收"))
        receipt = answer.get("receipt_id") if isinstance(answer, dict) else None
        if not isinstance(receipt, str) or not receipt:
            raise TemporaryFailure("no_receipt", "公证处未返回回执编号")
        return receipt

    async def close(self) -> None:
        await self.http.aclose()


def make_notary_client(settings: Settings) -> NotaryClient | None:
    if not settings.notary.enabled:
        return None
    return NotaryClient(settings.notary_url, settings.notary.hmac_key, settings.notary.timeout_seconds)

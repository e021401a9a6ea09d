"""The stand-in notary data centre and time-stamping authority, mountable in our server or runnable alone.

Notary (`/_mock/notary`): `POST /evidence` takes an evidence record as JSON signed with HMAC-SHA256
(`X-YCT-Signature`), answers `{receipt_id, received_at}`, and gives the same receipt for the same entry again.
`POST /fail {count, status}` makes the next pushes fail (503 by default) so retries can be tested;
`GET /evidence` lists what arrived. TSA (`/_mock/tsa`): answers RFC 3161 requests with pyHanko's test
time-stamper, signing with the development TSA certificate.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from sanic import Blueprint, Request, Sanic, json as json_response, raw


@dataclass
class NotaryState:
    hmac_key: str = "dev-notary-key"
    receipts: dict[str, dict] = field(default_factory=dict)  # entry_hash -> {receipt_id, record, received_at}
    fail_next: list[int] = field(default_factory=list)
    pushes: int = 0


def create_notary_blueprint(state: NotaryState, url_prefix: str = "/_mock/notary") -> Blueprint:
    bp = Blueprint("notarymock", url_prefix=url_prefix)

    @bp.post("/evidence")
    async def receive(request: Request):
        state.pushes += 1
        if state.fail_next:
            return json_response({"error": "数据中心维护中"}, status=state.fail_next.pop(0))
        expected = hmac.new(state.hmac_key.encode(), request.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("x-yct-signature", ""), expected):
            return json_response({"error": "签名校验失败"}, status=401)
        try:
            record = json.loads(request.body)
        except ValueError:
            return json_response({"error": "请求体不是 JSON"}, status=400)
        if not isinstance(record, dict) or not all(record.get(key) for key in ("entry_hash", "filing_reference")):
            return json_response({"error": "缺少 entry_hash 或 filing_reference"}, status=400)
        known = state.receipts.get(record["entry_hash"])
        if known is None:
            known = {"receipt_id": "NTR-" + secrets.token_hex(8).upper(), "record": record,
                     "received_at": time.time()}
            state.receipts[record["entry_hash"]] = known
        return json_response({"receipt_id": known["receipt_id"], "received_at": known["received_at"]})

    @bp.post("/fail")
    async def fail(request: Request):
        body = request.json if isinstance(request.json, dict) else {}
        state.fail_next.extend([int(body.get("status", 503))] * int(body.get("count", 1)))
        return json_response({"ok": True})

    @bp.get("/evidence")
    async def received(request: Request):
        return json_response([{"receipt_id": item["receipt_id"], **item["record"]}
                              for item in state.receipts.values()])

    return bp


def create_tsa_blueprint(certificate_dir: str, url_prefix: str = "/_mock/tsa") -> Blueprint:
    """RFC 3161 over HTTP (application/timestamp-query → application/timestamp-reply)."""
    bp = Blueprint("tsamock", url_prefix=url_prefix)
    stampers: list = []

    def stamper():
        if not stampers:
            from asn1crypto import keys, pem, x509
            from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

            directory = Path(certificate_dir)
            certificates = [x509.Certificate.load(der) for _, _, der in
                            pem.unarmor((directory / "tsa.pem").read_bytes(), multiple=True)]
            _, _, key_der = pem.unarmor((directory / "tsa-key.pem").read_bytes())
            stampers.append(DummyTimeStamper(tsa_cert=certificates[0], tsa_key=keys.PrivateKeyInfo.load(key_der),
                                             certs_to_embed=certificates[1:]))
        return stampers[0]

    @bp.post("")
    async def timestamp(request: Request):
        from asn1crypto import tsp

        try:
            query = tsp.TimeStampReq.load(request.body)
            query.native  # parse fully: a malformed request is refused here, not half-way through signing
        except ValueError:
            return raw(b"", status=400)
        response = await stamper().async_request_tsa_response(query)
        return raw(response.dump(), content_type="application/timestamp-reply")

    return bp


def create_standalone_app(state: NotaryState | None = None, certificate_dir: str | None = None) -> Sanic:
    app = Sanic("trustmock_standalone")
    app.ctx.notary_state = state or NotaryState()
    app.blueprint(create_notary_blueprint(app.ctx.notary_state, url_prefix="/notary"))
    if certificate_dir:
        app.blueprint(create_tsa_blueprint(certificate_dir, url_prefix="/tsa"))
    return app

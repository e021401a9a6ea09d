"""A stand-in for the Aliyun and Tencent Cloud SMS endpoints: records what the official SDKs really send, and checks
their signatures (Aliyun ACS3-HMAC-SHA256, Tencent TC3-HMAC-SHA256) with the configured secret."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote


@dataclass
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.path.partition("?")[2], keep_blank_values=True))

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class StandIn:
    secret: str
    requests: list[SeenRequest] = field(default_factory=list)
    # action → list of (status, body) answered in turn; the last one repeats.
    answers: dict[str, list[tuple[int, dict]]] = field(default_factory=dict)
    url: str = ""

    def answer(self, action: str, *replies: tuple[int, dict]) -> None:
        self.answers[action] = list(replies)

    def actions(self) -> list[str]:
        return [self.action_of(request) for request in self.requests]

    @staticmethod
    def action_of(request: SeenRequest) -> str:
        return request.headers.get("x-acs-action") or request.headers.get("x-tc-action") or ""

    def reply(self, request: SeenRequest) -> tuple[int, dict]:
        queue = self.answers.get(self.action_of(request)) or [(500, {"Code": "NoAnswerConfigured"})]
        return queue.pop(0) if len(queue) > 1 else queue[0]


def aliyun_signature_ok(request: SeenRequest, secret: str) -> bool:
    match = re.fullmatch(r"ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})",
                         request.headers.get("authorization", ""))
    if not match:
        return False
    signed = match[2].split(";")
    path, _, query = request.path.partition("?")
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    canonical_query = "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in pairs)
    canonical_headers = "".join(f"{name}:{request.headers[name].strip()}\n" for name in signed)
    canonical = "\n".join([request.method, path or "/", canonical_query, canonical_headers, match[2],
                           hashlib.sha256(request.body).hexdigest()])
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    return hmac.compare_digest(hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest(), match[3])


def tencent_signature_ok(request: SeenRequest, secret: str) -> bool:
    match = re.fullmatch(r"TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d{2}-\d{2})/(\w+)/tc3_request, "
                         r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})", request.headers.get("authorization", ""))
    if not match:
        return False
    date, service, signed = match[2], match[3], match[4].split(";")
    timestamp = request.headers["x-tc-timestamp"]
    if datetime.fromtimestamp(int(timestamp), timezone.utc).strftime("%Y-%m-%d") != date:
        return False
    canonical_headers = "".join(f"{name}:{request.headers[name].strip().lower()}\n" for name in signed)
    canonical = "\n".join([request.method, "/", "", canonical_headers, match[4],
                           hashlib.sha256(request.body).hexdigest()])
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = ("TC3" + secret).encode()
    for part in (date, service, "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), match[5])


def start_standin(secret: str) -> tuple[StandIn, ThreadingHTTPServer]:
    state = StandIn(secret=secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            seen = SeenRequest("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            state.requests.append(seen)
            status, answer = state.reply(seen)
            data = json.dumps(answer, ensure_ascii=False).encode()
            self.send_response(status)
            # Each provider's own content type (the Tencent SDK reads errors only from exactly application/json).
            tencent = "x-tc-action" in seen.headers
            self.send_header("Content-Type", "application/json" if tencent else "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            return None

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    return state, httpd

"""A stand-in for Tencent Cloud FaceID H5 (慧眼): the API (DetectAuth, GetDetectInfoEnhanced) and the H5 page.

The API answers TC3-HMAC-SHA256 signed JSON requests on a real socket, as faceid.tencentcloudapi.com does, and
refuses a wrong signature with AuthFailure.SignatureFailure. The H5 page plays the phone's camera: its button
finishes the liveness check and sends the browser back to the RedirectUrl with token=BizToken, as Tencent does.
Tests may finish a check as someone else (`/h5/complete?...&as_name=…&as_id=…`) or fail it (`outcome=fail`).
"""
from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse


@dataclass
class Check:
    biz_token: str
    rule_id: str
    name: str
    id_card: str
    redirect_url: str
    extra: str
    state: str = "pending"  # pending | passed | failed
    face_name: str = ""
    face_id_card: str = ""


@dataclass
class FaceIdState:
    secret_id: str
    secret_key: str
    checks: dict[str, Check] = field(default_factory=dict)
    # Every API call seen: (action, signature_ok).
    calls: list[tuple[str, bool]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.checks.clear()
            self.calls.clear()


def signature_ok(method: str, headers, body: bytes, secret_id: str, secret_key: str) -> bool:
    """TC3-HMAC-SHA256 as Tencent Cloud checks it."""
    match = re.fullmatch(r"TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d{2}-\d{2})/(\w+)/tc3_request, "
                         r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})", headers.get("authorization", ""))
    if not match or match[1] != secret_id:
        return False
    date, service, signed = match[2], match[3], match[4].split(";")
    timestamp = headers.get("x-tc-timestamp", "0")
    if datetime.fromtimestamp(int(timestamp), timezone.utc).strftime("%Y-%m-%d") != date:
        return False
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip().lower()}\n" for name in signed)
    canonical = "\n".join([method, "/", "", canonical_headers, match[4], hashlib.sha256(body).hexdigest()])
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = ("TC3" + secret_key).encode()
    for part in (date, service, "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), match[5])


_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>人脸核验</title>
<style>body{{font-family:"Noto Sans CJK SC",sans-serif;margin:0;padding:24px;background:#f4f6f9;color:#1f2329}}
h1{{font-size:20px}}.card{{background:#fff;border-radius:12px;padding:20px;text-align:center}}
.face{{width:180px;height:180px;border-radius:50%;border:4px solid #2f6fec;margin:16px auto;display:flex;
align-items:center;justify-content:center;color:#8a919f}}button{{width:100%;padding:14px;font-size:17px;border:0;
border-radius:8px;background:#2f6fec;color:#fff}}small{{color:#8a919f}}</style></head><body>
<h1>腾讯云慧眼 · 人脸核验</h1><div class="card"><p>核验对象：{name}</p><div class="face">请正对屏幕</div>
<form method="post" action="/h5/complete?token={token}"><button type="submit">开始刷脸</button></form>
<p><small>开发环境模拟页面：点击即视为本人完成活体检测</small></p></div></body></html>"""


def _mask(name: str) -> str:
    return name[:1] + "*" * max(1, len(name) - 1)


def make_handler(state: FaceIdState, public_url: str):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _api(self, answer: dict):
            self._send(200, json.dumps({"Response": answer}, ensure_ascii=False).encode(), "application/json")

        def do_GET(self):
            url = urlparse(self.path)
            token = parse_qs(url.query).get("token", [""])[0]
            check = state.checks.get(token)
            if url.path != "/h5" or check is None:
                self._send(404, "核验链接无效".encode(), "text/plain; charset=utf-8")
                return
            page = _PAGE.format(name=html.escape(_mask(check.name)), token=html.escape(token))
            self._send(200, page.encode(), "text/html; charset=utf-8")

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            url = urlparse(self.path)
            if url.path == "/h5/complete":
                self._complete(parse_qs(url.query))
                return
            headers = {key.lower(): value for key, value in self.headers.items()}
            ok = signature_ok("POST", headers, body, state.secret_id, state.secret_key)
            action = headers.get("x-tc-action", "")
            request_id = str(uuid.uuid4())
            with state.lock:
                state.calls.append((action, ok))
            if not ok:
                self._api({"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "签名错误"},
                           "RequestId": request_id})
                return
            params = json.loads(body or b"{}")
            if action == "DetectAuth":
                token = str(uuid.uuid4()).upper()
                state.checks[token] = Check(token, str(params.get("RuleId", "")), params.get("Name", ""),
                                            params.get("IdCard", ""), params.get("RedirectUrl", ""),
                                            params.get("Extra", ""))
                self._api({"Url": f"{public_url}/h5?token={token}", "BizToken": token, "RequestId": request_id})
            elif action == "GetDetectInfoEnhanced":
                check = state.checks.get(params.get("BizToken", ""))
                if check is None:
                    self._api({"Error": {"Code": "InvalidParameterValue.BizTokenIllegal", "Message": "BizToken无效"},
                               "RequestId": request_id})
                    return
                done = check.state != "pending"
                text = {"ErrCode": None if not done else (0 if check.state == "passed" else -1001),
                        "ErrMsg": {"pending": "用户未完成核验", "passed": "成功", "failed": "活体检测不通过"}[check.state],
                        "IdCard": check.face_id_card if done else "", "Name": check.face_name if done else "",
                        "LiveStatus": 0 if check.state == "passed" else (-1 if done else None),
                        "Comparestatus": 0 if check.state == "passed" else None, "Extra": check.extra}
                self._api({"Text": text, "RequestId": request_id})
            else:
                self._api({"Error": {"Code": "InvalidAction", "Message": action}, "RequestId": request_id})

        def _complete(self, query: dict):
            token = query.get("token", [""])[0]
            check = state.checks.get(token)
            if check is None or check.state != "pending":
                self._send(404, "核验链接无效或已使用".encode(), "text/plain; charset=utf-8")
                return
            check.state = "failed" if query.get("outcome", ["ok"])[0] == "fail" else "passed"
            check.face_name = query.get("as_name", [check.name])[0]
            check.face_id_card = query.get("as_id", [check.id_card])[0]
            separator = "&" if "?" in check.redirect_url else "?"
            self._send(302, b"", "text/plain", {"Location": check.redirect_url + separator + urlencode({"token": token})})

    return Handler


class FaceIdServer:
    """The stand-in on 127.0.0.1 and a free port, in its own thread."""

    def __init__(self, state: FaceIdState, host: str = "127.0.0.1"):
        self.state = state
        self._httpd = ThreadingHTTPServer((host, 0), None)
        self.endpoint = f"{host}:{self._httpd.server_address[1]}"
        self._httpd.RequestHandlerClass = make_handler(state, f"http://{self.endpoint}")
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="faceid-standin", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

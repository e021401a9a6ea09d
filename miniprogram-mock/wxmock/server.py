"""The stand-in for api.weixin.qq.com, mountable in our server (/_mock/wx) or runnable alone.

Answers with WeChat's own shapes and error codes so that wechatpy and our services cannot tell the difference.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, field

from sanic import Blueprint, Request, Sanic, json

ERRORS = {
    40001: "invalid credential, access_token is invalid or not latest",
    40013: "invalid appid",
    40029: "invalid code",
    40125: "invalid appsecret",
    40163: "code been used",
    43101: "user refuse to accept the msg",
    45011: "api minute-quota reach limit  mustslower  retry next minute",
    47001: "data format error",
    84001: "invalid identify id",
    84002: "user data expired",
}


def _error(errcode: int):
    return json({"errcode": errcode, "errmsg": ERRORS[errcode]})


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


@dataclass
class MockState:
    appid: str = "wxdevappid0000001"
    secret: str = "dev-secret"
    access_tokens: dict[str, float] = field(default_factory=dict)
    login_codes: dict[str, dict] = field(default_factory=dict)  # code -> {openid, used}
    phone_codes: dict[str, str] = field(default_factory=dict)
    face_results: dict[str, dict] = field(default_factory=dict)
    subscriptions_refused: set[str] = field(default_factory=set)
    sent_subscribe_messages: list[dict] = field(default_factory=list)
    url_links: list[dict] = field(default_factory=list)
    # Failure injection for tests: the next N calls of an endpoint answer with this errcode.
    fail_next: dict[str, list[int]] = field(default_factory=dict)
    delay_seconds: float = 0.0

    def injected_failure(self, endpoint: str) -> int | None:
        queue = self.fail_next.get(endpoint)
        return queue.pop(0) if queue else None

    def token_ok(self, token: str | None) -> bool:
        expiry = self.access_tokens.get(token or "")
        return bool(expiry and expiry > time.time())

    def face_result(self, name: str, id_number: str, outcome: str = "ok", openid: str = "") -> str:
        """wx.startFacialRecognitionVerify: ok, mismatch (someone else's face) or fail (liveness failed)."""
        id_number = id_number.upper()
        if outcome == "mismatch":
            name, id_number = name + "某", "110101199003070000"
        verify_result = secrets.token_urlsafe(24)
        self.face_results[verify_result] = {
            "identify_ret": 0 if outcome != "fail" else 90100,
            "identify_time": int(time.time()),
            "validate_data": "",
            "openid": openid,
            "user_id_key": secrets.token_hex(8),
            "finish_time": int(time.time()),
            "id_card_number_md5": md5_hex(id_number),
            "name_utf8_md5": md5_hex(name),
        }
        return verify_result


def create_blueprint(state: MockState, url_prefix: str = "/_mock/wx") -> Blueprint:
    bp = Blueprint("wxmock", url_prefix=url_prefix)

    def body(request: Request) -> dict:
        try:
            data = request.json
        except Exception:
            return {}
        return data if isinstance(data, dict) else {}

    # --- WeChat's own routes -------------------------------------------------------------------
    @bp.get("/cgi-bin/token")
    async def token(request: Request):
        if request.args.get("appid") != state.appid:
            return _error(40013)
        if request.args.get("secret") != state.secret:
            return _error(40125)
        access_token = secrets.token_urlsafe(24)
        state.access_tokens[access_token] = time.time() + 7200
        return json({"access_token": access_token, "expires_in": 7200})

    @bp.post("/cgi-bin/stable_token")
    async def stable_token(request: Request):
        data = body(request)
        if data.get("appid") != state.appid:
            return _error(40013)
        if data.get("secret") != state.secret:
            return _error(40125)
        access_token = secrets.token_urlsafe(24)
        state.access_tokens[access_token] = time.time() + 7200
        return json({"access_token": access_token, "expires_in": 7200})

    @bp.get("/sns/jscode2session")
    async def jscode2session(request: Request):
        if state.delay_seconds:
            import asyncio

            await asyncio.sleep(state.delay_seconds)
        injected = state.injected_failure("jscode2session")
        if injected is not None:
            if injected == -1:
                return json({"errcode": -1, "errmsg": "system error"})
            return _error(injected)
        if request.args.get("appid") != state.appid:
            return _error(40013)
        if request.args.get("secret") != state.secret:
            return _error(40125)
        entry = state.login_codes.get(request.args.get("js_code", ""))
        if entry is None:
            return _error(40029)
        if entry["used"]:
            return _error(40163)
        entry["used"] = True
        return json({"openid": entry["openid"], "session_key": secrets.token_urlsafe(16), "unionid": "u-" + entry["openid"]})

    @bp.post("/wxa/business/getuserphonenumber")
    async def get_user_phone_number(request: Request):
        if not state.token_ok(request.args.get("access_token")):
            return _error(40001)
        phone = state.phone_codes.pop(str(body(request).get("code", "")), None)
        if phone is None:
            return _error(40029)
        return json({
            "errcode": 0, "errmsg": "ok",
            "phone_info": {
                "phoneNumber": phone, "purePhoneNumber": phone, "countryCode": "86",
                "watermark": {"timestamp": int(time.time()), "appid": state.appid},
            },
        })

    @bp.post("/cgi-bin/message/subscribe/send")
    async def subscribe_send(request: Request):
        if not state.token_ok(request.args.get("access_token")):
            return _error(40001)
        injected = state.injected_failure("subscribe_send")
        if injected is not None:
            return _error(injected)
        data = body(request)
        if not data.get("touser") or not data.get("template_id"):
            return _error(47001)
        if data["touser"] in state.subscriptions_refused:
            return _error(43101)
        state.sent_subscribe_messages.append({**data, "at": time.time()})
        return json({"errcode": 0, "errmsg": "ok", "msgid": len(state.sent_subscribe_messages)})

    @bp.post("/cityservice/face/identify/getinfo")
    async def face_getinfo(request: Request):
        if not state.token_ok(request.args.get("access_token")):
            return _error(40001)
        result = state.face_results.get(str(body(request).get("verify_result", "")))
        if result is None:
            return _error(84001)
        return json({"errcode": 0, "errmsg": "ok", **result})

    @bp.post("/wxa/generate_urllink")
    async def generate_urllink(request: Request):
        if not state.token_ok(request.args.get("access_token")):
            return _error(40001)
        data = body(request)
        link = "https://wxaurl.cn/" + secrets.token_urlsafe(9)
        state.url_links.append({**data, "url_link": link})
        return json({"errcode": 0, "errmsg": "ok", "url_link": link})

    # --- What the phone would otherwise produce --------------------------------------------------
    @bp.post("/code")
    async def make_login_code(request: Request):
        """wx.login(); with {"count": n} a batch of codes for load tests, one openid each."""
        data = body(request)
        openid = str(data.get("openid") or "")
        if not openid:
            return json({"error": "openid required"}, status=400)
        count = data.get("count")
        if count is not None:
            if not isinstance(count, int) or not 1 <= count <= 100_000:
                return json({"error": "count must be 1..100000"}, status=400)
            codes = [secrets.token_urlsafe(16) for _ in range(count)]
            for index, code in enumerate(codes):
                state.login_codes[code] = {"openid": f"{openid}-{index}", "used": False}
            return json({"codes": codes})
        code = secrets.token_urlsafe(16)
        state.login_codes[code] = {"openid": openid, "used": False}
        return json({"code": code})

    @bp.post("/phone-code")
    async def make_phone_code(request: Request):
        data = body(request)
        if not data.get("phone"):
            return json({"error": "phone required"}, status=400)
        code = secrets.token_urlsafe(16)
        state.phone_codes[code] = str(data["phone"])
        return json({"code": code})

    @bp.post("/face")
    async def make_face_result(request: Request):
        """wx.startFacialRecognitionVerify: ok, mismatch (someone else's face) or fail (liveness failed)."""
        data = body(request)
        outcome = data.get("outcome", "ok")
        if outcome not in ("ok", "mismatch", "fail"):
            return json({"error": "outcome must be ok, mismatch or fail"}, status=400)
        return json({"verify_result": state.face_result(str(data.get("name", "")), str(data.get("id_number", "")),
                                                        outcome, str(data.get("openid") or ""))})

    @bp.post("/refuse-subscription")
    async def refuse_subscription(request: Request):
        state.subscriptions_refused.add(str(body(request).get("openid", "")))
        return json({"ok": True})

    @bp.get("/subscribe-messages")
    async def list_subscribe_messages(request: Request):
        return json(list(reversed(state.sent_subscribe_messages)))

    return bp


def create_standalone_app(state: MockState | None = None) -> Sanic:
    app = Sanic("wxmock_standalone")
    app.ctx.wx_state = state or MockState()
    app.blueprint(create_blueprint(app.ctx.wx_state, url_prefix=""))
    return app

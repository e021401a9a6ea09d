"""What every blueprint shares: the input gate, body parsing into pydantic models with field-named 4xx, and who is
calling (with the CSRF check for the console's cookie)."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json as jsonlib
from types import SimpleNamespace
from typing import TypeVar
from urllib.parse import quote
from urllib.parse import parse_qs

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from sanic import Request, Sanic
from sanic.exceptions import RangeNotSatisfiable
from sanic.handlers import ContentRangeHandler
from sanic.response import raw
from sanic.response.types import BaseHTTPResponse
from sanic.headers import parse_content_header
from sanic.request import RequestParameters
from sanic.request.form import File, parse_multipart_form
from sanic_ext.extensions.openapi.builders import OperationStore
from sanic_ext.extensions.openapi.types import Definition

from server import storage
from server.config import Settings
from server.errors import Forbidden, Invalid, Malformed, NotFound, Unauthorized
from server.models.accounts import Applicant, Staff
from server.services.accounts import sessions
from server.text_safety import FORBIDDEN_IN_LINE, FORBIDDEN_IN_TEXT

Model = TypeVar("Model", bound=BaseModel)


INT32 = (-(2**31), 2**31 - 1)
MAX_JSON_DEPTH = 32
# Text declared this short is one line: a name, a number, a code. Longer text (remarks, reasons) may break lines.
_ONE_LINE_MAX_LENGTH = 200


class RequestModel(BaseModel):
    """Request bodies reject unknown fields and trim strings; short text is one line."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _short_text_is_one_line(cls, value, info: ValidationInfo):
        if isinstance(value, str) and FORBIDDEN_IN_LINE.search(value):
            limits = [getattr(rule, "max_length", None) for rule in cls.model_fields[info.field_name].metadata]
            if any(limit is not None and limit <= _ONE_LINE_MAX_LENGTH for limit in limits):
                raise ValueError("不能包含换行、制表符或控制字符")
        return value


_MESSAGES = {
    "missing": "必须填写",
    "extra_forbidden": "不认识的字段",
    "string_type": "应为文本",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "decimal_type": "应为数字",
    "decimal_parsing": "应为数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "string_too_short": "内容过短",
    "string_too_long": "内容过长",
    "string_pattern_mismatch": "格式不正确",
    "too_short": "条目过少",
    "too_long": "条目过多",
    "greater_than": "数值过小",
    "greater_than_equal": "数值过小",
    "less_than": "数值过大",
    "less_than_equal": "数值过大",
    "decimal_max_places": "小数位数过多",
    "value_error": "取值无效",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
}


def field_path(loc: tuple) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path


def invalid_from(exc: ValidationError, prefix: str = "") -> Invalid:
    first = exc.errors()[0]
    loc = tuple(part for part in first["loc"] if not (isinstance(part, str) and part.startswith("function-")))
    field = field_path(((prefix,) if prefix else ()) + loc) or None
    message = _MESSAGES.get(first["type"])
    if first["type"] == "value_error":
        message = str(first.get("ctx", {}).get("error") or message)
    elif first["type"] == "literal_error" and "expected" in first.get("ctx", {}):
        message = f"取值应为 {first['ctx']['expected']}"
    return Invalid(field, f"{field or '请求'}：{message or '取值无效'}")


def json_body(request: Request) -> object:
    """The body as JSON, at most MAX_JSON_DEPTH deep, every string (and key) free of forbidden characters."""
    if not request.body:
        raise Malformed("请求体应为 JSON")
    try:
        data = jsonlib.loads(request.body)
    except RecursionError:
        raise Malformed(f"JSON 嵌套超过 {MAX_JSON_DEPTH} 层") from None
    except (ValueError, UnicodeDecodeError):
        raise Malformed("请求体不是合法的 JSON") from None
    _check_json(data)
    return data


def _check_json(data: object) -> None:
    pending = [(data, (), 1)]
    while pending:
        value, loc, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise Malformed(f"JSON 嵌套超过 {MAX_JSON_DEPTH} 层")
        if isinstance(value, str):
            check_text(field_path(loc) or None, value, FORBIDDEN_IN_TEXT)
        elif isinstance(value, dict):
            for key, item in value.items():
                check_text(field_path(loc + (key,)), key, FORBIDDEN_IN_LINE)
                pending.append((item, loc + (key,), depth + 1))
        elif isinstance(value, list):
            pending.extend((item, loc + (index,), depth + 1) for index, item in enumerate(value))


def check_text(field: str | None, value: str, forbidden=FORBIDDEN_IN_LINE) -> None:
    if forbidden.search(value):
        raise Invalid(field, f"{field or '请求'}：含有不允许的字符（控制字符或不成对的代理字符）", code="invalid_characters")


# route handler -> the query parameters it declares as integers (read from OpenAPI once per handler)
_declared_integers: dict = {}


def protect_response(response) -> None:
    """Headers every answer carries: no content sniffing; no page of ours inside another site's frame (a signing
    page under a stranger's overlay is the attack). A route may have set its own already."""
    headers = response.headers
    if "x-content-type-options" not in headers:
        headers["X-Content-Type-Options"] = "nosniff"
    if (response.content_type or "").startswith("text/html") and "x-frame-options" not in headers:
        headers["X-Frame-Options"] = "DENY"


_HEADER_BREAKS = str.maketrans("", "", "\r\n\x00")


def _without_header_breaks(value: str) -> str:
    """What Sanic's own sanitizer answers (CR, LF and NUL removed, so no value can start another header), for a
    fraction of its cost: its `str.translate` with a deletion table looks every character up in a dict and sets and
    clears a KeyError for each one not in it. On a cached landing page, with its seven headers, that was a quarter of
    the instructions per request (callgrind); a value without those characters is returned as it is."""
    if "\r" in value or "\n" in value or "\x00" in value:
        return value.translate(_HEADER_BREAKS)
    return value


def install_header_sanitizer() -> None:
    """Every response's header names and values go through `_without_header_breaks` (a process-wide setting of
    Sanic's response class; installing it again changes nothing)."""
    BaseHTTPResponse._sanitize_header_value = staticmethod(_without_header_breaks)


def check_input(request: Request) -> None:
    """The input gate, before every handler: query, path and form values are checked here, bodies in `json_body`."""
    if request.route is None:
        return
    for value in request.match_info.values():
        if isinstance(value, int) and not INT32[0] <= value <= INT32[1]:
            raise NotFound()
        if isinstance(value, str) and FORBIDDEN_IN_LINE.search(value):
            raise NotFound()
    if request.query_string:
        handler = request.route.handler
        declared = _declared_integers.get(handler)
        if declared is None:
            declared = _declared_integers[handler] = _declared_query_integers(handler)
        for name, values in request.args.items():
            for value in values:
                check_text(name, value)
                if name in declared:
                    int_arg(request, name, 0)
    if request.content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        for name, values in _parsed_form(request).items():
            check_text(name, name)
            for value in values:
                check_text(name, value, FORBIDDEN_IN_TEXT)


def tidy_request_schemas() -> None:
    """sanic-ext documents a pydantic body from its class attributes, so every request body showed `model_config`
    as a property. Our request models forbid unknown fields: say that instead (additionalProperties: false)."""
    pending = [operation.requestBody for operation in OperationStore().values()
               if getattr(operation, "requestBody", None) is not None]
    while pending:
        value = pending.pop()
        if isinstance(value, Definition):
            properties = value.fields.get("properties")
            if isinstance(properties, dict) and properties.pop("model_config", None) is not None:
                value.fields["additionalProperties"] = False
            pending.extend(value.fields.values())
        elif isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, (list, tuple)):
            pending.extend(value)


def _parsed_form(request: Request) -> RequestParameters:
    """The form, parsed once here: a malformed one is a 400 (Sanic's own parser would log a traceback and go on)."""
    content_type, parameters = parse_content_header(request.content_type)
    try:
        if content_type == "multipart/form-data":
            request.parsed_form, request.parsed_files = parse_multipart_form(
                request.body, parameters["boundary"].encode("utf-8"))
        else:
            request.parsed_form = RequestParameters(parse_qs(request.body.decode("utf-8")))
            request.parsed_files = RequestParameters()
    except (KeyError, ValueError, UnicodeDecodeError, IndexError):
        raise Malformed("表单格式有误") from None
    return request.parsed_form


def _declared_query_integers(handler) -> frozenset[str]:
    """The query parameters this route declares as integers in OpenAPI (int32)."""
    operation = OperationStore().get(handler)
    if operation is None:
        return frozenset()
    return frozenset(parameter.fields["name"] for parameter in operation.parameters
                     if parameter.fields.get("in") == "query"
                     and getattr(parameter.fields.get("schema"), "serialize", dict)().get("type") == "integer")


def int_arg(request: Request, name: str, default: int, low: int = INT32[0], high: int = INT32[1]) -> int:
    """An integer query parameter: absent or empty → default; not an integer or out of [low, high] → 422."""
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid(name, f"{name}：应为整数") from None
    if not low <= value <= high:
        raise Invalid(name, f"{name}：应在 {low} 到 {high} 之间")
    return value


def uploaded_file(request: Request, missing: str, fields: str | None = None) -> File:
    """The file sent in the multipart field `file`, else a 422 on the field `file` with the message `missing`; where
    the route names its form's `fields`, a body that is not multipart/form-data is a 400 naming them instead."""
    if fields and not request.content_type.startswith("multipart/form-data"):
        raise Malformed(f"请以 multipart/form-data 上传，字段 {fields}")
    upload = request.files.get("file") if request.files else None
    if upload is None:
        raise Invalid("file", missing)
    return upload


def parse(request: Request, model: type[Model]) -> Model:
    data = json_body(request)
    if not isinstance(data, dict):
        raise Malformed("请求体应为 JSON 对象")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_from(exc) from None


def configure_proxies(app: Sanic, settings: Settings) -> None:
    """Sanic reads the client's address from X-Forwarded-For only when trusted proxies are configured."""
    app.config.PROXIES_COUNT = settings.server.proxies_count if settings.server.trusted_proxies else 0
    app.ctx.trusted_proxies = tuple(ipaddress.ip_network(entry, strict=False)
                                    for entry in settings.server.trusted_proxies)


def _from_trusted_proxy(request: Request, peer: str) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in request.app.ctx.trusted_proxies)


def client_ip(request: Request) -> str:
    """The client's address (evidence, rate limits, audit): the forwarded one only when the connection itself
    comes from a configured trusted proxy; a header from anyone else is ignored."""
    peer = request.ip
    # The forwarded headers are parsed only for a connection from a trusted proxy: with none configured, never
    # (a public page such as the landing page asks on every request).
    if request.app.ctx.trusted_proxies and _from_trusted_proxy(request, peer):
        forwarded = request.remote_addr
        if forwarded:
            return forwarded
    return peer or "unknown"


def user_agent(request: Request) -> str:
    """The client's User-Agent as the signing evidence keeps it (at most 512 characters)."""
    return request.headers.get("user-agent", "")[:512]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer " and header[7:].strip():
        return header[7:].strip()
    return None


async def current_applicant(request: Request) -> sessions.Principal:
    token = bearer_token(request)
    if not token:
        raise Unauthorized()
    return await sessions.authenticate(request.app.ctx.cache, token, "applicant")


CSRF_HEADER = "X-CSRF-Token"
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def csrf_token_for(request: Request, session_token: str) -> str:
    """The console session's CSRF token: its forms carry it as a field, its scripts as the X-CSRF-Token header."""
    secret = request.app.ctx.settings.secret_key.encode()
    return hmac.new(secret, b"console-csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


async def current_staff(request: Request) -> Staff:
    """Staff authenticate by bearer token (API) or the console's session cookie. A browser sends the cookie to us
    from any site's form, so a JSON call that changes something on the cookie alone must carry the session's CSRF
    token in a header (console pages' own forms are checked by their handlers); downloads by link stay plain GETs."""
    token = bearer_token(request)
    if not token:
        token = request.cookies.get("yct_staff")
        if not token:
            raise Unauthorized()
        if request.method in _UNSAFE_METHODS and request.path.startswith("/api/"):
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), csrf_token_for(request, token).encode()):
                raise Forbidden("缺少或错误的 CSRF 令牌：用 Cookie 登录调用接口须带 X-CSRF-Token 请求头")
    principal = await sessions.authenticate(request.app.ctx.cache, token, "staff")
    staff = sessions.remembered_staff(token)
    if staff is None:
        staff = await Staff.get_or_none(id=principal.id, active=True).select_related("authority")
        if staff is None:
            raise Unauthorized()
        sessions.remember_staff(token, staff)
    return staff


async def applicant_record(request: Request) -> Applicant:
    principal = await current_applicant(request)
    applicant = await Applicant.get_or_none(id=principal.id)
    if applicant is None:
        raise Unauthorized()
    return applicant


PRIVATE_FILE = {"Cache-Control": "private, no-store"}
# Below this a stored file is read whole and sent in one go; above it, streamed in chunks from the storage.
_WHOLE_BYTES = 1024 * 1024


async def stored_file(request: Request, area: str, key: str | None, content_type: str, headers: dict | None = None,
                      download_name: str | None = None, not_found: str = "文件不存在"):
    """A file from server/storage.py with HTTP range support (phones seek in videos, resume downloads); the response
    never says where or how the file is stored."""
    settings = request.app.ctx.settings
    total = await storage.size(settings, area, key) if key else None
    if total is None:
        raise NotFound(not_found)
    headers = {"Accept-Ranges": "bytes", **(headers or {})}
    if download_name:
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(download_name)}"
    start, end, status = 0, total - 1, 200
    if "range" in request.headers:
        byte_range = ContentRangeHandler(request, SimpleNamespace(st_size=total))
        if byte_range.start >= total:
            raise RangeNotSatisfiable("range starts past the end", byte_range)
        start, end, status = byte_range.start, min(byte_range.end, total - 1), 206
        headers["Content-Range"] = f"bytes {start}-{end}/{total}"
    if total == 0:
        return raw(b"", status=200, headers=headers, content_type=content_type)
    if status == 200 and total <= _WHOLE_BYTES:
        data = await storage.get(settings, area, key)
        if data is None:
            raise NotFound(not_found)
        return raw(data, headers=headers, content_type=content_type)
    headers["Content-Length"] = str(end - start + 1)
    response = await request.respond(status=status, headers=headers, content_type=content_type)
    async for chunk in storage.chunks(settings, area, key, start, end):
        await response.send(chunk)
    await response.eof()
    return response

"""What every blueprint shares: body parsing into pydantic models with field-named 4xx, and who is calling."""
from __future__ import annotations

import ipaddress
import json as jsonlib
from types import SimpleNamespace
from typing import TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, ValidationError
from sanic import Request, Sanic
from sanic.exceptions import RangeNotSatisfiable
from sanic.handlers import ContentRangeHandler
from sanic.response import raw

from server import storage
from server.config import Settings
from server.errors import Invalid, Malformed, NotFound, Unauthorized
from server.models.accounts import Applicant, Staff
from server.services.accounts import sessions

Model = TypeVar("Model", bound=BaseModel)


class RequestModel(BaseModel):
    """Request bodies reject unknown fields and trim strings."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


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
    if not request.body:
        raise Malformed("请求体应为 JSON")
    try:
        return jsonlib.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise Malformed("请求体不是合法的 JSON") from None


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
    forwarded = request.remote_addr
    if forwarded and _from_trusted_proxy(request, peer):
        return forwarded
    return peer or "unknown"


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


async def current_staff(request: Request) -> Staff:
    """Staff authenticate by bearer token (API) or the console's session cookie."""
    token = bearer_token(request) or request.cookies.get("yct_staff")
    if not token:
        raise Unauthorized()
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
    headers = {"Accept-Ranges": "bytes", "X-Content-Type-Options": "nosniff", **(headers or {})}
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

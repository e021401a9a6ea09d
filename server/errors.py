"""The few domain errors, and the one place that turns any error into the JSON error shape."""
from __future__ import annotations

from sanic import Sanic, json
from sanic.exceptions import SanicException
from sanic.log import logger
from tortoise.exceptions import ValidationError


class DomainError(Exception):
    status = 400
    code = "bad_request"
    message = "请求有误"

    def __init__(self, message: str | None = None, field: str | None = None, **extra):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.field = field
        self.extra = extra

    def body(self) -> dict:
        error = {"code": self.code, "message": self.message, "field": self.field}
        error.update(self.extra)
        return {"error": error}


class Malformed(DomainError):
    status, code, message = 400, "malformed", "请求格式有误"


class Unauthorized(DomainError):
    status, code, message = 401, "unauthorized", "请先登录"


class Forbidden(DomainError):
    status, code, message = 403, "forbidden", "无权执行此操作"


class NotFound(DomainError):
    status, code, message = 404, "not_found", "未找到"


class Conflict(DomainError):
    status, code, message = 409, "conflict", "当前状态不允许此操作"


class Gone(DomainError):
    status, code, message = 410, "gone", "链接已失效"


class TooLarge(DomainError):
    status, code, message = 413, "too_large", "内容过大"


class Invalid(DomainError):
    status, code, message = 422, "invalid", "填写有误"

    def __init__(self, field: str | None, message: str, code: str | None = None, **extra):
        super().__init__(message, field, **extra)
        if code:
            self.code = code


class RateLimited(DomainError):
    status, code, message = 429, "rate_limited", "操作过于频繁，请稍后再试"

    def __init__(self, retry_after: int, message: str | None = None, field: str | None = None):
        super().__init__(message, field, retry_after=int(retry_after))
        self.retry_after = int(retry_after)


class Unavailable(DomainError):
    status, code, message = 503, "unavailable", "依赖的服务暂不可用，请稍后再试"


_SANIC_MESSAGES = {
    400: ("malformed", "请求格式有误"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "无权执行此操作"),
    404: ("not_found", "未找到该地址"),
    405: ("method_not_allowed", "不支持该请求方法"),
    408: ("timeout", "请求超时"),
    413: ("too_large", "请求内容过大"),
    416: ("range_not_satisfiable", "请求的范围无效"),
    503: ("unavailable", "服务暂不可用"),
}


def error_response(status: int, code: str, message: str, field: str | None = None, **extra):
    error = {"code": code, "message": message, "field": field}
    error.update(extra)
    headers = {"Retry-After": str(extra["retry_after"])} if "retry_after" in extra else None
    return json({"error": error}, status=status, headers=headers, ensure_ascii=False)


def install_error_handlers(app: Sanic) -> None:
    @app.exception(DomainError)
    async def _domain(request, exc: DomainError):
        return error_response(exc.status, exc.code, exc.message, exc.field, **exc.extra)

    @app.exception(SanicException)
    async def _sanic(request, exc: SanicException):
        status = getattr(exc, "status_code", 500) or 500
        if status >= 500:
            logger.exception("unhandled server error on %s %s", request.method, request.path)
            return error_response(500, "internal", "服务器内部错误，请稍后再试")
        code, message = _SANIC_MESSAGES.get(status, ("error", "请求有误"))
        return error_response(status, code, message)

    @app.exception(ValidationError)
    async def _unstorable(request, exc: ValidationError):
        # A value no column can hold (a path segment longer than any code) names nothing stored.
        if any(isinstance(value, str) and value in str(exc) for value in request.match_info.values()):
            return error_response(404, "not_found", "未找到")
        field = str(exc).partition(":")[0] if ":" in str(exc) else None
        return error_response(422, "invalid", f"{field or '请求'}：取值无效", field)

    @app.exception(Exception)
    async def _unexpected(request, exc: Exception):
        logger.exception("unhandled server error on %s %s", request.method, request.path)
        return error_response(500, "internal", "服务器内部错误，请稍后再试")

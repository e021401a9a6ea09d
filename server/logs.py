"""JSON logs, one object a line, each carrying the id of the request it belongs to.

The id comes from the caller's X-Request-ID (a reverse proxy's, so one id follows a request through nginx and us)
when it is a plain token, else a fresh one; it is answered in X-Request-ID and set on every log line written while
the request is handled. Log messages never carry personal data: phones are masked where they are logged, tokens and
codes are never logged.
"""
from __future__ import annotations

import contextvars
import itertools
import logging
import os
import re
import sys

from pythonjsonlogger.json import JsonFormatter
from sanic import Request

REQUEST_ID_HEADER = "X-Request-ID"
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
# Anything else (spaces, quotes, newlines, very long values) could forge or break log lines: replaced.
_PLAIN_TOKEN = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
# A fresh id (32 hex digits) is this process's random prefix and a counter: no call into the OS per request.
_PROCESS_PREFIX = os.urandom(12).hex()
_sequence = itertools.count(1)
_LOGGERS = ("yct", "sanic.root", "sanic.error", "sanic.access", "sanic.server", "tortoise")


class _WithRequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


def handler(stream=None) -> logging.Handler:
    stream = logging.StreamHandler(stream or sys.stderr)
    stream.setFormatter(JsonFormatter("{asctime}{levelname}{name}{message}{request_id}", style="{",
                                      rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}))
    stream.addFilter(_WithRequestId())
    return stream


def configure(level: int = logging.INFO) -> None:
    """Every logger of ours and Sanic's writes JSON lines to standard error (journald keeps them under systemd)."""
    json_lines = handler()
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers[:] = [json_lines]
        logger.propagate = False
        if name in ("yct", "sanic.root", "sanic.error"):
            logger.setLevel(level)
        elif name == "tortoise":
            logger.setLevel(logging.WARNING)  # queries carry personal data: never logged


def new_request_id() -> str:
    return f"{_PROCESS_PREFIX}{next(_sequence) & 0xFFFFFFFF:08x}"


def request_arrived(request: Request) -> None:
    """The caller's id when it is a plain token, else a fresh one, for the response and every log line."""
    given = request.headers.get(REQUEST_ID_HEADER)
    request.ctx.request_id = given if given and _PLAIN_TOKEN.match(given) else new_request_id()
    _request_id.set(request.ctx.request_id)


def request_answered(request: Request, response) -> None:
    request_id = getattr(request.ctx, "request_id", None)
    if request_id is not None:
        response.headers[REQUEST_ID_HEADER] = request_id

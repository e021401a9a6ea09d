"""The one JSON encoder of HTTP responses: orjson (Rust), several times faster than the standard library.

Sanic passes the keyword arguments of `json(...)` through; orjson always writes UTF-8, which is what
`ensure_ascii=False` asked of the standard library, and escaping is never needed for valid JSON.
"""
from __future__ import annotations

import orjson

from server.text_safety import repaired_value

_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(value, *, ensure_ascii: bool = True, default=None, **_ignored) -> str:
    try:
        return orjson.dumps(value, default=default, option=_OPTIONS).decode()
    except orjson.JSONEncodeError:
        # Text that reached storage before the input gate may hold unpaired surrogates, which UTF-8 cannot carry.
        return orjson.dumps(repaired_value(value), default=default, option=_OPTIONS).decode()

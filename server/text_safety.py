"""Which characters text may hold, in one place: the input gate refuses the rest, output repairs what is stored.

Unpaired surrogates cannot be encoded as UTF-8 (every page, JSON answer and hash would fail on them) and NUL and the
other C0 control characters have no business in a name, a number or a remark. Newline and tab are kept for long text.
"""
from __future__ import annotations

import re

from markupsafe import Markup

_SURROGATE = "\ud800-\udfff"
_CONTROL_EXCEPT_LINES = "\x00-\x08\x0b\x0c\x0e-\x1f"
FORBIDDEN_IN_TEXT = re.compile(f"[{_CONTROL_EXCEPT_LINES}{_SURROGATE}]")
FORBIDDEN_IN_LINE = re.compile(f"[\x00-\x1f{_SURROGATE}]")
_SURROGATES = re.compile(f"[{_SURROGATE}]")


def repaired(value: str) -> str:
    """Stored text made safe to show: surrogates become U+FFFD, control characters other than newline/tab go."""
    if not FORBIDDEN_IN_TEXT.search(value):
        return value
    return FORBIDDEN_IN_TEXT.sub(lambda match: "\ufffd" if _SURROGATES.match(match.group()) else "", value)


def repaired_value(value):
    """`repaired` through JSON-like values (dict keys too)."""
    if isinstance(value, str):
        return repaired(value)
    if isinstance(value, dict):
        return {repaired_value(key): repaired_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [repaired_value(item) for item in value]
    return value


def shown_safely(value):
    """The templates' finalize: every value a page prints, repaired, so no stored string can break a page."""
    if isinstance(value, Markup):
        return Markup(repaired(str(value)))
    return repaired(value) if isinstance(value, str) else value

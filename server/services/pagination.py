"""Keyset pagination for every list: an opaque cursor names the last row shown, the next page starts after it.

No list reads past the rows it skips (no OFFSET), so page 200 costs what page 1 costs. Totals are exact up to
`EXACT_TOTAL_UP_TO` rows; above that PostgreSQL's planner estimate is given and the answer says so
(`total_exact: false`), because counting thousands of rows on every page view would cost more than the page.
An estimate is reused by this worker for `ESTIMATE_SECONDS`, so a busy list asks for none on most page views.
"""
from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable

import orjson
from tortoise import connections
from tortoise.queryset import QuerySet

from server.errors import Invalid

EXACT_TOTAL_UP_TO = 1000
ESTIMATE_SECONDS = 10
_ESTIMATES_MAX = 10_000
# (SQL, parameters) of a list -> (estimated total, reusable until on the monotonic clock)
_estimates: dict[tuple, tuple[int, float]] = {}


def encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def decode_cursor(text: str | None, length: int) -> list | None:
    if not text:
        return None
    try:
        values = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError):
        values = None
    if not isinstance(values, list) or len(values) != length:
        raise Invalid("cursor", "翻页标记无效，请从第一页重新浏览")
    return values


def _parameterized(query: QuerySet) -> tuple[str, list]:
    query._choose_db_if_not_chosen()
    query._make_query()
    sql, params = query.query.get_parameterized_sql()
    return sql, list(params)


def _remembered(key: tuple) -> int | None:
    """A list's estimated total while it is still fresh (ESTIMATE_SECONDS)."""
    estimate = _estimates.get(key)
    return estimate[0] if estimate is not None and estimate[1] > time.monotonic() else None


async def total_of(query: QuerySet | Callable[[], QuerySet], key: tuple | None = None) -> tuple[int, bool]:
    """(total, exact): counted up to EXACT_TOTAL_UP_TO rows, the planner's estimate beyond (SQLite: counted).

    With a `key` naming the list and its filters, `query` may be a function that builds it: a reused estimate
    then costs no query building at all."""
    if key is not None and (remembered := _remembered(key)) is not None:
        return remembered, False
    if callable(query):
        query = query()
    uncapped_sql, uncapped_params = _parameterized(query.values_list("id", flat=True))
    if key is None:
        key = (uncapped_sql, *map(str, uncapped_params))
        if (remembered := _remembered(key)) is not None:
            return remembered, False
    sql, params = _parameterized(query.limit(EXACT_TOTAL_UP_TO + 1).values_list("id", flat=True))
    connection = connections.get("default")
    rows = await connection.execute_query_dict(f"SELECT count(*) AS n FROM ({sql}) AS capped", params)
    counted = int(rows[0]["n"])
    if counted <= EXACT_TOTAL_UP_TO or connection.capabilities.dialect != "postgres":
        return (counted if counted <= EXACT_TOTAL_UP_TO else await query.count()), True
    _, plan = await connection.execute_query(f"EXPLAIN (FORMAT JSON) {uncapped_sql}", uncapped_params)
    plan_json = plan[0][0]
    if isinstance(plan_json, str):
        plan_json = orjson.loads(plan_json)
    total = max(int(plan_json[0]["Plan"]["Plan Rows"]), counted)
    if len(_estimates) >= _ESTIMATES_MAX:
        _estimates.clear()
    _estimates[key] = (total, time.monotonic() + ESTIMATE_SECONDS)
    return total, False

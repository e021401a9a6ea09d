"""The SQL aggregates behind every figure, over the rollups (server/services/statistics/rollups.py) and the
service-point tables: a few rows per authority and business type; percentiles are taken in the database.
"""
from __future__ import annotations

import asyncio
import re
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta, timezone

from tortoise import connections
from tortoise.transactions import in_transaction

from server.services.statistics.definitions import ZONE
from server.services.statistics.periods import Period

_PARAM = re.compile(r"(?<!:):([a-z_]+)")
# The `since` of an application's first event of a kind: before every period.
NEVER = date(1970, 1, 1)
# Enough for the sort of a year of durations of a city (about a million values) to stay in memory.
PERCENTILE_WORK_MEM = "128MB"
COUNTERS = ("submitted", "cloud_submitted", "returned", "first_pass", "signing_rounds", "signatures_saved")


def postgres(conn) -> bool:
    return conn.capabilities.dialect == "postgres"


def _prepared(conn, sql: str, params: dict) -> tuple[str, list]:
    """`sql` with :name parameters as the database wants them (PostgreSQL $n, SQLite ?)."""
    is_postgres = postgres(conn)
    order: list[str] = []

    def mark(match: re.Match) -> str:
        name = match.group(1)
        if is_postgres:
            if name not in order:
                order.append(name)
            return f"${order.index(name) + 1}"
        order.append(name)
        return "?"

    text = _PARAM.sub(mark, sql)
    return text, [params[name] for name in order]


async def fetch(sql: str, params: dict) -> list[dict]:
    """Run `sql` with :name parameters on either database."""
    conn = connections.get("default")
    return await conn.execute_query_dict(*_prepared(conn, sql, params))


async def execute(conn, sql: str, params: dict) -> None:
    """Run a write with :name parameters on the given connection (a transaction's)."""
    await conn.execute_query(*_prepared(conn, sql, params))


@asynccontextmanager
async def _reading(work_mem: str | None = None):
    """A connection for the rollup reads. On PostgreSQL a transaction that plans each statement for its own values
    (the driver prepares a statement once, and after five runs PostgreSQL may switch to a generic plan that scans
    every rollup row) and skips JIT compiling, which costs more than these queries; `work_mem` for big sorts."""
    conn = connections.get("default")
    if not postgres(conn):
        yield conn
        return
    async with in_transaction() as tx:
        await tx.execute_query("SET LOCAL jit = off")
        await tx.execute_query("SET LOCAL plan_cache_mode = force_custom_plan")
        if work_mem:
            await tx.execute_query(f"SET LOCAL work_mem = '{work_mem}'")
        yield tx


def in_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def date_literal(conn, day: date) -> str:
    return f"DATE '{day.isoformat()}'" if postgres(conn) else f"'{day.isoformat()}'"


def local_day(conn, expression: str) -> str:
    """The Beijing-time day of a stored instant. SQLite has no time zones: the zone's fixed offset (China has kept
    +08:00 since 1991) is added to the UTC text it stores."""
    if postgres(conn):
        return f"CAST(timezone('{ZONE.key}', {expression}) AS date)"
    minutes = int(ZONE.utcoffset(datetime(2000, 1, 1)).total_seconds() // 60)
    return f"date({expression}, '{minutes:+d} minutes')"


def _filters(business_type: str | None, entity_type: str | None) -> str:
    clauses = ["r.authority_id LIKE :scope"]
    if business_type:
        clauses.append("r.business_type = :business_type")
    if entity_type:
        clauses.append("r.entity_type = :entity_type")
    return " AND ".join(clauses)


def _params(scope: str, business_type: str | None, entity_type: str | None) -> dict:
    params = {"scope": scope + "%"}
    if business_type:
        params["business_type"] = business_type
    if entity_type:
        params["entity_type"] = entity_type
    return params


def _segments(first: date, last: date) -> tuple[list[tuple[date, date]], Period | None]:
    """The period's partial months at either end (read by day) and its whole months (read by month), if any."""
    whole = Period(first, last, ZONE).whole_months()
    if whole is None:
        return [(first, last)], None
    days = [(first, whole.first - timedelta(days=1))] if first < whole.first else []
    if whole.last < last:
        days.append((whole.last + timedelta(days=1), last))
    return days, whole


async def application_counts(scope: str, periods: list[tuple[date, date]], business_type: str | None = None,
                             entity_type: str | None = None) -> list[dict]:
    """[{period (index into `periods`), authority, business_type, submitted, cloud_submitted, returned, first_pass,
    signing_rounds, signatures_saved}] for each period (first and last local day, inclusive), in one query over the
    rollups: a row counts in a period when its day (month) is in it and its `since` is before the period's first day.
    Whole months are read from stats_month, the partial months at either end from stats_day."""
    conn = connections.get("default")
    days, months = [], []
    for index, (first, last) in enumerate(periods):
        partial, whole = _segments(first, last)
        days.extend((index, low, high, first) for low, high in partial)
        if whole:
            months.append((index, whole.first, whole.last, first))

    def read(table: str, key: str, segments: list) -> str:
        # A VALUES list: SQLite caps a UNION at 500 terms, and a daily series over a year has more buckets.
        values = ", ".join(f"({index}, {date_literal(conn, low)}, {date_literal(conn, high)}, "
                           f"{date_literal(conn, start)})" for index, low, high, start in segments)
        buckets = (f"SELECT v.column1 AS period, v.column2 AS low, v.column3 AS high, v.column4 AS start "
                   f"FROM (VALUES {values}) v")
        return (f"SELECT b.period AS period, r.authority_id, r.business_type, "
                f"{', '.join(f'r.{name}' for name in COUNTERS)} FROM {table} r JOIN ({buckets}) b "
                f"ON r.{key} >= b.low AND r.{key} <= b.high AND r.since < b.start "
                f"WHERE {_filters(business_type, entity_type)}")

    parts = [read(table, key, segments) for table, key, segments in (("stats_day", "day", days),
                                                                     ("stats_month", "month", months)) if segments]
    sums = ", ".join(f"SUM(x.{name}) AS {name}" for name in COUNTERS)
    async with _reading() as reader:
        rows = await reader.execute_query_dict(*_prepared(reader, (
            f"SELECT x.period AS period, x.authority_id AS authority, x.business_type AS business_type, {sums} "
            f"FROM ({' UNION ALL '.join(parts)}) x GROUP BY x.period, x.authority_id, x.business_type"),
            _params(scope, business_type, entity_type)))
    return [{**row, **{name: int(row[name] or 0) for name in COUNTERS}} for row in rows]


async def duration_figures(kinds: tuple[str, ...], scope: str, first: date, last: date,
                           business_type: str | None = None, entity_type: str | None = None) -> dict[str, dict]:
    """{kind: {count, mean, median, p90}} of the working hours of the durations ended in the days first..last.

    PostgreSQL takes the percentiles with percentile_cont (the sort in memory); SQLite, which has no percentile
    function, reads the two values either side of each rank in order and interpolates them the same way (linear
    between the closest ranks)."""
    conn = connections.get("default")
    where = (f"r.day >= {date_literal(conn, first)} AND r.day <= {date_literal(conn, last)} "
             f"AND {_filters(business_type, entity_type)} AND r.hours IS NOT NULL")
    params = _params(scope, business_type, entity_type)
    empty = {"count": 0, "mean": None, "median": None, "p90": None}
    if postgres(conn):
        async def of_kind(kind: str) -> dict:
            # Each kind reads its own range of the (kind, day, …, hours) index on a connection of its own, so the
            # kinds' sorts run side by side on the database's cores.
            async with _reading(PERCENTILE_WORK_MEM) as tx:
                row = (await tx.execute_query_dict(*_prepared(tx, (
                    "SELECT COUNT(*) AS count, AVG(r.hours) AS mean, "
                    "percentile_cont(0.5) WITHIN GROUP (ORDER BY r.hours) AS median, "
                    "percentile_cont(0.9) WITHIN GROUP (ORDER BY r.hours) AS p90 FROM stats_duration r "
                    f"WHERE r.kind = '{kind}' AND {where}"), params)))[0]
            return {**row, "count": int(row["count"])}

        return dict(zip(kinds, await asyncio.gather(*(of_kind(kind) for kind in kinds))))
    out = {}
    for kind in kinds:
        of_kind = f"r.kind = '{kind}' AND {where}"
        row = (await fetch(f"SELECT COUNT(*) AS count, AVG(r.hours) AS mean FROM stats_duration r WHERE {of_kind}",
                           params))[0]
        count = int(row["count"])
        out[kind] = {**empty, "count": count, "mean": row["mean"]}
        for key, q in (("median", 0.5), ("p90", 0.9)):
            if not count:
                break
            position = (count - 1) * q
            low = int(position)
            values = [value["hours"] for value in await fetch(
                f"SELECT r.hours AS hours FROM stats_duration r WHERE {of_kind} ORDER BY r.hours "
                f"LIMIT 2 OFFSET {low}", params)]
            high = values[1] if len(values) > 1 else values[0]
            out[kind][key] = values[0] + (high - values[0]) * (position - low)
    return out


async def offline_filings(scope: str, first_month: date, last_month: date) -> list[dict]:
    """[{authority, filings}] imported for the months first_month..last_month (first days of months)."""
    rows = await fetch(
        "SELECT authority_id AS authority, SUM(filings) AS filings FROM offline_filing "
        "WHERE authority_id LIKE :scope AND month >= :first AND month <= :last GROUP BY authority_id",
        {"scope": scope + "%", "first": first_month, "last": last_month})
    return [{"authority": row["authority"], "filings": int(row["filings"] or 0)} for row in rows]


async def point_scans(scope: str, first: date, last: date) -> list[dict]:
    """[{point_id, code, name, authority, scans, unique_visitors}] of active points with scans in the days."""
    rows = await fetch(
        "SELECT p.id AS point_id, p.name AS name, p.authority_id AS authority, "
        "COALESCE(SUM(d.scans), 0) AS scans, COALESCE(SUM(d.unique_visitors), 0) AS unique_visitors "
        "FROM service_point p LEFT JOIN point_scan_day d ON d.point_id = p.id AND d.day >= :first AND d.day <= :last "
        "WHERE p.authority_id LIKE :scope GROUP BY p.id, p.name, p.authority_id ORDER BY p.id",
        {"scope": scope + "%", "first": first, "last": last})
    return [{**row, "scans": int(row["scans"]), "unique_visitors": int(row["unique_visitors"])} for row in rows]


async def point_appointments(scope: str, start: datetime, end: datetime, moment: datetime) -> list[dict]:
    """[{point_id, booked, served, no_show}] of the scope's points, by slot start in the period, cancelled ones left
    out; a booked appointment whose slot ended by `moment` is a no-show even before the sweep marks it."""
    rows = await fetch(
        "SELECT a.point_id AS point_id, COUNT(*) AS booked, "
        "SUM(CASE WHEN a.status = 'served' THEN 1 ELSE 0 END) AS served, "
        "SUM(CASE WHEN a.status = 'no_show' OR (a.status = 'booked' AND a.ends_at <= :moment) THEN 1 ELSE 0 END) "
        "AS no_show "
        "FROM appointment a JOIN service_point p ON p.id = a.point_id "
        "WHERE p.authority_id LIKE :scope AND a.starts_at >= :start AND a.starts_at < :end AND a.status <> 'cancelled' "
        "GROUP BY a.point_id",
        {"scope": scope + "%", "start": start.astimezone(timezone.utc), "end": end.astimezone(timezone.utc),
         "moment": moment.astimezone(timezone.utc)})
    return [{key: int(value or 0) for key, value in row.items()} for row in rows]


async def ratings(scope: str, start: datetime, end: datetime) -> list[dict]:
    """[{point_id (None for filings), count, score_sum, bad}] of ratings given in the period within the scope."""
    rows = await fetch(
        "SELECT r.point_id AS point_id, COUNT(*) AS count, SUM(r.score) AS score_sum, "
        "SUM(CASE WHEN r.score <= 2 THEN 1 ELSE 0 END) AS bad "
        "FROM rating r WHERE r.authority_id LIKE :scope AND r.created_at >= :start AND r.created_at < :end "
        "GROUP BY r.point_id",
        {"scope": scope + "%", "start": start.astimezone(timezone.utc), "end": end.astimezone(timezone.utc)})
    return [{"point_id": row["point_id"], "count": int(row["count"]), "score_sum": int(row["score_sum"] or 0),
             "bad": int(row["bad"] or 0)} for row in rows]

"""The SQL aggregates behind every figure, over the rollups (server/services/statistics/rollups.py) and the
service-point tables: a few rows per authority and business type; percentiles from counts per minute of duration.
"""
from __future__ import annotations

import math
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
# The durations' percentiles shown, in per cent (an integer: the ranks either side are found by integer arithmetic).
PERCENTILES = (("median", 50), ("p90", 90))
COUNTERS = ("submitted", "cloud_submitted", "returned", "first_pass", "signing_rounds", "signatures_saved")


def postgres(conn) -> bool:
    return conn.capabilities.dialect == "postgres"


def prepared(conn, sql: str, params: dict) -> tuple[str, list]:
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
    return await conn.execute_query_dict(*prepared(conn, sql, params))


async def execute(conn, sql: str, params: dict) -> None:
    """Run a write with :name parameters on the given connection (a transaction's)."""
    await conn.execute_query(*prepared(conn, sql, params))


@asynccontextmanager
async def _reading():
    """A connection for the rollup reads. On PostgreSQL a transaction that plans each statement for its own values
    (the driver prepares a statement once, and after five runs PostgreSQL may switch to a generic plan that scans
    every rollup row) and skips JIT compiling, which costs more than these queries."""
    conn = connections.get("default")
    if not postgres(conn):
        yield conn
        return
    async with in_transaction() as tx:
        await tx.execute_query("SET LOCAL jit = off")
        await tx.execute_query("SET LOCAL plan_cache_mode = force_custom_plan")
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
        rows = await reader.execute_query_dict(*prepared(reader, (
            f"SELECT x.period AS period, x.authority_id AS authority, x.business_type AS business_type, {sums} "
            f"FROM ({' UNION ALL '.join(parts)}) x GROUP BY x.period, x.authority_id, x.business_type"),
            _params(scope, business_type, entity_type)))
    return [{**row, **{name: int(row[name] or 0) for name in COUNTERS}} for row in rows]


async def duration_figures(kinds: tuple[str, ...], scope: str, first: date, last: date,
                           business_type: str | None = None, entity_type: str | None = None) -> dict[str, dict]:
    """{kind: {count, mean, median, p90}} of the working hours of the durations ended in the days first..last.

    Read as counts per whole minute: whole months from stats_duration_month (unless filtered by type, which it does
    not keep), the rest from stats_duration. A running count (a window function) gives, for each percentile p, the
    values at the ranks either side of p·(N−1), interpolated in Python exactly as percentile_cont does (linear
    between the closest ranks): the same figure as percentile_cont over the minutes, on either database."""
    conn = connections.get("default")
    if business_type or entity_type:
        days, months = [(first, last)], None
    else:
        days, months = _segments(first, last)
    of_kinds = f"r.kind IN ({in_list(kinds)})"
    parts = [f"SELECT r.kind AS kind, r.minutes AS minutes, COUNT(*) AS n FROM stats_duration r "
             f"WHERE {of_kinds} AND r.day >= {date_literal(conn, low)} AND r.day <= {date_literal(conn, high)} "
             f"AND {_filters(business_type, entity_type)} GROUP BY r.kind, r.minutes" for low, high in days]
    if months:
        parts.append(f"SELECT r.kind AS kind, r.minutes AS minutes, SUM(r.count) AS n FROM stats_duration_month r "
                     f"WHERE {of_kinds} AND r.month >= {date_literal(conn, months.first)} "
                     f"AND r.month <= {date_literal(conn, months.last)} AND r.authority_id LIKE :scope "
                     "GROUP BY r.kind, r.minutes")
    # The value at rank k (from 0) is the least whose running count exceeds k; floor and ceil of p·(N−1) are
    # N−1 times the per cent, divided by 100 with and without a remainder.
    ranks = ", ".join(
        f"MIN(CASE WHEN w.upto > (w.total - 1) * {pct} / 100 THEN w.minutes END) AS {key}_low, "
        f"MIN(CASE WHEN w.upto > (w.total - 1) * {pct} / 100 + CASE WHEN (w.total - 1) * {pct} % 100 = 0 "
        f"THEN 0 ELSE 1 END THEN w.minutes END) AS {key}_high" for key, pct in PERCENTILES)
    sql = (f"WITH c AS (SELECT x.kind AS kind, x.minutes AS minutes, CAST(SUM(x.n) AS bigint) AS n "
           f"FROM ({' UNION ALL '.join(parts)}) x GROUP BY x.kind, x.minutes), "
           "w AS (SELECT c.kind AS kind, c.minutes AS minutes, c.n AS n, "
           "CAST(SUM(c.n) OVER (PARTITION BY c.kind ORDER BY c.minutes) AS bigint) AS upto, "
           "CAST(SUM(c.n) OVER (PARTITION BY c.kind) AS bigint) AS total FROM c) "
           f"SELECT w.kind AS kind, MAX(w.total) AS count, SUM(w.minutes * w.n) AS minutes_sum, {ranks} "
           "FROM w GROUP BY w.kind")
    async with _reading() as reader:
        rows = await reader.execute_query_dict(*prepared(reader, sql, _params(scope, business_type, entity_type)))
    out = {kind: {"count": 0, "mean": None, "median": None, "p90": None} for kind in kinds}
    for row in rows:
        count = int(row["count"])
        figures = {"count": count, "mean": float(row["minutes_sum"]) / count / 60}
        for key, pct in PERCENTILES:
            # percentile_cont's arithmetic, in floating point as PostgreSQL does it.
            position = pct / 100 * (count - 1)
            low, high = row[f"{key}_low"], row[f"{key}_high"]
            figures[key] = (low + (position - math.floor(position)) * (high - low)) / 60
        out[row["kind"]] = figures
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

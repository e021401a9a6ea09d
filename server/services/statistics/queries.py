"""The SQL aggregates behind every figure: one text for PostgreSQL and SQLite, grouped by authority and business type.

Each query counts in the database and returns a few rows per authority and business type; only the durations
return one row per event, because working hours are counted in Python (server/services/review/worktime.py).
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

from tortoise import connections

from server.services.statistics.definitions import PASS_ACTIONS, RETURN_ACTION, SUBMIT_ACTIONS

_PARAM = re.compile(r"(?<!:):([a-z_]+)")


async def fetch(sql: str, params: dict) -> list[dict]:
    """Run `sql` with :name parameters on either database (PostgreSQL $n, SQLite ?)."""
    conn = connections.get("default")
    postgres = conn.capabilities.dialect == "postgres"
    order: list[str] = []

    def mark(match: re.Match) -> str:
        name = match.group(1)
        if postgres:
            if name not in order:
                order.append(name)
            return f"${order.index(name) + 1}"
        order.append(name)
        return "?"

    text = _PARAM.sub(mark, sql)
    return await conn.execute_query_dict(text, [params[name] for name in order])


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def _filters(business_type: str | None, entity_type: str | None) -> str:
    clauses = ["a.authority_id LIKE :scope"]
    if business_type:
        clauses.append("a.business_type = :business_type")
    if entity_type:
        clauses.append("a.entity_type = :entity_type")
    return " AND ".join(clauses)


def _params(scope: str, start: datetime, end: datetime, business_type: str | None, entity_type: str | None) -> dict:
    params = {"scope": scope + "%", "start": start.astimezone(timezone.utc), "end": end.astimezone(timezone.utc)}
    if business_type:
        params["business_type"] = business_type
    if entity_type:
        params["entity_type"] = entity_type
    return params


# Per application: entered review in the period (and whether through 云帮办 at least once), returned in the period,
# and whether the first decision after its first submission in the period was a lock or an acceptance (one pass over
# the decisions: the earliest lock/acceptance before the earliest return).
_COUNTS_SQL = f"""
WITH sub AS (
    SELECT t.application_id AS id, MIN(t.at) AS first_at,
           MAX(CASE WHEN t.action = 'submit_cloud' THEN 1 ELSE 0 END) AS cloud
      FROM timeline_entry t
     WHERE t.action IN ({_in(SUBMIT_ACTIONS)}) AND t.at >= :start AND t.at < :end
     GROUP BY t.application_id
), ret AS (
    SELECT DISTINCT t.application_id AS id
      FROM timeline_entry t
     WHERE t.action = '{RETURN_ACTION}' AND t.at >= :start AND t.at < :end
), decided AS (
    SELECT d.application_id AS id,
           MIN(CASE WHEN d.action IN ({_in(PASS_ACTIONS)}) THEN d.at END) AS passed_at,
           MIN(CASE WHEN d.action = '{RETURN_ACTION}' THEN d.at END) AS returned_at
      FROM timeline_entry d JOIN sub ON sub.id = d.application_id
     WHERE d.action IN ({_in(PASS_ACTIONS + (RETURN_ACTION,))}) AND d.at >= sub.first_at
     GROUP BY d.application_id
), ids AS (
    SELECT id FROM sub UNION SELECT id FROM ret
)
SELECT a.authority_id AS authority, a.business_type AS business_type,
       COUNT(sub.id) AS submitted,
       COALESCE(SUM(sub.cloud), 0) AS cloud_submitted,
       COUNT(ret.id) AS returned,
       COALESCE(SUM(CASE WHEN decided.passed_at IS NOT NULL
                          AND (decided.returned_at IS NULL OR decided.passed_at < decided.returned_at)
                         THEN 1 ELSE 0 END), 0) AS first_pass
  FROM ids
  JOIN application a ON a.id = ids.id
  LEFT JOIN sub ON sub.id = ids.id
  LEFT JOIN ret ON ret.id = ids.id
  LEFT JOIN decided ON decided.id = ids.id
 WHERE {{filters}}
 GROUP BY a.authority_id, a.business_type
"""


async def application_counts(scope: str, start: datetime, end: datetime, business_type: str | None = None,
                             entity_type: str | None = None) -> list[dict]:
    """[{authority, business_type, submitted, cloud_submitted, returned, first_pass}]."""
    sql = _COUNTS_SQL.format(filters=_filters(business_type, entity_type))
    rows = await fetch(sql, _params(scope, start, end, business_type, entity_type))
    return [{key: (int(value) if key not in ("authority", "business_type") else value) for key, value in row.items()}
            for row in rows]


# 云帮办 applications that reached `submitted` after every signature (submit_signed) in the period, with the lock
# before it, the registrar's returns before that lock and the parties who signed between the lock and submission.
_ROUNDS_SQL = f"""
WITH done AS (
    SELECT s.application_id AS id, s.at AS done_at,
           (SELECT MAX(l.at) FROM timeline_entry l
             WHERE l.application_id = s.application_id AND l.action = 'approve_lock' AND l.at <= s.at) AS locked_at
      FROM timeline_entry s
     WHERE s.action = 'submit_signed' AND s.at >= :start AND s.at < :end
), rounds AS (
    SELECT done.id, done.done_at, done.locked_at,
           (SELECT COUNT(*) FROM timeline_entry r
             WHERE r.application_id = done.id AND r.action = '{RETURN_ACTION}' AND r.at < done.locked_at) AS returns,
           (SELECT COUNT(DISTINCT g.party_id) FROM signature g
             WHERE g.application_id = done.id AND g.signed_at >= done.locked_at AND g.signed_at <= done.done_at) AS signers,
           (SELECT MAX(g.signed_at) FROM signature g
             WHERE g.application_id = done.id AND g.signed_at >= done.locked_at AND g.signed_at <= done.done_at) AS last_signed_at
      FROM done
)
SELECT a.authority_id AS authority, a.business_type AS business_type,
       COUNT(*) AS signing_rounds, COALESCE(SUM(rounds.returns * rounds.signers), 0) AS signatures_saved
  FROM rounds JOIN application a ON a.id = rounds.id
 WHERE {{filters}}
 GROUP BY a.authority_id, a.business_type
"""


async def signing_rounds(scope: str, start: datetime, end: datetime, business_type: str | None = None,
                         entity_type: str | None = None) -> list[dict]:
    """[{authority, business_type, signing_rounds, signatures_saved}]."""
    sql = _ROUNDS_SQL.format(filters=_filters(business_type, entity_type))
    rows = await fetch(sql, _params(scope, start, end, business_type, entity_type))
    return [{"authority": row["authority"], "business_type": row["business_type"],
             "signing_rounds": int(row["signing_rounds"]), "signatures_saved": int(row["signatures_saved"])}
            for row in rows]


_DURATION_SQL = {
    # Each 云帮办通过 in the period, from the 云帮办 submission it answered.
    "submission_to_lock": """
SELECT x.started_at, x.ended_at FROM (
    SELECT l.application_id AS id, l.at AS ended_at,
           (SELECT MAX(s.at) FROM timeline_entry s
             WHERE s.application_id = l.application_id AND s.action = 'submit_cloud' AND s.at <= l.at) AS started_at
      FROM timeline_entry l
     WHERE l.action = 'approve_lock' AND l.at >= :start AND l.at < :end
) x JOIN application a ON a.id = x.id
 WHERE {filters} AND x.started_at IS NOT NULL
""",
    # Each submission after every signature in the period: from its lock to the last signature.
    "lock_to_signed": """
SELECT x.started_at, (SELECT MAX(g.signed_at) FROM signature g
                        WHERE g.application_id = x.id AND g.signed_at >= x.started_at AND g.signed_at <= x.done_at)
                     AS ended_at FROM (
    SELECT s.application_id AS id, s.at AS done_at,
           (SELECT MAX(l.at) FROM timeline_entry l
             WHERE l.application_id = s.application_id AND l.action = 'approve_lock' AND l.at <= s.at) AS started_at
      FROM timeline_entry s
     WHERE s.action = 'submit_signed' AND s.at >= :start AND s.at < :end
) x JOIN application a ON a.id = x.id
 WHERE {filters} AND x.started_at IS NOT NULL
""",
    # Each approval (核准) in the period, from the application's first submission.
    "submission_to_approval": f"""
SELECT x.started_at, x.ended_at FROM (
    SELECT p.application_id AS id, p.at AS ended_at,
           (SELECT MIN(s.at) FROM timeline_entry s
             WHERE s.application_id = p.application_id AND s.action IN ({_in(SUBMIT_ACTIONS)})) AS started_at
      FROM timeline_entry p
     WHERE p.action = 'approve' AND p.at >= :start AND p.at < :end
) x JOIN application a ON a.id = x.id
 WHERE {{filters}} AND x.started_at IS NOT NULL
""",
}


async def duration_pairs(kind: str, scope: str, start: datetime, end: datetime, business_type: str | None = None,
                         entity_type: str | None = None) -> list[tuple[datetime, datetime]]:
    sql = _DURATION_SQL[kind].format(filters=_filters(business_type, entity_type))
    rows = await fetch(sql, _params(scope, start, end, business_type, entity_type))
    return [(as_datetime(row["started_at"]), as_datetime(row["ended_at"])) for row in rows
            if row["started_at"] is not None and row["ended_at"] is not None]


def as_datetime(value) -> datetime:
    """SQLite hands back the stored ISO text; PostgreSQL a datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


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

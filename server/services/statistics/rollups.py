"""The rollups every figure is read from, maintained with each timeline entry and rebuilt from the timeline.

`stats_day` holds counts per Beijing-time day, authority, business type and entity type, split by `since`: the day of
the application's previous event of the same kind. A period [A, B] counts the rows with day in [A, B] and since < A:
exactly the first event of each application in the period ("counted once per application"). A submission counts as
a first pass once the first decision after it (a lock or an acceptance, not a return) is written, on the row of the
submission's own day, so a decision arriving after the period still lands in it.

`stats_month` holds the same counts per month, of the events whose previous one of their kind came before the month:
a period made of whole months reads those, and only its partial months at either end read days.

`stats_duration` holds one row per measured duration, by the day of the event that ends it, in whole working minutes
counted in Python by the working calendar when the row is written (the write path reads the process's calendar,
`worktime.configured()`); `stats_duration_month` counts them per month, authority and minute, for whole months.

The SQL that derives a rollup from timeline entries is one text, used both by `record` (one new entry, inside its
transaction) and by `rebuild` (every entry of a range of days), so that the two give the same figures.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from tortoise import connections
from tortoise.transactions import in_transaction

from server.config import Settings
from server.services.review import worktime
from server.services.review.worktime import WorkingCalendar
from server.services.statistics.definitions import (DECISION_ACTIONS, PASS_ACTIONS, RETURN_ACTION, SUBMIT_ACTIONS,
                                                    ZONE)
from server.services.statistics.queries import (COUNTERS, NEVER, date_literal, execute, in_list, local_day,
                                                postgres, prepared)

DURATION_ENDS = ("approve_lock", "submit_signed", "approve")
COUNTED_ACTIONS = (*SUBMIT_ACTIONS, RETURN_ACTION, *PASS_ACTIONS, *DURATION_ENDS)
# The lock (云帮办通过) that an entry `t` came after: the start of the signing it ends.
_LATEST_LOCK = ("(SELECT MAX(l.at) FROM timeline_entry l WHERE l.application_id = t.application_id "
                "AND l.action = 'approve_lock' AND l.at <= t.at)")


def _before(alias: str) -> str:
    """Entries of the same application earlier than `t` on the timeline (by time, then by id)."""
    return (f"{alias}.application_id = t.application_id "
            f"AND ({alias}.at < t.at OR ({alias}.at = t.at AND {alias}.id < t.id))")


def _since(conn, actions: tuple[str, ...]) -> str:
    previous = f"(SELECT MAX(p.at) FROM timeline_entry p WHERE p.action IN ({in_list(actions)}) AND {_before('p')})"
    return f"COALESCE({local_day(conn, previous)}, {date_literal(conn, NEVER)})"


def month_start(conn, expression: str) -> str:
    if postgres(conn):
        return f"CAST(date_trunc('month', CAST({expression} AS timestamp)) AS date)"
    return f"date({expression}, 'start of month')"


def _counts_sql(conn, events: str, answered: str, table: str) -> str:
    """INSERT … ON CONFLICT adding to `table` (stats_day or stats_month) the counts of the timeline entries `t`
    chosen by `events` (and, for first passes, of the submissions whose first decision `d` is chosen by `answered`)."""
    day = local_day(conn, "t.at")
    never = date_literal(conn, NEVER)
    zero = {name: "0" for name in COUNTERS}

    def part(source: str, since: str, where: str, **counters: str) -> str:
        values = ", ".join(counters.get(name, zero[name]) + f" AS {name}" for name in COUNTERS)
        return (f"SELECT a.authority_id, a.business_type, a.entity_type, {day} AS day, {since} AS since, {values} "
                f"FROM {source} JOIN application a ON a.id = t.application_id WHERE {where}")

    first_decision = (f"(SELECT f.id FROM timeline_entry f WHERE f.application_id = t.application_id "
                      f"AND f.action IN ({in_list(DECISION_ACTIONS)}) AND (f.at > t.at OR (f.at = t.at AND f.id > t.id)) "
                      f"ORDER BY f.at, f.id LIMIT 1)")
    signed = (f"(SELECT t.*, {_LATEST_LOCK} AS locked_at FROM timeline_entry t "
              f"WHERE t.action = 'submit_signed' AND {events}) t")
    returns = (f"(SELECT COUNT(*) FROM timeline_entry r WHERE r.application_id = t.application_id "
               f"AND r.action = '{RETURN_ACTION}' AND r.at < t.locked_at)")
    signers = ("(SELECT COUNT(DISTINCT g.party_id) FROM signature g WHERE g.application_id = t.application_id "
               "AND g.signed_at >= t.locked_at AND g.signed_at <= t.at)")
    parts = [
        part("timeline_entry t", _since(conn, SUBMIT_ACTIONS), f"t.action IN ({in_list(SUBMIT_ACTIONS)}) AND {events}",
             submitted="1"),
        part("timeline_entry t", _since(conn, ("submit_cloud",)), f"t.action = 'submit_cloud' AND {events}",
             cloud_submitted="1"),
        part("timeline_entry t", _since(conn, (RETURN_ACTION,)), f"t.action = '{RETURN_ACTION}' AND {events}",
             returned="1"),
        part(f"timeline_entry t JOIN timeline_entry d ON d.id = {first_decision}", _since(conn, SUBMIT_ACTIONS),
             f"t.action IN ({in_list(SUBMIT_ACTIONS)}) AND d.action IN ({in_list(PASS_ACTIONS)}) AND {answered}",
             first_pass="1"),
        part(signed, never, "1 = 1", signing_rounds="1", signatures_saved=f"{returns} * {signers}"),
    ]
    sums = ", ".join(f"SUM({name})" for name in COUNTERS)
    # An event whose previous one of its kind fell on the same day (month) counts in no period that starts with that
    # day (month): stats_day leaves it out, and so does stats_month. The WHERE also keeps SQLite from reading the
    # ON CONFLICT as a join's ON.
    key = "day" if table == "stats_day" else "month"
    bucket = "day" if table == "stats_day" else month_start(conn, "day")
    return (f"INSERT INTO {table} (authority_id, business_type, entity_type, {key}, since, {', '.join(COUNTERS)}) "
            f"SELECT authority_id, business_type, entity_type, {bucket}, since, {sums} "
            f"FROM ({' UNION ALL '.join(parts)}) x WHERE since < {bucket} "
            f"GROUP BY authority_id, business_type, entity_type, {bucket}, since "
            # In the unique key's order: two transactions adding to the same rows lock them in the same order.
            f"ORDER BY {bucket}, since, authority_id, business_type, entity_type "
            f"ON CONFLICT ({key}, since, authority_id, business_type, entity_type) DO UPDATE SET "
            + ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in COUNTERS))


def _durations_sql(conn, events: str) -> str:
    """SELECT of the durations ended by the timeline entries `t` chosen by `events`, with the instants that bound
    them (whose working minutes are counted in Python: `_measured`)."""
    day = local_day(conn, "t.at")
    started = {
        # Each 云帮办通过, from the 云帮办 submission it answered.
        "submission_to_lock": ("t.action = 'approve_lock'",
                               "(SELECT MAX(s.at) FROM timeline_entry s WHERE s.application_id = t.application_id "
                               "AND s.action = 'submit_cloud' AND s.at <= t.at)", "t.at"),
        # Each submission after every signature: from its lock to the last signature.
        "lock_to_signed": ("t.action = 'submit_signed'", _LATEST_LOCK,
                           "(SELECT MAX(g.signed_at) FROM signature g WHERE g.application_id = t.application_id "
                           "AND g.signed_at >= x.started_at AND g.signed_at <= t.at)"),
        # Each approval (核准), from the application's first submission.
        "submission_to_approval": ("t.action = 'approve'",
                                   f"(SELECT MIN(s.at) FROM timeline_entry s WHERE s.application_id = t.application_id "
                                   f"AND s.action IN ({in_list(SUBMIT_ACTIONS)}))", "t.at"),
    }
    parts = []
    for kind, (which, start, end) in started.items():
        parts.append(
            f"SELECT '{kind}' AS kind, a.authority_id AS authority_id, a.business_type AS business_type, "
            f"a.entity_type AS entity_type, {day} AS day, x.started_at AS started_at, {end} AS ended_at "
            f"FROM (SELECT t.id, {start} AS started_at FROM timeline_entry t WHERE {which} AND {events}) x "
            f"JOIN timeline_entry t ON t.id = x.id JOIN application a ON a.id = t.application_id "
            f"WHERE x.started_at IS NOT NULL")
    return f"SELECT * FROM ({' UNION ALL '.join(parts)}) y WHERE y.ended_at IS NOT NULL"


def _measured(rows: list[dict], calendar: WorkingCalendar) -> list[tuple]:
    """stats_duration rows (kind, authority, types, day, minutes) of the durations `_durations_sql` found."""
    return [(row["kind"], row["authority_id"], row["business_type"], row["entity_type"], _as_date(row["day"]),
             calendar.working_minutes_between(_as_datetime(row["started_at"]), _as_datetime(row["ended_at"])))
            for row in rows]


def _marks(connection, count: int) -> str:
    return ", ".join(f"${n}" if postgres(connection) else "?" for n in range(1, count + 1))


async def _add_durations(connection, rows: list[tuple]) -> None:
    if rows:
        await connection.execute_many(
            "INSERT INTO stats_duration (kind, authority_id, business_type, entity_type, day, minutes) "
            f"VALUES ({_marks(connection, 6)})", rows)


async def _count_durations_by_month(connection, rows: list[tuple]) -> None:
    """Add durations just written to stats_duration_month (the rows of one timeline entry)."""
    for kind, authority, _business_type, _entity_type, day, minutes in rows:
        await connection.execute_query(
            f"INSERT INTO stats_duration_month (kind, authority_id, month, minutes, count) "
            f"VALUES ({_marks(connection, 4)}, 1) ON CONFLICT (kind, month, authority_id, minutes) "
            "DO UPDATE SET count = stats_duration_month.count + 1", [kind, authority, day.replace(day=1), minutes])


async def record(application_id, entry_id: int, action: str, connection) -> None:
    """Add one new timeline entry to the rollups, inside the transaction that writes it (lifecycle.transition)."""
    if action not in COUNTED_ACTIONS:
        return
    params = {"entry": entry_id, "application": str(application_id)}
    if action != "approve":
        # The entry itself, and the submissions it answers when it is the first decision after them.
        for table in ("stats_day", "stats_month"):
            await execute(connection, _counts_sql(connection, "t.id = :entry",
                                                  "t.application_id = :application AND d.id = :entry", table), params)
    if action in DURATION_ENDS:
        found = await connection.execute_query_dict(*prepared(connection, _durations_sql(connection, "t.id = :entry"),
                                                              params))
        rows = _measured(found, worktime.configured())
        await _add_durations(connection, rows)
        await _count_durations_by_month(connection, rows)


def _window(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), ZONE).astimezone(timezone.utc)
    return start, datetime.combine(day + timedelta(days=1), time(0), ZONE).astimezone(timezone.utc)


async def rebuild_day(connection, day: date) -> None:
    """Recompute one Beijing-time day's counts (stats_day) from the timeline."""
    start, end = _window(day)
    await _no_jit(connection)
    await connection.execute_query(f"DELETE FROM stats_day WHERE day = {date_literal(connection, day)}")
    window = "t.at >= :start AND t.at < :end"
    await execute(connection, _counts_sql(connection, window, window, "stats_day"), {"start": start, "end": end})


async def rebuild_durations_day(connection, day: date, calendar: WorkingCalendar) -> None:
    """Recompute one Beijing-time day's durations (stats_duration) from the timeline, in minutes of `calendar`."""
    start, end = _window(day)
    await _no_jit(connection)
    await connection.execute_query(f"DELETE FROM stats_duration WHERE day = {date_literal(connection, day)}")
    found = await connection.execute_query_dict(*prepared(
        connection, _durations_sql(connection, "t.at >= :start AND t.at < :end"), {"start": start, "end": end}))
    await _add_durations(connection, _measured(found, calendar))


async def _no_jit(connection) -> None:
    """A day's statement is costed high enough for JIT, whose compiling takes longer than the statement itself."""
    if postgres(connection):
        await connection.execute_query("SET LOCAL jit = off")


async def rebuild_month(connection, month: date) -> None:
    """Recompute one month's stats_month rows from its days' stats_day rows (those whose previous event came before
    the month)."""
    first = date_literal(connection, month)
    last = date_literal(connection, _month_end(month))
    await connection.execute_query(f"DELETE FROM stats_month WHERE month = {first}")
    await connection.execute_query(
        f"INSERT INTO stats_month (authority_id, business_type, entity_type, month, since, {', '.join(COUNTERS)}) "
        f"SELECT authority_id, business_type, entity_type, {first}, since, "
        f"{', '.join(f'SUM({name})' for name in COUNTERS)} FROM stats_day "
        f"WHERE day >= {first} AND day <= {last} AND since < {first} "
        "GROUP BY authority_id, business_type, entity_type, since")


async def rebuild_durations_month(connection, month: date) -> None:
    """Recompute one month's stats_duration_month counts from its days' stats_duration rows."""
    first = date_literal(connection, month)
    last = date_literal(connection, _month_end(month))
    await connection.execute_query(f"DELETE FROM stats_duration_month WHERE month = {first}")
    await connection.execute_query(
        "INSERT INTO stats_duration_month (kind, authority_id, month, minutes, count) "
        f"SELECT kind, authority_id, {first}, minutes, COUNT(*) FROM stats_duration "
        f"WHERE day >= {first} AND day <= {last} GROUP BY kind, authority_id, minutes")


def _month_end(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)


# The tables the rebuild fills.
ROLLUP_TABLES = ("stats_day", "stats_month", "stats_duration", "stats_duration_month")


async def analyze(connection, tables: tuple[str, ...]) -> None:
    """Fresh planner statistics after a bulk fill: until autovacuum gets to the tables, PostgreSQL plans on what it
    knew before (an empty table), and can choose a sort on disk. SQLite plans without gathered statistics here."""
    if connection.capabilities.dialect == "postgres":
        await connection.execute_script("ANALYZE " + ", ".join(tables))


async def rebuild(settings: Settings, first: date, last: date, progress=None) -> int:
    """Recompute the rollups of the days first..last, one transaction per day and then per month (a rerun resumes
    or repeats harmlessly), durations in minutes of the settings' working calendar. Returns the number of days."""
    calendar = worktime.calendar_for(settings)
    day, days = first, 0
    while day <= last:
        async with in_transaction() as conn:
            await rebuild_day(conn, day)
            await rebuild_durations_day(conn, day, calendar)
        days += 1
        if day == last or (day + timedelta(days=1)).day == 1:
            async with in_transaction() as conn:
                await rebuild_month(conn, day.replace(day=1))
                await rebuild_durations_month(conn, day.replace(day=1))
            if progress:
                progress(day)
        day += timedelta(days=1)
    await analyze(connections.get("default"), ROLLUP_TABLES)
    return days


async def timeline_days(connection) -> tuple[date, date] | None:
    """The first and last Beijing-time days the timeline has entries on."""
    rows = await connection.execute_query_dict(
        f"SELECT MIN({local_day(connection, 'at')}) AS first, MAX({local_day(connection, 'at')}) AS last "
        "FROM timeline_entry")
    if not rows or rows[0]["first"] is None:
        return None
    return _as_date(rows[0]["first"]), _as_date(rows[0]["last"])


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _as_datetime(value) -> datetime:
    """SQLite hands back the stored ISO text; PostgreSQL a datetime."""
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)

"""The statistics rollups: kept with each timeline entry, they give the same figures as a rebuild from the timeline
(`python -m server stats rebuild-rollups`), and a decision written after the period still counts in it. The expected
figures are counted by hand from tests/stats_records.py and the applications added here."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from tortoise import connections

from server import clock
from server.models.accounts import Applicant
from server.db import is_postgres
from server.models.applications import Application, TimelineEntry
from server.services.applications import lifecycle
from server.services.review.worktime import calendar_for
from server.services.statistics.rollups import ROLLUP_TABLES
from tests import stats_records
from tests.helpers import create_staff

JANUARY = {"from": "2026-01-01", "to": "2026-01-31"}
FEBRUARY = {"from": "2026-02-01", "to": "2026-02-28"}
WINTER = {"from": "2025-12-01", "to": "2026-02-28"}


@pytest.fixture
async def city(client):
    await stats_records.seed()
    return await create_staff(client, "stats-admin", role="admin", authority="451400")


async def _get(client, staff, path, **params):
    response = await client.get(path, params=params, headers=staff["headers"])
    assert response.status_code == 200, response.text
    return response.json()


async def _figures(client, staff) -> list:
    """Every figure the API shows for a few periods and filters: summaries and series."""
    out = []
    for period in (JANUARY, FEBRUARY, WINTER, {"from": "2026-01-05", "to": "2026-01-07"}):
        for filters in ({}, {"business_type": "establish"}, {"entity_type": "llc"}, {"authority": "451421"}):
            body = await _get(client, staff, "/api/v1/stats/summary", **period, **filters)
            out.append({key: body[key] for key in ("figures", "durations", "by_business_type", "by_authority")})
    for interval in ("day", "week", "month"):
        for metric in ("submitted", "returned", "first_pass_rate", "signatures_saved"):
            out.append(await _get(client, staff, "/api/v1/stats/series", metric=metric, interval=interval, **WINTER))
    return out


async def _tables() -> tuple[list, list, list, list]:
    conn = connections.get("default")
    days = await conn.execute_query_dict(
        "SELECT authority_id, business_type, entity_type, day, since, submitted, cloud_submitted, returned, "
        "first_pass, signing_rounds, signatures_saved FROM stats_day "
        "ORDER BY day, since, authority_id, business_type, entity_type")
    months = await conn.execute_query_dict(
        "SELECT authority_id, business_type, entity_type, month, since, submitted, cloud_submitted, returned, "
        "first_pass, signing_rounds, signatures_saved FROM stats_month "
        "ORDER BY month, since, authority_id, business_type, entity_type")
    durations = await conn.execute_query_dict(
        "SELECT kind, authority_id, business_type, entity_type, day, minutes FROM stats_duration "
        "ORDER BY kind, day, authority_id, business_type, entity_type, minutes")
    duration_months = await conn.execute_query_dict(
        "SELECT kind, authority_id, month, minutes, count FROM stats_duration_month "
        "ORDER BY kind, month, authority_id, minutes")
    return tuple([tuple(str(value) for value in row.values()) for row in rows]
                 for rows in (days, months, durations, duration_months))


def _rebuild(settings, first: str, last: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "YCT_DATABASE__URL": settings.database.url}
    return subprocess.run([sys.executable, "-m", "server", "stats", "rebuild-rollups", "--from", first, "--to", last],
                          env=env, capture_output=True, text=True, timeout=300)


async def test_rebuild_from_the_timeline_gives_the_same_figures(client, city, server):
    kept = await _figures(client, city)
    kept_tables = await _tables()
    # Durations: A1 and A2 locked, A1 and A2 submitted after signing, A1 A3 A9 approved.
    assert len(kept_tables[0]) > 10 and len(kept_tables[1]) > 5 and len(kept_tables[2]) == 7
    # By month: the two locks, the two signings and A1 A3 A9's approvals, each of its own length, all in January.
    assert len(kept_tables[3]) == 7

    conn = connections.get("default")
    await conn.execute_query("DELETE FROM stats_day")
    await conn.execute_query("DELETE FROM stats_month")
    await conn.execute_query("DELETE FROM stats_duration")
    await conn.execute_query("DELETE FROM stats_duration_month")
    emptied = await _get(client, city, "/api/v1/stats/summary", **JANUARY)
    assert emptied["figures"]["submitted"]["value"] == 0

    result = _rebuild(server.settings, "2024-12-01", "2026-03-31")
    assert result.returncode == 0, result.stderr
    assert "486 days" in result.stdout
    assert await _tables() == kept_tables
    assert await _figures(client, city) == kept

    # Again, over part of the range: nothing changes (idempotent).
    result = _rebuild(server.settings, "2026-01-06", "2026-01-08")
    assert result.returncode == 0, result.stderr
    assert await _tables() == kept_tables

    bad = _rebuild(server.settings, "2026-02-01", "2026-01-01")
    assert bad.returncode == 2 and "--to" in bad.stderr


async def test_the_rebuild_leaves_the_planner_fresh_statistics_of_what_it_filled(server):
    if not is_postgres(server.settings):
        pytest.skip("SQLite's planner keeps no table statistics to refresh")

    async def analyzed() -> dict[str, int]:
        rows = await connections.get("default").execute_query_dict(
            "SELECT relname, analyze_count FROM pg_stat_user_tables WHERE relname = ANY($1::text[])",
            [list(ROLLUP_TABLES)])
        return {row["relname"]: row["analyze_count"] for row in rows}

    before = await analyzed()
    result = _rebuild(server.settings, "2026-01-01", "2026-01-02")
    assert result.returncode == 0, result.stderr
    after = await analyzed()
    assert sorted(after) == sorted(ROLLUP_TABLES) and all(after[table] > before[table] for table in ROLLUP_TABLES)


async def test_a_decision_after_the_period_still_counts_in_it(client, city):
    applicant = await Applicant.get(openid="stats-applicant")
    # X 江州区 设立, 一般流程: submitted on 29 January, not decided in January.
    x = await stats_records.application(applicant, "451402", "establish", events=[
        ("submit_general", "2026-01-29 09:00")])
    # Y 扶绥县 变更, 一般流程: submitted on 30 January, returned on 2 February.
    y = await stats_records.application(applicant, "451421", "change", events=[
        ("submit_general", "2026-01-30 10:00")])

    before = (await _get(client, city, "/api/v1/stats/summary", **JANUARY))["figures"]
    # The six of the hand-built set, X and Y; still A1 A3 A5 A7 returned; first pass A2 and A9 (X and Y undecided).
    assert (before["submitted"]["value"], before["returned"]["value"], before["first_pass"]["value"]) == (8, 4, 2)
    assert before["first_pass_rate"]["value"] == 25.0

    # X is accepted now (November 2026) by a reviewer of 江州区, through the review API.
    await Application.filter(id=x.id).update(status="submitted", flow="general")
    reviewer = await create_staff(client, "stats-reviewer", role="reviewer", authority="451402")
    response = await client.post(f"/api/v1/review/applications/{x.id}/accept", headers=reviewer["headers"])
    assert response.status_code == 200, response.text
    # Y is returned in February.
    await stats_records.add_event(y, "return", "2026-02-02 10:00")

    after = (await _get(client, city, "/api/v1/stats/summary", **JANUARY))["figures"]
    # January: X now passed first time (its first decision, whenever it came, was 受理); Y's return is not January's.
    assert (after["submitted"]["value"], after["returned"]["value"], after["first_pass"]["value"]) == (8, 4, 3)
    assert after["first_pass_rate"]["value"] == 37.5 and after["return_rate"]["value"] == 50.0
    by_authority = {row["authority"]: row for row in
                    (await _get(client, city, "/api/v1/stats/summary", **JANUARY))["by_authority"]}
    assert (by_authority["451402"]["submitted"], by_authority["451402"]["first_pass"]) == (4, 3)  # A1 A2 A9 X
    assert (by_authority["451421"]["submitted"], by_authority["451421"]["first_pass"]) == (3, 0)  # A3 A5 Y
    # February: A7 resubmitted, Y returned.
    february = (await _get(client, city, "/api/v1/stats/summary", **FEBRUARY))["figures"]
    assert (february["submitted"]["value"], february["returned"]["value"], february["first_pass"]["value"]) == (1, 1, 0)


async def test_a_daily_series_over_a_year(client, city):
    body = await _get(client, city, "/api/v1/stats/series", metric="submitted", interval="day",
                      **{"from": "2025-03-01", "to": "2026-02-28"})
    days = {point["from"]: point["value"] for point in body["points"]}
    assert len(days) == 365
    # A4 a second before midnight, A5 at midnight, A1 (A8 is outside 崇左市), A7 resubmitted at midnight.
    assert (days["2025-12-31"], days["2026-01-01"], days["2026-01-05"], days["2026-02-01"]) == (1, 1, 1, 1)
    assert days["2026-01-06"] == 1 and days["2026-01-07"] == 1  # A1 resubmitted, once each day
    assert sum(days.values()) == 12  # A7 (20 December); A4; A5; A1 ×3; A2; A3 ×2; A9; A6; A7 again (February)


async def test_a_duration_has_its_working_minutes_as_soon_as_it_is_written(client, city, server):
    applicant = await Applicant.get(openid="stats-applicant")
    # Z 凭祥市 设立, 一般流程: submitted and accepted on 12 January, approved now through the state machine.
    z = await stats_records.application(applicant, "451481", "establish", events=[
        ("submit_general", "2026-01-12 09:00"), ("accept", "2026-01-12 10:00")])
    await Application.filter(id=z.id).update(status="accepted")
    await lifecycle.transition(await Application.get(id=z.id), "approve", "测试")

    approved = await TimelineEntry.get(application_id=z.id, action="approve")
    minutes = calendar_for(server.settings).working_minutes_between(stats_records.bj("2026-01-12 09:00"), approved.at)
    conn = connections.get("default")
    # Written once with its minutes, and counted in its month: nothing is left for a later read to fill in.
    assert await conn.execute_query_dict(
        "SELECT kind, minutes FROM stats_duration WHERE authority_id = '451481'") == [
        {"kind": "submission_to_approval", "minutes": minutes}]
    month = await conn.execute_query_dict(
        "SELECT kind, month, minutes, count FROM stats_duration_month WHERE authority_id = '451481'")
    assert [(row["kind"], str(row["month"]), row["minutes"], row["count"]) for row in month] == [
        ("submission_to_approval", clock.today().replace(day=1).isoformat(), minutes, 1)]
    today = clock.today().isoformat()
    body = await _get(client, city, "/api/v1/stats/summary", authority="451481", **{"from": today, "to": today})
    approval = body["durations"]["submission_to_approval"]
    assert (approval["count"], approval["median"]) == (1, round(minutes / 60, 2))


async def test_percentiles_from_counts_per_minute_interpolate_as_percentile_cont(client, city):
    applicant = await Applicant.get(openid="stats-applicant")
    # Six approvals at 凭祥市 (working hours 09:00–12:00 and 14:30–17:30), submitted and approved the same day:
    # two in December 2025, read by day, and four in January and February 2026, read as whole months.
    for submitted, approved in (("2025-12-15 09:00", "2025-12-15 10:00"),  # 60 min
                                ("2025-12-16 09:00", "2025-12-16 10:30"),  # 90 min
                                ("2026-01-12 09:00", "2026-01-12 10:30"),  # 90 min, the same length by month
                                ("2026-01-13 09:00", "2026-01-13 11:00"),  # 120 min
                                ("2026-01-14 09:00", "2026-01-14 14:50"),  # 180 + 20 = 200 min
                                ("2026-02-02 09:00", "2026-02-02 16:30")):  # 180 + 120 = 300 min
        await stats_records.application(applicant, "451481", "establish", events=[
            ("submit_general", submitted), ("approve", approved)])
    # 60 90 90 120 200 300: the median is at rank 2.5, between 90 and 120 = 105 min = 1.75 h; the 90th percentile
    # at rank 0.9 × 5 = 4.5, between 200 and 300 = 250 min = 4.1667 h; the mean 860 / 6 = 143.33 min = 2.3889 h.
    expected = {"count": 6, "median": 1.75, "p90": 4.17, "mean": 2.39}
    period = {"authority": "451481", "from": "2025-12-15", "to": "2026-02-28"}
    for filters in ({}, {"business_type": "establish"}):  # whole months by month, and every day by day
        approval = (await _get(client, city, "/api/v1/stats/summary", **period, **filters))["durations"][
            "submission_to_approval"]
        assert {key: approval[key] for key in expected} == expected, filters
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        # PostgreSQL's own percentile_cont over the same minutes gives the same figures.
        row = (await conn.execute_query_dict(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY minutes) AS median, "
            "percentile_cont(0.9) WITHIN GROUP (ORDER BY minutes) AS p90 FROM stats_duration "
            "WHERE authority_id = '451481' AND kind = 'submission_to_approval'"))[0]
        assert (row["median"], row["p90"]) == (105.0, 250.0)

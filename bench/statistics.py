"""Statistics on real volumes: the summary and the monthly 退件率 series of 崇左市 with 1,000,000 applications in a year.

    nice -n 19 .venv/bin/python -m bench.statistics fill [--rows 1000000] [--last-year-rows 500000]
    flock /work/wt/bench.lock .venv/bin/python -m bench.statistics rebuild [--from 2025-01-01] [--to 2026-11-30]
    flock /work/wt/bench.lock .venv/bin/python -m bench.statistics measure [--runs 50]
    (each takes --database postgres://postgres@127.0.0.1:5432/bench_stats)

`fill` creates the database if missing, builds the schema with the real migrations, fills applications, timelines,
signing requests and signatures with COPY (skipped when it already holds the rows) and then the rollups, with the real
`python -m server stats rebuild-rollups` over every day: applications over 崇左市 and its seven counties between
1 January and 27 November 2026 (and last year's), each with its timeline — a quarter through 云帮办 (locked, one or
two signatories, submitted after signing), the rest through the general flow; returned in rounds (35 % at least once,
10 % twice, 3 % three times) before passing; accepted and approved. `rebuild` times the same command over a range of
days (short enough to stay under ten minutes) and reports it per million applications with entries in the range.
`measure` times, in this process, `summary` (every figure, durations included) and `series(return_rate, month)` for
the year so far: p50 and p99 of --runs rounds each, and the counts alone (this year and last year, one query).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics as pystats
import subprocess
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import asyncpg

from bench.names import ensure_database

AUTHORITIES = ("451400", "451402", "451421", "451422", "451423", "451424", "451425", "451481")
BUSINESS = ("establish", "establish", "establish", "change", "change", "deregister", "simple_deregister")
ENTITIES = ("llc", "llc", "individual_business", "individual_business", "sole_proprietorship", "partnership",
            "branch")
BEIJING = ZoneInfo("Asia/Shanghai")


def _rows(count: int, first: date, last: date, seed: int):
    """Applications, timeline entries, signing requests and signatures as COPY records."""
    rng = random.Random(seed)
    span = (datetime.combine(last, datetime.min.time()) - datetime.combine(first, datetime.min.time())).total_seconds()
    start0 = datetime.combine(first, datetime.min.time(), BEIJING).astimezone(timezone.utc)
    applications, timeline, requests, signatures = [], [], [], []
    for _ in range(count):
        app_id = uuid.uuid4()
        t = start0 + timedelta(seconds=rng.random() * span)
        cloud = rng.random() < 0.25
        applications.append((app_id, 1, rng.choice(AUTHORITIES), rng.choice(BUSINESS), rng.choice(ENTITIES),
                             "approved", "cloud" if cloud else "general", t, t))
        submit = "submit_cloud" if cloud else "submit_general"
        events = [(submit, t)]
        draw = rng.random()
        for _ in range(3 if draw < 0.03 else 2 if draw < 0.10 else 1 if draw < 0.35 else 0):
            t += timedelta(hours=2 + rng.random() * 20)
            events.append(("return", t))
            t += timedelta(hours=4 + rng.random() * 40)
            events.append((submit, t))
        t += timedelta(hours=1 + rng.random() * 6)
        if cloud:
            events.append(("approve_lock", t))
            for _ in range(1 + (rng.random() < 0.4)):
                t += timedelta(hours=1 + rng.random() * 15)
                request_id, party = uuid.uuid4(), uuid.uuid4()
                requests.append((request_id, app_id, party, t))
                signatures.append((uuid.uuid4(), request_id, app_id, party, t))
            t += timedelta(minutes=5)
            events.append(("submit_signed", t))
            t += timedelta(hours=1 + rng.random() * 6)
        events.append(("accept", t))
        t += timedelta(hours=2 + rng.random() * 30)
        events.append(("approve", t))
        timeline.extend((app_id, at, action) for action, at in events)
    return applications, timeline, requests, signatures


async def fill(url: str, rows: int, last_year_rows: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        have = await conn.fetchval("SELECT count(*) FROM application")
        if have >= rows + last_year_rows:
            print(f"database already holds {have:,} applications")
            return
        await conn.execute("TRUNCATE application, timeline_entry, signing_request, signature, stats_day, stats_month, "
                           "stats_duration, stats_duration_month CASCADE")
        if not await conn.fetchval("SELECT 1 FROM applicant WHERE id = 1"):
            await conn.execute("INSERT INTO applicant (id, openid, created_at) VALUES (1, 'bench', now())")
        started = time.monotonic()
        for count, first, last, seed in ((rows, date(2026, 1, 1), date(2026, 11, 27), 1),
                                         (last_year_rows, date(2025, 1, 1), date(2025, 11, 27), 2)):
            for offset in range(0, count, 100_000):
                apps, timeline, requests, signatures = _rows(min(100_000, count - offset), first, last,
                                                             seed * 1000 + offset)
                await conn.copy_records_to_table(
                    "application", records=[(a, b, c, d, e, None, None, f, g, "{}", 1, None, None, False, h, h, None,
                                             None, h, i, True) for a, b, c, d, e, f, g, h, i in apps],
                    columns=["id", "applicant_id", "authority_id", "business_type", "entity_type", "name",
                             "credit_code", "status", "flow", "entity", "materials_version", "snapshot",
                             "snapshot_hash", "resubmission", "first_submitted_at", "submitted_at", "due_at",
                             "decided_at", "created_at", "updated_at", "auto_submit"])
                await conn.copy_records_to_table(
                    "timeline_entry", records=[(a, at, "bench", action, "[]") for a, at, action in timeline],
                    columns=["application_id", "at", "actor", "action", "comments"])
                await conn.copy_records_to_table(
                    "signing_request", records=[(r, a, p, "签字人", "investor", "[]", "person", "face", "cloud",
                                                 uuid.uuid4().hex + uuid.uuid4().hex, 1, "0" * 64, "0" * 64,
                                                 "signed", at + timedelta(hours=48), "{}", at) for r, a, p, at in requests],
                    columns=["id", "application_id", "party_id", "signer_name", "signer_role", "signer_roles",
                             "signer_kind", "method", "flow", "token_hash", "materials_version", "snapshot_hash",
                             "materials_hash", "status", "expires_at", "opened_documents", "created_at"])
                await conn.copy_records_to_table(
                    "signature", records=[(s, r, a, p, "face", 1, "0" * 64, "0" * 64, at, "0" * 64, "x", 0)
                                          for s, r, a, p, at in signatures],
                    columns=["id", "request_id", "application_id", "party_id", "method", "materials_version",
                             "snapshot_hash", "materials_hash", "signed_at", "image_sha256", "image_path",
                             "evidence_seq"])
                print(f"  {offset + min(100_000, count - offset):,} of {count:,} ({first.year}) "
                      f"in {time.monotonic() - started:.0f} s", flush=True)
        await conn.execute("ANALYZE")
        print(f"filled in {time.monotonic() - started:.0f} s")
    finally:
        await conn.close()


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"p50 {pystats.median(ordered) * 1000:,.0f} ms · p99 {p99 * 1000:,.0f} ms (n={len(ordered)})"


async def rebuild(url: str, first: date, last: date) -> None:
    """The real command, in its own process, timed, against the applications with timeline entries in the days."""
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        start = datetime.combine(first, datetime.min.time(), BEIJING)
        end = datetime.combine(last + timedelta(days=1), datetime.min.time(), BEIJING)
        applications = await conn.fetchval(
            "SELECT count(DISTINCT application_id) FROM timeline_entry WHERE at >= $1 AND at < $2", start, end)
        entries = await conn.fetchval("SELECT count(*) FROM timeline_entry WHERE at >= $1 AND at < $2", start, end)
    finally:
        await conn.close()
    began = time.monotonic()
    subprocess.run([sys.executable, "-m", "server", "stats", "rebuild-rollups", "--from", first.isoformat(),
                    "--to", last.isoformat()], check=True, env={**os.environ, "YCT_DATABASE__URL": url,
                                                                 "YCT_MODE": "development"})
    spent = time.monotonic() - began
    print(f"rebuild-rollups {first}..{last}: {spent:.0f} s for {entries:,} timeline entries of {applications:,} "
          f"applications: {spent * 1_000_000 / max(applications, 1):.0f} s per million applications")


async def measure(url: str, runs: int) -> None:
    from server.config import load_settings
    from server.db import close_database, open_database
    from server.models.authorities import Authority
    from server.services.statistics import summary as stats
    from server.services.statistics.periods import Period

    settings = load_settings(environ={"YCT_MODE": "development", "YCT_DATABASE__URL": url})
    await open_database(settings)
    try:
        city = await Authority.get(code="451400")
        query = stats.Query(city, Period(date(2026, 1, 1), date(2026, 11, 27), BEIJING))
        timings: dict[str, list[float]] = {"summary": [], "counts": [], "series": []}
        for _ in range(runs):
            began = time.perf_counter()
            result = await stats.summary(settings, query)
            timings["summary"].append(time.perf_counter() - began)
            began = time.perf_counter()
            await stats.grouped_counts(query, query.period, query.period.same_period_last_year())
            timings["counts"].append(time.perf_counter() - began)
            began = time.perf_counter()
            await stats.series(settings, query, "return_rate", "month")
            timings["series"].append(time.perf_counter() - began)
        figures = {key: entry["value"] for key, entry in result["figures"].items()}
        durations = result["durations"]
        print(f"崇左市 2026-01-01..2026-11-27: submitted {figures['submitted']:,}, 退件率 {figures['return_rate']}% "
              f"(last year {result['figures']['return_rate']['last_year']}%), "
              f"云帮办 {figures['cloud_share']}%, first pass {figures['first_pass_rate']}%, "
              f"signatures saved {figures['signatures_saved']:,}; submission→approval median "
              f"{durations['submission_to_approval']['median']} h, p90 {durations['submission_to_approval']['p90']} h "
              f"over {durations['submission_to_approval']['count']:,}")
        print(f"summary (all figures, durations included): {_percentiles(timings['summary'])}")
        print(f"counts alone (this year and last year):    {_percentiles(timings['counts'])}")
        print(f"monthly 退件率 series (11 months × 2 years): {_percentiles(timings['series'])}")
    finally:
        await close_database()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=("fill", "rebuild", "measure"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--last-year-rows", type=int, default=500_000)
    parser.add_argument("--from", dest="first", type=date.fromisoformat, default=date(2025, 1, 1))
    parser.add_argument("--to", dest="last", type=date.fromisoformat, default=date(2026, 11, 30))
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/bench_stats")
    args = parser.parse_args()
    if args.step == "fill":
        await ensure_database(args.database)
        # Migrated by the real command in its own process: tortoise's migration runner replaces the process's ORM
        # state.
        subprocess.run([sys.executable, "-m", "server", "migrate"], check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, "YCT_DATABASE__URL": args.database, "YCT_HOME_PROVINCE": "45"})
        await fill(args.database.replace("postgres://", "postgresql://", 1), args.rows, args.last_year_rows)
        # The rollups of the filled timeline, by the real command (untimed here: `rebuild` times a range).
        subprocess.run([sys.executable, "-m", "server", "stats", "rebuild-rollups", "--from", "2025-01-01",
                        "--to", "2026-11-30"], check=True, env={**os.environ, "YCT_DATABASE__URL": args.database,
                                                                 "YCT_MODE": "development"})
    elif args.step == "rebuild":
        await rebuild(args.database, args.first, args.last)
    else:
        await measure(args.database, args.runs)


if __name__ == "__main__":
    asyncio.run(main())

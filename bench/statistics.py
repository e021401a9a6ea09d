"""Statistics on real volumes: the summary and the monthly 退件率 series of 崇左市 with 1,000,000 applications in a year.

    .venv/bin/python -m bench.statistics [--rows 1000000] [--last-year-rows 500000] [--runs 7]
                                         [--database postgres://postgres@127.0.0.1:5432/bench_stats]

Creates the database if missing, builds the schema with the real migrations and fills it with COPY (skipped when it
already holds the rows): applications over 崇左市 and its seven counties between 1 January and 27 November 2026 (and
last year's), each with its timeline — a quarter through 云帮办 (locked, one signatory, submitted after signing),
the rest through the general flow; three in ten returned once before passing; most accepted and approved.
Then times, in this process, `summary` (every figure, durations included) and `series(return_rate, month)` for the
year so far: p50 and p99 of --runs rounds each, and one summary without durations (the SQL counts alone).
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
        if rng.random() < 0.3:
            t += timedelta(hours=2 + rng.random() * 20)
            events.append(("return", t))
            t += timedelta(hours=4 + rng.random() * 40)
            events.append((submit, t))
        t += timedelta(hours=1 + rng.random() * 6)
        if cloud:
            events.append(("approve_lock", t))
            t += timedelta(hours=1 + rng.random() * 30)
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
        await conn.execute("TRUNCATE application, timeline_entry, signing_request, signature CASCADE")
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
                                             None, h, i) for a, b, c, d, e, f, g, h, i in apps],
                    columns=["id", "applicant_id", "authority_id", "business_type", "entity_type", "name",
                             "credit_code", "status", "flow", "entity", "materials_version", "snapshot",
                             "snapshot_hash", "resubmission", "first_submitted_at", "submitted_at", "due_at",
                             "decided_at", "created_at", "updated_at"])
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
            await stats.grouped_counts(query, query.period)
            await stats.grouped_counts(query, query.period.same_period_last_year())
            timings["counts"].append(time.perf_counter() - began)
            began = time.perf_counter()
            await stats.series(settings, query, "return_rate", "month")
            timings["series"].append(time.perf_counter() - began)
        figures = {key: entry["value"] for key, entry in result["figures"].items()}
        print(f"崇左市 2026-01-01..2026-11-27: submitted {figures['submitted']:,}, 退件率 {figures['return_rate']}%, "
              f"云帮办 {figures['cloud_share']}%, signatures saved {figures['signatures_saved']:,}")
        print(f"summary (all figures, durations included): {_percentiles(timings['summary'])}")
        print(f"counts alone (this year and last year):    {_percentiles(timings['counts'])}")
        print(f"monthly 退件率 series (11 months × 2 years): {_percentiles(timings['series'])}")
    finally:
        await close_database()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--last-year-rows", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/bench_stats")
    args = parser.parse_args()
    await ensure_database(args.database)
    # Migrated by the real command in its own process: tortoise's migration runner replaces the process's ORM state.
    subprocess.run([sys.executable, "-m", "server", "migrate"], check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, "YCT_DATABASE__URL": args.database, "YCT_HOME_PROVINCE": "45"})
    await fill(args.database.replace("postgres://", "postgresql://", 1), args.rows, args.last_year_rows)
    await measure(args.database, args.runs)


if __name__ == "__main__":
    asyncio.run(main())

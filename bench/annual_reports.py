"""年报 reminder scheduling: python -m bench.annual_reports [--entities 1000000] [--database-url URL].

Fills the registry with N active entities over the home province's cities (each with a liaison phone), a quarter of
them reported for last year, then times `annual_reports.reminders.schedule` for 1 March: every unreported entity
gets its reminder row and its outbox SMS, spread over its city's working day. Prints entities per second and the
process's peak memory before and after, to show the keyset batches keep memory bounded. By default on a fresh
SQLite file; with --database-url the database is reset (DROP SCHEMA on PostgreSQL), so never point it at real data.
"""
from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from server import clock
from server.cache import MemoryCache
from server.config import load_settings
from server.db import close_database, is_postgres, migrate, open_database
from server.models.annual_reports import AnnualReport
from server.models.names import RegisteredEntity
from server.services.annual_reports import reminders
from server.services.applications.identifiers import credit_code_check, organization_code_check

_BATCH = 10_000
CITIES = ("451402", "450102", "450203", "450304", "450405", "450502", "450602", "450702", "450802", "450902",
          "451002", "451102", "451202", "451302")


def _code(index: int, authority: str) -> str:
    body = f"MA{index:06d}"
    first17 = "91" + authority + body + organization_code_check(body)
    return first17 + credit_code_check(first17)


async def _fill(count: int) -> None:
    rows, reported = [], []
    for index in range(count):
        authority = CITIES[index % len(CITIES)]
        code = _code(index, authority)
        rows.append(RegisteredEntity(credit_code=code, name=f"测试{index}号商贸有限公司", trade_name=f"测试{index}号",
                                     industry="商贸", org_form="有限公司", authority_code=authority,
                                     city_code=authority[:4] + "00", entity_type="llc", status="registered",
                                     liaison_phone=f"139{index:08d}"))
        if index % 4 == 0:
            reported.append(AnnualReport(credit_code=code, year=2026))
        if len(rows) >= _BATCH:
            await _write(rows, reported)
            rows, reported = [], []
    if rows:
        await _write(rows, reported)


async def _write(rows, reported) -> None:
    async with in_transaction() as conn:
        await RegisteredEntity.bulk_create(rows, using_db=conn)
        if reported:
            await AnnualReport.bulk_create(reported, using_db=conn)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main(entities: int, database_url: str | None) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="yct-bench-annual-"))
    overrides = {"database": {"url": database_url or f"sqlite://{workdir / 'bench.sqlite3'}"}}
    settings = load_settings(environ={"YCT_MODE": "development"}, **overrides)
    if is_postgres(settings):
        import asyncpg

        conn = await asyncpg.connect(settings.database.url.replace("postgres://", "postgresql://", 1))
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        await conn.close()
    await migrate(settings)
    await open_database(settings)
    try:
        started = time.perf_counter()
        await _fill(entities)
        print(f"filled {entities:,} entities ({entities // 4:,} reported) in {time.perf_counter() - started:.1f} s; "
              f"peak memory so far {_peak_mb():.0f} MB")
        clock.set(datetime(2027, 3, 1, 7, tzinfo=ZoneInfo("Asia/Shanghai")))
        before = _peak_mb()
        started = time.perf_counter()
        result = await reminders.schedule(settings, MemoryCache(), date(2027, 3, 1))
        elapsed = time.perf_counter() - started
        print(f"scheduled {result['scheduled']:,} reminders (with their outbox SMS) for {entities:,} entities in "
              f"{elapsed:.1f} s: {entities / elapsed:,.0f} entities/s; peak memory {before:.0f} MB before, "
              f"{_peak_mb():.0f} MB after (batch {settings.annual_reports.batch_size:,})")
    finally:
        await close_database()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    asyncio.run(main(args.entities, args.database_url))

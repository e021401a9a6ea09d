"""Key rotation on real volumes: `rotate-keys` re-encrypting 100,000 parties (ID number and phone each) on PostgreSQL.

    .venv/bin/python -m bench.keys [--rows 100000] [--batch-size 1000]
                                   [--database postgres://postgres@127.0.0.1:5432/bench_keys]

Creates the database if missing, builds the schema with the real migrations, and fills it (once) with parties whose
personal data is encrypted under key "a". Each run first brings every value back under "a" (untimed), then times
the rotation to key "b" in this process — the same code as `python -m server rotate-keys` — and prints rows per second.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import os
import subprocess
import sys
import time
import uuid

from bench.common import ROOT
from bench.names import ensure_database

KEYS = {"a": base64.b64encode(b"a" * 32).decode(), "b": base64.b64encode(b"b" * 32).decode()}
INDEX_KEY = base64.b64encode(b"i" * 32).decode()


def settings_for(url: str, current: str):
    from server.config import load_settings

    return load_settings(environ={"YCT_MODE": "development", "YCT_DATABASE__URL": url},
                         crypto={"current_key_id": current, "keys": KEYS, "index_key": INDEX_KEY})


async def fill(rows: int) -> None:
    from server.models.accounts import Applicant
    from server.models.applications import Application, Party

    have = await Party.all().count()
    if have >= rows:
        return
    applicant = await Applicant.create(openid=f"bench-keys-{uuid.uuid4().hex[:8]}", phone="13800000000")
    application = await Application.create(applicant=applicant, authority_id="451402", business_type="establish",
                                           entity_type="llc", name="崇左键换科技有限公司")
    for start in range(have, rows, 5000):
        await Party.bulk_create([
            Party(application=application, position=n, role="investor", kind="person", name=f"股东{n}",
                  id_type="resident_id", id_number=f"451402199001{n:06d}", phone=f"139{n:08d}")
            for n in range(start, min(start + 5000, rows))])


async def run(url: str, rows: int, batch_size: int) -> None:
    from server import crypto
    from server.db import close_database, open_database
    from server.services.data_keys import rotate_keys

    await open_database(settings_for(url, "a"))
    try:
        await fill(rows)
        await rotate_keys(batch_size)  # everything under "a" (nothing to do after a first run)
        crypto.configure(settings_for(url, "b"))
        began = time.perf_counter()
        done = await rotate_keys(batch_size)
        elapsed = time.perf_counter() - began
        print(f"rotate-keys a → b: {done.get('party', 0):,} parties (ID number + phone, blind indexes refreshed) "
              f"of {sum(done.values()):,} rows in {elapsed:.1f} s = {done.get('party', 0) / elapsed:,.0f} parties/s "
              f"(batch {batch_size})")
    finally:
        await close_database()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/bench_keys")
    args = parser.parse_args()
    asyncio.run(ensure_database(args.database))
    # Migrated by the real command in its own process: tortoise's migration runner replaces the process's ORM state.
    subprocess.run([sys.executable, "-m", "server", "migrate"], check=True, stdout=subprocess.DEVNULL, cwd=ROOT,
                   env={**os.environ, "YCT_DATABASE__URL": args.database, "YCT_HOME_PROVINCE": "45"})
    asyncio.run(run(args.database, args.rows, args.batch_size))


if __name__ == "__main__":
    main()

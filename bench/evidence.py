"""Evidence-chain verification time: python -m bench.evidence [--entries 100000] [--database-url URL].

Fills an empty evidence ledger with realistic signature entries, times GET /api/v1/evidence/verify's work
(services.signing.evidence.verify_chain) a few times, then removes the entries it added. By default it runs on a
fresh SQLite file; with --database-url (e.g. postgres://postgres@127.0.0.1:5432/bench) the database is migrated
and its ledger must be empty — the benchmark never touches a real ledger.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from server.config import load_settings
from server.db import close_database, migrate, open_database
from server.models.signing import EvidenceEntry
from server.services.signing import evidence

_BATCH = 5000


def _payload(seq: int, application_id: uuid.UUID) -> str:
    return evidence.canonical_json({
        "seq": seq, "kind": "signature", "recorded_at": "2026-11-23T06:00:00+00:00",
        "application_id": str(application_id), "request_id": str(uuid.uuid4()), "party_id": str(uuid.uuid4()),
        "signer": {"name": "张三", "role": "investor", "roles": ["investor"], "kind": "person",
                   "id_type": "resident_id", "id_number_masked": "4514**********1235", "id_number_index": "ab" * 32,
                   "credit_code": None, "origin": None},
        "method": "face", "flow": "cloud", "materials_version": 3, "snapshot_hash": "cd" * 32,
        "materials_hash": "cd" * 32, "server_time": "2026-11-23T06:00:00+00:00", "ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.47",
        "geolocation": {"latitude": 22.4, "longitude": 107.35, "accuracy": 30.0},
        "face_verification": {"id": str(uuid.uuid4()), "identify_time": 1763877600, "openid": "o" * 28,
                              "user_id_key": "k" * 16},
        "seal": None, "signature_image_sha256": "ef" * 32,
    })


async def _fill(count: int) -> None:
    prev = evidence.GENESIS
    application_ids = [uuid.uuid4() for _ in range(max(1, count // 4))]
    rows = []
    for seq in range(1, count + 1):
        application_id = application_ids[seq % len(application_ids)]
        payload = _payload(seq, application_id)
        digest = evidence.entry_hash(prev, payload)
        rows.append(EvidenceEntry(seq=seq, prev_hash=prev, payload=payload, entry_hash=digest,
                                  application_id=application_id))
        prev = digest
        if len(rows) == _BATCH:
            await EvidenceEntry.bulk_create(rows)
            rows = []
    if rows:
        await EvidenceEntry.bulk_create(rows)


async def run(entries: int, database_url: str | None, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite://{Path(tmp) / 'bench.sqlite3'}"
        settings = load_settings(environ={"YCT_MODE": "development"}, database={"url": url})
        await migrate(settings)
        await open_database(settings)
        try:
            if await EvidenceEntry.exists():
                raise SystemExit("the evidence ledger of this database is not empty; use an empty database")
            started = time.perf_counter()
            await _fill(entries)
            print(f"filled {entries:,} entries in {time.perf_counter() - started:.1f} s ({url.split('://')[0]})")
            timings = []
            for _ in range(rounds):
                started = time.perf_counter()
                result = await evidence.verify_chain()
                timings.append(time.perf_counter() - started)
                assert result["ok"] and result["entries"] == entries, result
            print(f"verify_chain over {entries:,} entries: best {min(timings):.3f} s, "
                  f"median {statistics.median(timings):.3f} s ({rounds} rounds; goal < 2 s)")
        finally:
            await EvidenceEntry.all().delete()
            await close_database()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.evidence", description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", help="an empty database (default: a fresh SQLite file)")
    args = parser.parse_args()
    asyncio.run(run(args.entries, args.database_url, args.rounds))


if __name__ == "__main__":
    main()

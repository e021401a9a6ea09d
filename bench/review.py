"""Throughput of the 待办 queue, GET /api/v1/review/queue, with 10,000 applications in the database (wrk).

    .venv/bin/python -m bench.review [--applications 10000] [--seconds 10] [--connections 32]

Runs on a fresh SQLite file with the in-process cache, or on PostgreSQL / Redis when YCT_DATABASE__URL /
YCT_CACHE__URL are set. The applications are spread over 崇左市's counties and the queue's states, a fifth of them
overdue and a tenth resubmissions; the reviewer is the city's, so every request reads the whole city's queue. Page 200
is reached by following `next_cursor` (keyset pagination: it costs what page 1 costs).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
from datetime import datetime, timedelta, timezone

import httpx

from bench.common import bare_server, our_server, print_table, wrk

COUNTIES = ["451402", "451421", "451422", "451423", "451424", "451425", "451481"]
STATUSES = ["cloud_review", "submitted", "accepted", "locked_signing", "returned", "approved"]
BUSINESS_TYPES = ["establish", "change", "deregister", "simple_deregister"]
PASSWORD = "bench-password-1"


async def fill(env: dict, count: int) -> None:
    from server.config import load_settings
    from server.db import close_database, open_database
    from server.models.accounts import Applicant
    from server.models.applications import Application, Party
    from server.services.accounts.staff import add_staff

    await open_database(load_settings(environ=env))
    try:
        await add_staff("bench-reviewer", PASSWORD, "reviewer", "451400")
        applicant = await Applicant.create(openid="bench-applicant", phone="13800138000")
        now = datetime.now(timezone.utc)
        rng = random.Random(7)
        for start in range(0, count, 1000):
            rows = []
            for index in range(start, min(start + 1000, count)):
                due = now + timedelta(minutes=rng.randint(-600, 4000)) if rng.random() > 0.2 else \
                    now - timedelta(hours=rng.randint(1, 72))
                rows.append(Application(
                    applicant_id=applicant.id, authority_id=COUNTIES[index % len(COUNTIES)],
                    business_type=BUSINESS_TYPES[index % len(BUSINESS_TYPES)], entity_type="llc",
                    name=f"崇左基准{index:05d}科技有限公司", status=STATUSES[index % len(STATUSES)], flow="cloud",
                    entity={"address": "崇左市江州区"}, resubmission=rng.random() < 0.1, submitted_at=now,
                    first_submitted_at=now, due_at=due))
            await Application.bulk_create(rows)
            await Party.bulk_create([
                Party(application_id=row.id, position=0, role="legal_rep", kind="person", name="李明",
                      id_type="resident_id", id_number="451402199003071235", phone="13800001111") for row in rows])
        if env["YCT_DATABASE__URL"].startswith("postgres"):
            # What autovacuum would do soon after a bulk load: the planner's estimates (the queue's total) need it.
            from tortoise import connections

            await connections.get("default").execute_script("ANALYZE application; ANALYZE party")
    finally:
        await close_database()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    load = {"seconds": args.seconds, "connections": args.connections}

    with bare_server() as bare, our_server() as (base, env):
        asyncio.run(fill(env, args.applications))
        token = httpx.post(base + "/api/v1/staff/login",
                           json={"username": "bench-reviewer", "password": PASSWORD}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        first = httpx.get(base + "/api/v1/review/queue", headers=auth).json()
        assert first["total"] > 0 and len(first["items"]) == 20, first
        page, cursor = first, None
        for _ in range(199):  # follow the cursor to page 200
            cursor = page["next_cursor"]
            page = httpx.get(base + "/api/v1/review/queue", params={"cursor": cursor}, headers=auth).json()
        assert len(page["items"]) == 20, page
        baseline = wrk(bare + "/bare", **load)
        default = wrk(base + "/api/v1/review/queue", headers=auth, **load)
        filtered = wrk(base + "/api/v1/review/queue?status=cloud_review&business_type=establish&authority=451402",
                       headers=auth, **load)
        deep = wrk(base + f"/api/v1/review/queue?cursor={cursor}", headers=auth, **load)

    print_table(f"待办 queue with {args.applications} applications ({first['total']} waiting; "
                f"{args.connections} connections, {args.seconds}s each, wrk)", [
        ("bare Sanic JSON route  GET /bare", baseline),
        ("GET /api/v1/review/queue  (page 1)", default),
        ("GET …/queue?status&business_type&authority", filtered),
        ("GET /api/v1/review/queue?cursor=… (page 200)", deep),
    ], baseline)
    print(json.dumps({"bare": baseline, "queue": default, "queue_filtered": filtered, "queue_page_200": deep}))


if __name__ == "__main__":
    main()

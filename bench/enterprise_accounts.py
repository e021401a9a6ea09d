"""Coverage of legal-person accounts (seed 001) with a city-sized registry: the per-authority share and the Friday table.

    .venv/bin/python -m bench.enterprise_accounts [--entities 100000] [--accounts 40000] [--requests 30]

Runs on a fresh SQLite file with the in-process cache, or on PostgreSQL / Redis when YCT_DATABASE__URL /
YCT_CACHE__URL are set. The entities are spread over 崇左市's counties; the accounts were approved over the last twelve
weeks, a twentieth of them since revoked. The city's staff asks, one request at a time, for the coverage of the city
(a row per county) and for the last twelve Fridays.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from datetime import datetime, timedelta, timezone

import httpx

from bench.common import our_server

COUNTIES = ["451402", "451421", "451422", "451423", "451424", "451425", "451481"]
PASSWORD = "bench-password-1"


async def fill(env: dict, entities: int, accounts: int) -> None:
    from server.config import load_settings
    from server.db import close_database, open_database
    from server.models.accounts import Applicant
    from server.models.enterprise_accounts import EnterpriseAccount
    from server.models.names import RegisteredEntity
    from server.services.accounts.staff import add_staff
    from server.services.applications.identifiers import new_credit_code

    await open_database(load_settings(environ=env))
    try:
        await add_staff("bench-coverage", PASSWORD, "helper", "451400")
        applicant = await Applicant.create(openid="bench-agent", phone="13900002222")
        now = datetime.now(timezone.utc)
        rng = random.Random(15)
        codes = []
        for start in range(0, entities, 2000):
            rows = []
            for index in range(start, min(start + 2000, entities)):
                county = COUNTIES[index % len(COUNTIES)]
                code = new_credit_code(county)
                codes.append((code, county, f"崇左基准{index:06d}科技有限公司"))
                rows.append(RegisteredEntity(credit_code=code, name=codes[-1][2], trade_name=f"基准{index:06d}",
                                             industry="科技", org_form="有限公司", authority_code=county,
                                             city_code="451400", entity_type="llc", status="registered"))
            await RegisteredEntity.bulk_create(rows)
        chosen = rng.sample(codes, min(accounts, len(codes)))
        for start in range(0, len(chosen), 2000):
            rows = []
            for code, county, name in chosen[start:start + 2000]:
                approved = now - timedelta(minutes=rng.randint(0, 12 * 7 * 24 * 60))
                revoked = approved + timedelta(days=3) if rng.random() < 0.05 else None
                rows.append(EnterpriseAccount(
                    applicant_id=applicant.id, authority_id=county, credit_code=code,
                    live_credit_code=None if revoked else code, entity_name=name, entity_type="llc",
                    registrant="agent", legal_rep_name="李明", legal_rep_id_type="resident_id",
                    legal_rep_id_number="451402199003071235", legal_rep_phone="13800001111", agent_name="王芳",
                    agent_id_type="resident_id", agent_id_number="451402199505052229", agent_phone="13900002222",
                    status="revoked" if revoked else "approved", submitted_at=approved, approved_at=approved,
                    decided_at=approved, revoked_at=revoked))
            await EnterpriseAccount.bulk_create(rows)
    finally:
        await close_database()


def timed(client: httpx.Client, url: str, params: dict, count: int) -> dict:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(url, params=params)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    times.sort()
    return {"p50": statistics.median(times), "p99": times[min(len(times) - 1, int(len(times) * 0.99))]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=40_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()

    with our_server() as (base, env):
        asyncio.run(fill(env, args.entities, args.accounts))
        token = httpx.post(base + "/api/v1/staff/login",
                           json={"username": "bench-coverage", "password": PASSWORD}).json()["token"]
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
            answer = client.get("/api/v1/stats/enterprise-accounts/coverage").json()
            coverage = timed(client, "/api/v1/stats/enterprise-accounts/coverage", {}, args.requests)
            today = datetime.now(timezone.utc).date()
            weeks = {"from": (today - timedelta(weeks=12)).isoformat(), "to": today.isoformat()}
            weekly = timed(client, "/api/v1/stats/enterprise-accounts/weekly", weeks, args.requests)
            health = timed(client, "/healthz", {}, args.requests)

    total = answer["total"]
    print(f"\ncoverage of {total['registered']} registered entities, {total['with_account']} with an approved account "
          f"(share {total['share']}), {len(answer['authorities'])} counties; {args.requests} requests one at a time")
    for name, result in (("coverage", coverage), ("weekly, 12 Fridays", weekly), ("/healthz", health)):
        print(f"{name:<24} p50 {result['p50']:8.1f} ms   p99 {result['p99']:8.1f} ms")


if __name__ == "__main__":
    main()

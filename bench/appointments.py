"""Help points: slot queries per second for a point with a month of booked slots, and bookings per second under
contention, each against a bare Sanic route in the same run.

    .venv/bin/python -m bench.appointments [--seconds 10] [--connections 32] [--applicants 2000]

Runs on a fresh SQLite file with the in-process cache, or on PostgreSQL / Redis when YCT_DATABASE__URL /
YCT_CACHE__URL are set. The point offers 30-minute slots of 3 places on the working days of the next 31 days;
a month of them are booked first. Then `--applicants` applicants book at once (`--connections` at a time), all
aiming at the same few slots, so most bookings meet a full slot (409): the figure is bookings decided per second.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

from bench.common import ROOT, bare_server, our_server, print_table, wrk

PASSWORD = "bench-password-42"


def admin_headers(base: str, env: dict) -> dict:
    subprocess.run([sys.executable, "-m", "server", "staff", "add", "bench-admin", "--role", "admin",
                    "--authority", "451400"], input=PASSWORD + "\n", text=True, env=env, cwd=ROOT, check=True,
                   capture_output=True)
    token = httpx.post(base + "/api/v1/staff/login", json={"username": "bench-admin", "password": PASSWORD}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


async def applicant_tokens(base: str, count: int, concurrency: int) -> list[dict]:
    gate = asyncio.Semaphore(concurrency)

    async def one(http: httpx.AsyncClient, index: int) -> dict:
        async with gate:
            code = (await http.post("/_mock/wx/code", json={"openid": f"bench-openid-{index}"})).json()["code"]
            token = (await http.post("/api/v1/mp/login", json={"code": code})).json()["token"]
            return {"Authorization": f"Bearer {token}"}

    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        return await asyncio.gather(*(one(http, index) for index in range(count)))


async def timed(requests: list, concurrency: int) -> tuple[float, dict[int, int]]:
    """Runs the request coroutines `concurrency` at a time; seconds taken and the count per status."""
    gate = asyncio.Semaphore(concurrency)
    statuses: dict[int, int] = {}

    async def one(make):
        async with gate:
            response = await make()
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(one(make) for make in requests))
    return time.perf_counter() - started, statuses


async def book_month(base: str, point: dict, slots: list[str], tokens: list[dict], concurrency: int):
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        return await timed([lambda h=tokens[i % len(tokens)], s=s: http.post("/api/v1/appointments", headers=h, json={
            "point_code": point["code"], "start": s, "business_type": "change"}) for i, s in enumerate(slots)],
            concurrency)


BOOKING_SCRIPT = """
tokens = {%s}
starts = {%s}
counter = 0
request = function()
  counter = counter + 1
  local body = '{"point_code": "%s", "business_type": "establish", "start": "' .. starts[counter %% #starts + 1] .. '"}'
  return wrk.format("POST", "/api/v1/appointments", {["Authorization"] = "Bearer " .. tokens[counter %% #tokens + 1],
                    ["Content-Type"] = "application/json"}, body)
end
"""


def booking_script(path: Path, point: dict, tokens: list[str], starts: list[str]) -> str:
    """A wrk script: every request books with the next applicant's token at one of the contested slots."""
    path.write_text(BOOKING_SCRIPT % (", ".join(f'"{token}"' for token in tokens),
                                      ", ".join(f'"{start}"' for start in starts), point["code"]))
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--applicants", type=int, default=2000)
    args = parser.parse_args()
    load = {"seconds": args.seconds, "connections": args.connections}
    extra = {"YCT_APPOINTMENTS__BOOKING_DAYS_AHEAD": "31", "YCT_AUTH__LOGIN_ATTEMPTS_PER_MINUTE": "1000000"}

    with bare_server() as bare, our_server(extra) as (base, env):
        with httpx.Client(base_url=base, headers=admin_headers(base, env), timeout=60) as http:
            point = http.post("/api/v1/admin/points", json={
                "name": "崇左市帮办网点(基准)", "type": "bank_branch", "authority_code": "451402",
                "slot_minutes": 30, "slot_capacity": 3}).json()
        days, slots = [], []
        for offset in range(1, 32):
            day = (date.today() + timedelta(days=offset)).isoformat()
            found = httpx.get(f"{base}/api/v1/points/{point['code']}/slots", params={"date": day}).json()
            if found:
                days.append(day)
                slots.extend(slot["start"] for slot in found)
        # A month of bookings: one applicant per slot and day (one booking per applicant and day).
        per_day = len(slots) // max(len(days), 1)
        month_tokens = asyncio.run(applicant_tokens(base, per_day, args.connections))
        month_seconds, month_statuses = asyncio.run(book_month(base, point, slots, month_tokens, args.connections))

        query = f"{base}/api/v1/points/{point['code']}/slots?date={days[len(days) // 2]}"
        baseline = wrk(bare + "/bare", **load)
        slot_query = wrk(query, **load)

        crowd = asyncio.run(applicant_tokens(base, args.applicants, args.connections))
        # Everyone aims at the first four slots of the last day (2 places left in each after the month's bookings);
        # an applicant asking again is refused too (one a day): every request is a booking decided under contention.
        target = [slot for slot in slots if slot.startswith(days[-1])][:4]
        with tempfile.TemporaryDirectory() as scratch:
            script = booking_script(Path(scratch) / "book.lua", point,
                                    [header["Authorization"][7:] for header in crowd], target)
            bare_again = wrk(bare + "/bare", **load)
            bookings = wrk(base + "/api/v1/appointments", script=script, **load)
        # wrk stops sending after its run; bookings still queued in the server (SQLite's writers waiting for the
        # lock) are served before this read, so the time it takes is the server's backlog after the contention.
        drained = time.perf_counter()
        with httpx.Client(base_url=base, timeout=600) as http:
            taken = [slot["capacity"] - slot["remaining"] for slot in http.get(
                f"/api/v1/points/{point['code']}/slots", params={"date": days[-1]}).json()[:4]]
        drained = time.perf_counter() - drained

    print(f"month of slots: {len(days)} days, {len(slots)} slots, booked in {month_seconds:.1f}s {month_statuses}")
    print_table(f"GET /api/v1/points/{{code}}/slots ({args.connections} connections, {args.seconds}s each, wrk)", [
        ("bare Sanic JSON route  GET /bare", baseline),
        ("slots of one day  GET …/slots?date=", slot_query),
    ], baseline)
    print_table(f"POST /api/v1/appointments, {args.applicants} applicants at 4 slots of 3 places "
                f"({args.connections} connections, {args.seconds}s each, wrk; non-2xx = refused bookings)", [
        ("bare Sanic JSON route  GET /bare", bare_again),
        ("bookings decided  POST /api/v1/appointments", bookings),
    ], bare_again)
    print(f"places taken in the 4 contested slots: {taken} (capacity 3 each); "
          f"the slot query after the run answered in {drained:.1f}s")
    print(json.dumps({"bare": baseline, "slots": slot_query, "slots_vs_bare": slot_query["rps"] / baseline["rps"],
                      "bare_again": bare_again, "bookings": bookings, "taken": taken, "month_slots": len(slots),
                      "drain_seconds": drained}))


if __name__ == "__main__":
    main()

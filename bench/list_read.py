"""The applicant's list in process: read afresh (after a change, or the first time) against answered from memory.

Run against the database `bench.hot` has filled (its applicant `bench-history` has HISTORY's five applications):

    YCT_MODE=development YCT_DATABASE__URL=postgres://…/bench_hot .venv/bin/python -m bench.list_read
"""
from __future__ import annotations

import asyncio
import time

from server.config import load_settings
from server.db import close_database, open_database

ROUNDS = 300


async def measure() -> None:
    from server.models.accounts import Applicant
    from server.services.applications import service

    await open_database(load_settings())
    try:
        applicant = await Applicant.get(openid="bench-history")
        for _ in range(20):  # warm: compiled queries, pools
            await service._read_list(applicant.id)
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(ROUNDS):
            rows, _ = await service._read_list(applicant.id)
        print(f"read afresh, {len(rows)} applications: {(time.perf_counter() - wall) / ROUNDS * 1e3:.2f} ms, "
              f"{(time.process_time() - cpu) / ROUNDS * 1e3:.2f} ms of CPU per list")
        await service.list_for_applicant(applicant.id)
        wall = time.perf_counter()
        for _ in range(ROUNDS * 100):
            await service.list_for_applicant(applicant.id)
        print(f"answered from memory: {(time.perf_counter() - wall) / ROUNDS / 100 * 1e6:.1f} µs per list")
    finally:
        await close_database()


if __name__ == "__main__":
    asyncio.run(measure())

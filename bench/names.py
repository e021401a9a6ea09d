"""自主核名 latency: POST /api/v1/names/check against a registry of 1,000,000 names on PostgreSQL.

    .venv/bin/python -m bench.names [--rows 1000000] [--requests 3000] [--seconds 10] [--connections 8]
                                    [--database postgres://postgres@127.0.0.1:5432/bench_names]

Creates the database if missing, builds the schema with the real migrations, fills the registry with COPY
(skipped when it already holds --rows names), then runs our server as a real process and measures
one request at a time (p50/p99 per request, as a phone sees it) and under load with wrk, beside a bare Sanic
route in the same run. The server loads the full vocabularies: every division of China, the GB/T 4754-2017
terms; a tenth of the registry rows carry investors and a tenth of the requests name one. Goal: p99 < 20 ms.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import asyncpg
import httpx

from bench.common import bare_server, our_server, print_table, wrk

TRADE_CHARS = ("云帆海川山岚林溪星辰明月华夏锦绣金鼎银河腾龙凤祥瑞安康泰和盛兴旺达通恒远宏伟博雅嘉禾润泽新源"
               "正信诚德宝丰汇聚天地人合美佳乐怡欣悦光辉晨曦春秋冬夏松竹梅兰青翠碧蓝紫红橙彩虹桥港湾岛峰岭谷"
               "泉湖江河溪涧波涛浪潮风雷雨雪霜露阳晴朗清澈灵秀雅致精品卓越优胜先锋领航启明开拓创新智慧聪颖")
INDUSTRIES = ("科技", "网络科技", "商贸", "贸易", "餐饮", "农业", "建筑工程", "物流", "文化传媒", "咨询", "食品", "医药",
              "机械设备", "房地产开发", "物业管理", "酒店管理", "旅游", "汽车服务", "装饰工程", "劳务", "稻谷种植",
              "软件开发", "科技服务", "地产", "花卉种植", "快递服务", "旅游文化传媒", "信息技术服务", "实业", "置业")
CITIES = ("450100", "450200", "450300", "450400", "450500", "450600", "450700", "450800", "450900", "451000",
          "451100", "451200", "451300", "451400")
LOAD_SCRIPT = """
local bodies = {}
for line in io.lines("%s") do bodies[#bodies + 1] = line end
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil, bodies[(counter %% #bodies) + 1])
end
"""


async def ensure_database(url: str) -> None:
    admin_url, name = url.rsplit("/", 1)
    conn = await asyncpg.connect(admin_url + "/postgres")
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def generated_rows(count: int, seed: int = 7):
    """Distinct (city, 字号, 行业) names with pinyin, as the registry stores them; every tenth lists an investor."""
    from pypinyin import lazy_pinyin

    from server.services.authorities import national_divisions

    city_names = {code: short for code, _, short in national_divisions()}
    stamp = datetime.now(timezone.utc)
    rng = random.Random(seed)
    pinyin = {char: lazy_pinyin(char)[0] for char in TRADE_CHARS}
    seen: set[tuple[str, str, str]] = set()
    serial = 0
    while serial < count:
        city = rng.choice(CITIES)
        trade = "".join(rng.choice(TRADE_CHARS) for _ in range(rng.choice((2, 2, 3, 3, 4))))
        industry = rng.choice(INDUSTRIES)
        if (city, trade, industry) in seen:
            continue
        seen.add((city, trade, industry))
        serial += 1
        name = f"{city_names[city]}{trade}{industry}有限公司"
        code = f"91{city}{serial:09d}X"[:18]
        investors = json.dumps([{"name": f"{city_names[city]}{trade}投资有限公司", "credit_code": None}],
                               ensure_ascii=False) if serial % 10 == 0 else None
        yield (code, name, trade, " ".join(pinyin[c] for c in trade), industry, "有限公司", city, city, "llc",
               "registered", None, investors, stamp)


async def fill_registry(url: str, rows: int) -> float:
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        existing = await conn.fetchval("SELECT count(*) FROM registered_entity")
        if existing >= rows:
            return 0.0
        started = time.monotonic()
        await conn.execute("TRUNCATE registered_entity")
        columns = ["credit_code", "name", "trade_name", "trade_pinyin", "industry", "org_form", "authority_code",
                   "city_code", "entity_type", "status", "status_date", "investors", "updated_at"]
        batch: list[tuple] = []
        for row in generated_rows(rows):
            batch.append(row)
            if len(batch) == 50_000:
                await conn.copy_records_to_table("registered_entity", records=batch, columns=columns)
                batch = []
        if batch:
            await conn.copy_records_to_table("registered_entity", records=batch, columns=columns)
        await conn.execute("ANALYZE registered_entity")
        return time.monotonic() - started
    finally:
        await conn.close()


def request_bodies(count: int, seed: int = 11) -> list[dict]:
    """Names in 崇左 (some written 崇左市江州区…), half with a 字号 likely registered already; every tenth names an
    enterprise investor, as a subsidiary's check does."""
    rng = random.Random(seed)
    bodies = []
    for index in range(count):
        trade = "".join(rng.choice(TRADE_CHARS) for _ in range(2 if index % 2 else 3))
        industry = rng.choice(INDUSTRIES)
        region = "崇左市江州区" if index % 3 == 0 else "崇左"
        body = {"name": f"{region}{trade}{industry}有限公司", "entity_type": "llc", "authority_code": "451402"}
        if index % 10 == 0:
            body["investors"] = [{"name": f"崇左{trade}科技有限公司"}]
        bodies.append(body)
    return bodies


def sequential_latency(base: str, bodies: list[dict], path: str = "/api/v1/names/check") -> dict:
    """One request at a time, as one phone sends them; the bare route is asked with GET as often."""
    timings = []
    conflicts = 0
    with httpx.Client(base_url=base, timeout=10) as client:
        def send(body):
            return client.post(path, json=body) if body is not None else client.get(path)

        for body in bodies[:50]:
            send(body)
        for body in bodies:
            started = time.perf_counter()
            response = send(body)
            timings.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            conflicts += bool(body is not None and response.json()["conflicts"])
    timings.sort()
    return {"requests": len(timings), "p50_ms": timings[len(timings) // 2],
            "p99_ms": timings[int(len(timings) * 0.99) - 1], "max_ms": timings[-1], "with_conflicts": conflicts}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/bench_names")
    args = parser.parse_args()

    asyncio.run(ensure_database(args.database))
    bodies = request_bodies(args.requests)
    with tempfile.TemporaryDirectory() as tmp:
        bodies_file = Path(tmp) / "bodies.txt"
        bodies_file.write_text("\n".join(json.dumps(body, ensure_ascii=False) for body in bodies), encoding="utf-8")
        script = Path(tmp) / "check.lua"
        script.write_text(LOAD_SCRIPT % bodies_file)
        with bare_server() as bare:
            bare_one_at_a_time = sequential_latency(bare, [None] * len(bodies), path="/bare")
            baseline = wrk(bare + "/bare", seconds=args.seconds, connections=args.connections)
        with our_server({"YCT_DATABASE__URL": args.database}) as (base, _):
            fill_seconds = asyncio.run(fill_registry(args.database, args.rows))
            print(f"registry: {args.rows:,} names" + (f" generated with COPY in {fill_seconds:.1f} s"
                                                      if fill_seconds else " (already there)"))
            one_at_a_time = sequential_latency(base, bodies)
            loaded = wrk(base + "/api/v1/names/check", script=str(script), seconds=args.seconds,
                         connections=args.connections)

    print(f"\nPOST /api/v1/names/check, one request at a time ({one_at_a_time['requests']} requests, "
          f"{one_at_a_time['with_conflicts']} with conflicts): p50 {one_at_a_time['p50_ms']:.2f} ms, "
          f"p99 {one_at_a_time['p99_ms']:.2f} ms, max {one_at_a_time['max_ms']:.2f} ms  (goal p99 < 20 ms); "
          f"bare route GET /bare: p50 {bare_one_at_a_time['p50_ms']:.2f} ms, p99 {bare_one_at_a_time['p99_ms']:.2f} ms")
    print_table(f"under load ({args.connections} connections, {args.seconds}s, wrk)",
                [("bare Sanic route  GET /bare", baseline), ("名称查重  POST /api/v1/names/check", loaded)], baseline)
    print(json.dumps({"sequential": one_at_a_time, "load": loaded, "bare_sequential": bare_one_at_a_time,
                      "bare": baseline}))


if __name__ == "__main__":
    main()

"""Every hot route beside a bare Sanic JSON route, in one run (wrk), on the database and cache configured.

    YCT_MODE=development YCT_DATABASE__URL=postgres://…/scratch YCT_CACHE__URL=redis://…/N \\
        .venv/bin/python -m bench.hot [--seconds 10] [--connections 32] [--applications 20000] [--routes queue …]

One server worker (`python -m server serve`, workers: 1) against the bare route, each loaded in turn with wrk:
GET /healthz, an applicant's GET /api/v1/applications, the public landing page GET /g/{code}, and the city
reviewer's 待办 queue with --applications filling the database (half of them wait: 10,000 by default, as issue 18
measures; page 1, and page 200 reached by following next_cursor). The PostgreSQL database must be a scratch one.
The figures that matter are the ratios to the bare route measured in the same run: the machine is shared, absolute
figures move with its load.
"""
from __future__ import annotations

import argparse
import asyncio
import json

import httpx

from bench.common import bare_server, our_server, print_table, wrk
from bench.guides import add_content, add_points, admin_headers
from bench.review import PASSWORD, fill

ROUTES = ("healthz", "applications", "landing", "queue")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--applications", type=int, default=20_000)
    parser.add_argument("--routes", nargs="+", choices=ROUTES, default=list(ROUTES),
                        help="the routes to load beside the bare one (default: all)")
    args = parser.parse_args()
    load = {"seconds": args.seconds, "connections": args.connections}

    with bare_server() as bare, our_server({"YCT_AUTH__LOGIN_ATTEMPTS_PER_MINUTE": "100000"}) as (base, env):
        code = httpx.post(base + "/_mock/wx/code", json={"openid": "bench-reader"}).json()["code"]
        applicant = {"Authorization": "Bearer " + httpx.post(base + "/api/v1/mp/login", json={"code": code}).json()["token"]}
        with httpx.Client(base_url=base, headers=admin_headers(base, env), timeout=30) as http:
            add_content(http)
            point = add_points(http, 1)[0]
        asyncio.run(fill(env, args.applications))
        token = httpx.post(base + "/api/v1/staff/login",
                           json={"username": "bench-reviewer", "password": PASSWORD}).json()["token"]
        reviewer = {"Authorization": f"Bearer {token}"}
        page = first = httpx.get(base + "/api/v1/review/queue", headers=reviewer).json()
        for _ in range(199):
            cursor = page["next_cursor"]
            page = httpx.get(base + "/api/v1/review/queue", params={"cursor": cursor}, headers=reviewer).json()
        assert len(page["items"]) == 20, "fewer than 200 pages: raise --applications"

        results = [("bare Sanic JSON route  GET /bare", wrk(bare + "/bare", **load))]
        if "healthz" in args.routes:
            results.append(("GET /healthz", wrk(base + "/healthz", **load)))
        if "applications" in args.routes:
            results.append(("applicant  GET /api/v1/applications", wrk(base + "/api/v1/applications",
                                                                       headers=applicant, **load)))
        if "landing" in args.routes:
            results.append(("landing page  GET /g/{code}", wrk(f"{base}/g/{point['code']}", **load)))
        if "queue" in args.routes:
            results.append(("待办 queue page 1  GET /api/v1/review/queue", wrk(base + "/api/v1/review/queue",
                                                                           headers=reviewer, **load)))
            results.append(("待办 queue page 200  …/queue?cursor=…",
                            wrk(f"{base}/api/v1/review/queue?cursor={cursor}", headers=reviewer, **load)))
        results.append(("bare Sanic JSON route again  GET /bare", wrk(bare + "/bare", **load)))

    baseline = results[0][1]
    print_table(f"hot routes, one worker ({first['total']} waiting, total_exact={first['total_exact']}; "
                f"{args.connections} connections, {args.seconds}s each, wrk)", results, baseline)
    print(json.dumps({name: {**result, "vs_bare": round(result["rps"] / baseline["rps"], 3)}
                      for name, result in results}, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""Every hot route beside a bare Sanic JSON route, in one run (wrk), on the database and cache configured.

    YCT_MODE=development YCT_DATABASE__URL=postgres://…/scratch YCT_CACHE__URL=redis://…/N \\
        .venv/bin/python -m bench.hot [--seconds 10] [--connections 32] [--applications 20000] [--repeat 3] \\
        [--routes landing …]

One server worker (`python -m server serve`, workers: 1) against the bare route, each loaded in turn with wrk:
GET /healthz, an applicant's GET /api/v1/applications (twice: an applicant with none, and one with five in
different states, named and with parties and an attachment, so the list's per-row work is measured too), the public landing page GET /g/{code}, and the city
reviewer's 待办 queue with --applications filling the database (half of them wait: 10,000 by default, as issue 18
measures; page 1, and page 200 reached by following next_cursor; filled only when the queue is among --routes). The PostgreSQL database must be a scratch one.
The figures that matter are the ratios to the bare route measured in the same run: the machine is shared, absolute
figures move with its load. Each route is compared with the bare runs just before and after it, and --repeat runs
the whole round again and reports the median ratio per route (one 6 s run is noise within a few percent of a goal).

Beside req/s, each run reads the CPU time the serving process used (/proc/<pid>/stat) and divides it by the requests
answered: "CPU vs bare" is the bare route's CPU time per request over the route's (1.00: as cheap as the bare route;
0.85: the route would reach 0.85 of the bare route's req/s were the server alone on its core). Other processes on the
machine take the server's core away and move req/s by tens of percent; they move CPU per request far less.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics

import httpx

from bench.common import bare_server, our_server, print_table, server_pid, wait_until_idle, wrk
from bench.guides import add_content, add_points, admin_headers
from bench.review import PASSWORD, fill

ROUTES = ("healthz", "applications", "landing", "queue")
# The applicant with a history: (business_type, status) of each of their applications.
HISTORY = [("establish", "draft"), ("establish", "returned"), ("change", "cloud_review"),
           ("establish", "approved"), ("simple_deregister", "withdrawn")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--applications", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of the whole side-by-side measurement; the median ratio per route is reported")
    parser.add_argument("--routes", nargs="+", choices=ROUTES, default=list(ROUTES),
                        help="the routes to load beside the bare one (default: all)")
    args = parser.parse_args()
    load = {"seconds": args.seconds, "connections": args.connections}

    with bare_server() as bare, our_server({"YCT_AUTH__LOGIN_ATTEMPTS_PER_MINUTE": "100000"}) as (base, env):
        applicant, with_history = (login_applicant(base, openid) for openid in ("bench-reader", "bench-history"))
        asyncio.run(give_history(env, "bench-history"))
        history = httpx.get(base + "/api/v1/applications", headers=with_history).json()
        assert len(history) == len(HISTORY)
        draft = next(row["id"] for row in history if row["status"] == "draft")
        with httpx.Client(base_url=base, headers=admin_headers(base, env), timeout=30) as http:
            add_content(http)
            point = add_points(http, 1)[0]
        reviewer, cursor, queued = {}, None, "no applications"
        if "queue" in args.routes:  # the other routes do not read the applications: no minutes filling them
            asyncio.run(fill(env, args.applications))
            token = httpx.post(base + "/api/v1/staff/login",
                               json={"username": "bench-reviewer", "password": PASSWORD}).json()["token"]
            reviewer = {"Authorization": f"Bearer {token}"}
            page = first = httpx.get(base + "/api/v1/review/queue", headers=reviewer).json()
            for _ in range(199):
                cursor = page["next_cursor"]
                page = httpx.get(base + "/api/v1/review/queue", params={"cursor": cursor}, headers=reviewer).json()
            assert len(page["items"]) == 20, "fewer than 200 pages: raise --applications"
            queued = f"{first['total']} waiting, total_exact={first['total_exact']}"

        routes = [(name, url, headers) for key, name, url, headers in [
            ("healthz", "GET /healthz", base + "/healthz", {}),
            ("applications", "applicant, none  GET /api/v1/applications", base + "/api/v1/applications",
             applicant),
            ("applications", f"applicant, {len(HISTORY)}  GET /api/v1/applications", base + "/api/v1/applications",
             with_history),
            ("applications", "applicant, one  GET /api/v1/applications/{id}", f"{base}/api/v1/applications/{draft}",
             with_history),
            ("landing", "landing page  GET /g/{code}", f"{base}/g/{point['code']}", {}),
            ("queue", "待办 queue page 1  GET /api/v1/review/queue", base + "/api/v1/review/queue", reviewer),
            ("queue", "待办 queue page 200  …/queue?cursor=…", f"{base}/api/v1/review/queue?cursor={cursor}",
             reviewer),
        ] if key in args.routes]
        pids = {"bare": server_pid(bare), "ours": server_pid(base)}
        for _, url, headers in [("bare", bare + "/bare", {}), *routes]:  # first requests fill caches, import code
            wrk(url, headers=headers, seconds=1, connections=args.connections)
        for pid in pids.values():
            wait_until_idle(pid)
        rounds = [measure_round(bare + "/bare", routes, load, pids) for _ in range(args.repeat)]

    title = f"hot routes, one worker ({queued}; {args.connections} connections, {args.seconds}s each, wrk)"
    for number, (bares, results) in enumerate(rounds, 1):
        rows = [("bare Sanic JSON route  GET /bare", bares[0]), *results,
                ("bare Sanic JSON route at the end", bares[-1])]
        print_table(f"{title}, round {number} of {args.repeat} (each vs the bare runs just before and after it)",
                    rows, ratios=[None, *(result["vs_bare"] for _, result in results), None],
                    cpu_ratios=[None, *(result["cpu_vs_bare"] for _, result in results), None])
    medians = {}
    for index, (name, _, _) in enumerate(routes):
        figures = {key: [results[index][1][key] for _, results in rounds]
                   for key in ("vs_bare", "rps", "cpu_vs_bare", "cpu_us")}
        medians[name] = {"median_vs_bare": round(statistics.median(figures["vs_bare"]), 3),
                         "median_cpu_vs_bare": round(statistics.median(figures["cpu_vs_bare"]), 3), **figures}
    medians["bare Sanic JSON route  GET /bare"] = {key: [result[key] for bares, _ in rounds for result in bares]
                                                   for key in ("rps", "cpu_us")}
    print(f"\nmedian ratio to the bare route over {args.repeat} round(s), req/s and CPU time per request:")
    for name, figures in medians.items():
        if "median_vs_bare" in figures:
            print(f"  {name:<44}req/s {figures['median_vs_bare']:.2f} (each round: "
                  f"{', '.join(f'{ratio:.2f}' for ratio in figures['vs_bare'])});  CPU "
                  f"{figures['median_cpu_vs_bare']:.2f} (each round: "
                  f"{', '.join(f'{ratio:.2f}' for ratio in figures['cpu_vs_bare'])}; µs per request: "
                  f"{', '.join(f'{us:.0f}' for us in figures['cpu_us'])})")
    bare_us = medians["bare Sanic JSON route  GET /bare"]["cpu_us"]
    print(f"  {'bare route, CPU µs per request':<44}{', '.join(f'{us:.0f}' for us in bare_us)}")
    print(json.dumps(medians, ensure_ascii=False))


def login_applicant(base: str, openid: str) -> dict:
    code = httpx.post(base + "/_mock/wx/code", json={"openid": openid}).json()["code"]
    return {"Authorization": "Bearer " + httpx.post(base + "/api/v1/mp/login", json={"code": code}).json()["token"]}


async def give_history(env: dict, openid: str) -> None:
    """HISTORY's applications for the applicant `openid`, each with two parties and one attachment."""
    from server.config import load_settings
    from server.db import close_database, open_database
    from server.models.accounts import Applicant
    from server.models.applications import Application, Attachment, Party

    await open_database(load_settings(environ=env))
    try:
        applicant = await Applicant.get(openid=openid)
        for index, (business_type, status) in enumerate(HISTORY):
            application = await Application.create(
                applicant_id=applicant.id, authority_id="451402", business_type=business_type, entity_type="llc",
                name=f"崇左读者{index}科技有限公司", status=status, flow="cloud",
                entity={"address": "崇左市江州区新民路1号", "registered_capital": "100"})
            await Party.create(application_id=application.id, position=0, role="legal_rep", kind="person",
                               name="李明", id_type="resident_id", id_number="451402199003071235",
                               phone="13800001111")
            await Party.create(application_id=application.id, position=1, role="investor", kind="person",
                               name="王芳", id_type="resident_id", id_number="451402199105082346",
                               phone="13800002222", share_percent="100")
            await Attachment.create(application_id=application.id, kind="lease", filename="租赁合同.pdf",
                                    content_type="application/pdf", size=1, sha256="0" * 64,
                                    storage_path=f"bench/{application.id}.pdf")
    finally:
        await close_database()


def measure_round(bare_url: str, routes: list[tuple[str, str, dict]], load: dict,
                  pids: dict[str, int]) -> tuple[list[dict], list]:
    """The bare route, then each route followed by the bare route again: every route is compared with the bare
    runs just before and after it, so the machine's drift (other sessions' load) hits both sides of its ratio."""
    bares = [wrk(bare_url, pid=pids["bare"], **load)]
    results = []
    for name, url, headers in routes:
        results.append((name, wrk(url, headers=headers, pid=pids["ours"], **load)))
        bares.append(wrk(bare_url, pid=pids["bare"], **load))
    for (_, result), before, after in zip(results, bares, bares[1:]):
        result["vs_bare"] = vs_bare(result, before, after)
        result["cpu_vs_bare"] = round((before["cpu_us"] + after["cpu_us"]) / 2 / result["cpu_us"], 3)
    return bares, results


def vs_bare(result: dict, before: dict, after: dict) -> float:
    return round(result["rps"] / ((before["rps"] + after["rps"]) / 2), 3)

if __name__ == "__main__":
    main()

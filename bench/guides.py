"""码上导办: the QR landing page against a bare Sanic JSON route in the same run, and posters per second.

    .venv/bin/python -m bench.guides [--seconds 10] [--connections 32] [--points 1000]

Runs on a fresh SQLite file with the in-process cache, or on PostgreSQL / Redis when YCT_DATABASE__URL /
YCT_CACHE__URL are set. Goals: GET /g/{code} at least 70% of the bare route's requests per second (every
request counts a scan); posters for --points service points through `python -m server posters`.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import httpx

from bench.common import ROOT, bare_server, our_server, print_table, wrk

PASSWORD = "bench-password-42"


def admin_headers(base: str, env: dict) -> dict:
    subprocess.run([sys.executable, "-m", "server", "staff", "add", "bench-admin", "--role", "admin",
                    "--authority", "451400"], input=PASSWORD + "\n", text=True, env=env, cwd=ROOT, check=True,
                   capture_output=True)
    token = httpx.post(base + "/api/v1/staff/login", json={"username": "bench-admin", "password": PASSWORD}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def add_content(http: httpx.Client) -> None:
    for kind, title, extra in [
        ("video", "设立登记网上操作演示", {"external_url": "https://v.example.cn/establish"}),
        ("video", "简易注销网上操作演示", {"external_url": "https://v.example.cn/deregister"}),
        ("guide", "个体工商户设立办事指南", {"body": "申请人只需携带身份证，通过实名认证，由帮办人员全程帮办代办。"}),
    ]:
        http.post("/api/v1/admin/guides", json={"kind": kind, "title": title, "authority_code": "451400", **extra}
                  ).raise_for_status()


def add_points(http: httpx.Client, count: int) -> list[dict]:
    points = []
    for index in range(count):
        response = http.post("/api/v1/admin/points", json={
            "name": f"崇左市帮办网点{index + 1:04d}", "type": "bank_branch", "authority_code": "451402",
            "address": f"崇左市江州区友谊大道{index + 1}号", "hotline": "0771-7831234",
            "opening_hours": "周一至周五 9:00-17:00", "has_sign": True, "has_staff": True})
        response.raise_for_status()
        points.append(response.json())
    return points


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--points", type=int, default=1000, help="service points whose posters are made")
    args = parser.parse_args()
    load = {"seconds": args.seconds, "connections": args.connections}

    with bare_server() as bare, our_server() as (base, env):
        with httpx.Client(base_url=base, headers=admin_headers(base, env), timeout=30) as http:
            add_content(http)
            point = add_points(http, 1)[0]
            landing_url = f"{base}/g/{point['code']}"
            assert httpx.get(landing_url).status_code == 200

            baseline = wrk(bare + "/bare", **load)
            landing = wrk(landing_url, **load)
            scans = http.get(f"/api/v1/admin/points/{point['id']}/scans").json()["total_scans"]

            add_points(http, args.points - 1)
        started = time.perf_counter()
        made = subprocess.run([sys.executable, "-m", "server", "posters"], env=env, cwd=ROOT, check=True,
                              capture_output=True, text=True)
        seconds = time.perf_counter() - started

    print_table(f"码上导办 landing page ({args.connections} connections, {args.seconds}s each, wrk)", [
        ("bare Sanic JSON route  GET /bare", baseline),
        ("QR landing page  GET /g/{code}", landing),
    ], baseline)
    print(f"scans counted during the run: {scans}")
    print(f"\nposters: {args.points} service points in {seconds:.1f}s = {args.points / seconds:.2f} posters/s "
          f"(QR PNG+SVG, A4 PNG+PDF each; `python -m server posters`, process start included)")
    print(made.stdout.strip().splitlines()[-1])
    print(json.dumps({"bare": baseline, "landing": landing, "landing_vs_bare": landing["rps"] / baseline["rps"],
                      "scans_counted": scans, "posters": args.points, "poster_seconds": seconds,
                      "posters_per_second": args.points / seconds}))


if __name__ == "__main__":
    main()

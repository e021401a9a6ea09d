"""Login and authenticated reads against a bare Sanic JSON route, measured in the same run with wrk.

    .venv/bin/python -m bench.http [--seconds 10] [--connections 32]

Runs on a fresh SQLite file with the in-process cache, or on PostgreSQL / Redis when YCT_DATABASE__URL /
YCT_CACHE__URL are set. Goal: authenticated reads at least half the bare route's throughput.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import httpx

from bench.common import bare_server, our_server, print_table, wrk

LOGIN_SCRIPT = """
local codes = {}
for line in io.lines("%s") do codes[#codes + 1] = line end
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil, '{"code":"' .. codes[(counter %% #codes) + 1] .. '"}')
end
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    load = {"seconds": args.seconds, "connections": args.connections}

    with bare_server() as bare, our_server({"YCT_AUTH__LOGIN_ATTEMPTS_PER_MINUTE": "100000000"}) as (base, _):
        code = httpx.post(base + "/_mock/wx/code", json={"openid": "bench-reader"}).json()["code"]
        token = httpx.post(base + "/api/v1/mp/login", json={"code": code}).json()["token"]
        codes = httpx.post(base + "/_mock/wx/code", json={"openid": "bench-login", "count": 100_000},
                           timeout=120).json()["codes"]
        with tempfile.TemporaryDirectory() as tmp:
            codes_file = Path(tmp) / "codes.txt"
            codes_file.write_text("\n".join(codes))
            script = Path(tmp) / "login.lua"
            script.write_text(LOGIN_SCRIPT % codes_file)

            baseline = wrk(bare + "/bare", **load)
            reads = wrk(base + "/api/v1/applications", headers={"Authorization": f"Bearer {token}"}, **load)
            logins = wrk(base + "/api/v1/mp/login", script=str(script), **load)

    print_table(f"HTTP benchmark ({args.connections} connections, {args.seconds}s each, wrk)", [
        ("bare Sanic JSON route  GET /bare", baseline),
        ("authenticated read  GET /api/v1/applications", reads),
        ("WeChat login  POST /api/v1/mp/login", logins),
    ], baseline)
    print(json.dumps({"bare": baseline, "applications": reads, "login": logins}))


if __name__ == "__main__":
    main()

"""Posters: `python -m server posters` for --points service points over several authorities, timed end to end.

    .venv/bin/python -m bench.posters [--points 1000]

Runs on a fresh SQLite file (or YCT_DATABASE__URL, a scratch database) with files under a temporary directory (or
YCT_STORAGE__URL). Each point gets QR PNG + SVG and an A4 PNG + PDF; goal: 1,000 posters in under 60 s.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT
from server.config import load_settings
from server.db import close_database, migrate, open_database
from server.models.guides import ServicePoint
from server.services.authorities import load_divisions

COUNTIES = ("451402", "451421", "451422", "451423", "451424", "451425", "451481")


async def add_points(environ: dict, count: int) -> None:
    settings = load_settings(environ=environ)
    await migrate(settings)
    await open_database(settings)
    try:
        await load_divisions(settings.home_province)
        await ServicePoint.all().delete()
        await ServicePoint.bulk_create([ServicePoint(
            code=f"B{index:07d}", name=f"崇左市帮办网点{index + 1:04d}", type="bank_branch",
            authority_id=COUNTIES[index % len(COUNTIES)], address=f"崇左市江州区友谊大道{index + 1}号",
            hotline="0771-7831234", opening_hours="周一至周五 9:00-17:00") for index in range(count)], batch_size=500)
    finally:
        await close_database()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.posters", description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1000)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp())
    environ = {**os.environ, "YCT_QRCODE_DIR": str(scratch / "qrcodes"), "YCT_CACHE__URL": "memory://"}
    environ.setdefault("YCT_DATABASE__URL", f"sqlite://{scratch / 'bench.sqlite3'}")
    asyncio.run(add_points(environ, args.points))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "server", "posters"], env=environ, cwd=ROOT, check=True, capture_output=True)
    seconds = time.perf_counter() - started
    print(f"posters: {args.points} service points over {len(COUNTIES)} authorities in {seconds:.1f} s = "
          f"{args.points / seconds:.2f} posters/s (QR PNG+SVG, A4 PNG+PDF each; `python -m server posters`, "
          f"{os.cpu_count()} render processes, process start included; load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()

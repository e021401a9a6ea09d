"""Shared benchmark plumbing: run our server and a bare Sanic route as real processes, load them with wrk."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
# base URL -> the process serving it (`python -m server serve` with one worker serves in its own process)
_pids: dict[str, int] = {}


def server_pid(base: str) -> int:
    return _pids[base]


def cpu_seconds(pid: int) -> float:
    """The user + system CPU time a process (all its threads) has used so far, from /proc/<pid>/stat."""
    # Fields 14 and 15 (utime, stime, in clock ticks); the command name before them may contain spaces.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_wrk() -> str:
    wrk = shutil.which("wrk")
    if not wrk:
        sys.exit("the benchmarks load the server with wrk: apt-get install -y wrk")
    return wrk


def wait_until_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def wait_until_idle(pid: int, timeout: float = 180) -> None:
    """Until the process uses under 5 % of a core for a second: what it starts in the background (the document
    font, the development certificate) would otherwise count as the first route's CPU time per request."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(1)
        if cpu_seconds(pid) - before < 0.05:
            return
    raise RuntimeError(f"process {pid} was still busy after {timeout:.0f} s")


@contextmanager
def our_server(extra_env: dict[str, str] | None = None):
    """`python -m server serve` on a fresh SQLite file, or on YCT_DATABASE__URL / YCT_CACHE__URL when set."""
    workdir = Path(tempfile.mkdtemp(prefix="yct-bench-"))
    port = free_port()
    env = {**os.environ, "YCT_SERVER__PORT": str(port), "YCT_UPLOADS__DIR": str(workdir / "uploads"),
           "YCT_QRCODE_DIR": str(workdir / "qrcodes"), **(extra_env or {})}
    env.setdefault("YCT_DATABASE__URL", f"sqlite://{workdir / 'bench.sqlite3'}")
    subprocess.run([sys.executable, "-m", "server", "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
    log = open(workdir / "server.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "server", "serve"], env=env, cwd=ROOT, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    _pids[base] = process.pid
    try:
        wait_until_up(base + "/healthz", timeout=180)  # a shared machine under load starts slowly
        yield base, env
    finally:
        _pids.pop(base, None)
        process.terminate()
        process.wait(timeout=30)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def bare_server():
    port = free_port()
    code = ("from server.app import create_bare_app; "
            f"create_bare_app().run(host='127.0.0.1', port={port}, single_process=True, access_log=False, motd=False)")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    _pids[base] = process.pid
    try:
        wait_until_up(base + "/bare")
        yield base
    finally:
        _pids.pop(base, None)
        process.terminate()
        process.wait(timeout=30)


def wrk(url: str, *, seconds: int = 10, connections: int = 32, threads: int = 1, headers: dict | None = None,
        script: str | None = None, pid: int | None = None) -> dict:
    """Requests per second and latency percentiles (ms) as wrk measured them; with the server's pid, also the CPU
    time the server used per request answered (µs): other processes on the machine slow the server down and so
    move req/s, but barely change what one request costs it."""
    args = [require_wrk(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for key, value in (headers or {}).items():
        args += ["-H", f"{key}: {value}"]
    if script:
        args += ["-s", script]
    cpu_before = cpu_seconds(pid) if pid else None
    output = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    cpu_used = cpu_seconds(pid) - cpu_before if pid else None
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    percentiles = {p: _ms(re.search(rf"\s{p}%\s+([\d.]+\w+)", output).group(1)) for p in ("50", "99")}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result = {"rps": rps, "p50_ms": percentiles["50"], "p99_ms": percentiles["99"],
              "non_2xx": int(errors.group(1)) if errors else 0}
    if pid:
        result["cpu_us"] = round(cpu_used / requests * 1e6, 1)
    return result


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def print_table(title: str, rows: list[tuple[str, dict]], baseline: dict | None = None,
                ratios: list[float | None] | None = None, cpu_ratios: list[float | None] | None = None) -> None:
    """ratios: each row's ratio to the bare route as the caller computed it, instead of rps / baseline's;
    cpu_ratios: the bare route's CPU time per request over the row's, shown with the rows' CPU µs per request."""
    print(f"\n{title}")
    cpu_header = f"{'CPU µs/req':>12}{'CPU vs bare':>13}" if cpu_ratios is not None else ""
    print(f"{'target':<44}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>9}{'vs bare':>9}{cpu_header}")
    for index, (name, result) in enumerate(rows):
        if ratios is not None:
            ratio = "" if ratios[index] is None else f"{ratios[index]:.2f}"
        else:
            ratio = f"{result['rps'] / baseline['rps']:.2f}" if baseline else ""
        cpu = ""
        if cpu_ratios is not None:
            cpu_ratio = "" if cpu_ratios[index] is None else f"{cpu_ratios[index]:.2f}"
            cpu = f"{result.get('cpu_us', float('nan')):>12.1f}{cpu_ratio:>13}"
        print(f"{name:<44}{result['rps']:>10.0f}{result['p50_ms']:>10.2f}{result['p99_ms']:>10.2f}"
              f"{result['non_2xx']:>9}{ratio:>9}{cpu}")

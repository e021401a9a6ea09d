"""Stopping `python -m server serve` and `worker`: a SIGTERM at any moment after start stops them, and nothing they
started keeps them.

Real processes and real signals; the children use the test database and cache, with the outbox sender off.
"""
from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import socket
import sys
from pathlib import Path

import httpx

from tests.conftest import serve_in_child

ROOT = Path(__file__).resolve().parent.parent
GUARD_SECONDS = 120


def child_env(server, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "YCT_DATABASE__URL": server.settings.database.url,
            "YCT_CACHE__URL": server.settings.cache.url, "YCT_OUTBOX__ENABLED": "false",
            "YCT_SERVER__PORT": str(server.settings.server.port + 1), **extra}


async def _ended(process, log: Path) -> int:
    """The child's exit status once it ended (within the guard), else a failure with its log."""
    try:
        return await asyncio.wait_for(process.wait(), GUARD_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"still running {GUARD_SECONDS} s after SIGTERM: {log.read_text()[-3000:]}") from None


async def _serve_signalled_from(listener: str, server, tmp_path) -> tuple[int, Path]:
    """`python -m tests.serve_child LISTENER` (SIGTERM sent from inside that listener): its exit status and log."""
    from tests.conftest import free_port

    log = tmp_path / "serve.log"
    with log.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.serve_child", listener, cwd=ROOT,
            env=child_env(server, tmp_path, YCT_SERVER__PORT=str(free_port())),
            stdout=asyncio.subprocess.DEVNULL, stderr=stderr)
    return await _ended(process, log), log


async def test_sigterm_during_start_up_listeners_stops_the_server_once_it_serves(server, tmp_path):
    # Sent from an after_server_start listener: Sanic's handler is in place, and its stop of the event loop used to
    # be consumed by the loop run that awaits those listeners, so the server served on and never stopped.
    status, log = await _serve_signalled_from("after_server_start", server, tmp_path)
    assert status == 0, log.read_text()[-3000:]
    assert "Server Stopped" in log.read_text()


async def test_sigterm_while_still_starting_ends_the_process_at_once(server, tmp_path):
    status, log = await _serve_signalled_from("before_server_start", server, tmp_path)
    assert status == -signal.SIGTERM, log.read_text()[-3000:]


def _build_under_way(cache_dir: Path) -> bool:
    """Whether some process holds the font cache's build lock (fonts.py) now."""
    lock_file = cache_dir / ".build.lock"
    if not lock_file.exists():
        return False
    with lock_file.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
        return False


async def test_stop_abandons_the_document_font_build_instead_of_waiting_for_it(server, tmp_path):
    # A fresh machine: the font cache is empty, so the server starts building the font (tens of seconds).
    fonts = tmp_path / "fonts"
    log = tmp_path / "serve.log"
    process, base_url = await serve_in_child(child_env(server, tmp_path, YCT_DOCUMENTS__FONT_CACHE_DIR=str(fonts)),
                                             log)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GUARD_SECONDS
        while not _build_under_way(fonts) and not list(fonts.glob("*.ttf")) and loop.time() < deadline:
            await asyncio.sleep(0.05)
        assert _build_under_way(fonts), f"no font build under way: {sorted(p.name for p in fonts.glob('*'))}"
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
            assert (await http.get("/healthz")).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert await _ended(process, log) == 0, log.read_text()[-3000:]
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    # The server did not wait for the build: the font was never finished, no process builds it any more, and the
    # half-written file went with the build.
    assert not _build_under_way(fonts)
    assert sorted(path.name for path in fonts.iterdir()) == [".build.lock"]


def _catches_sigterm(pid: int) -> bool:
    """Whether the process has a handler for SIGTERM now (its SigCgt mask in /proc)."""
    status = dict(line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                  if ":\t" in line)
    return bool(int(status["SigCgt"], 16) & (1 << (signal.SIGTERM - 1)))


async def test_worker_stops_on_sigterm_while_its_database_does_not_answer(tmp_path):
    # A database that takes the connection and never answers: the start waits on it for the driver's timeout
    # (a minute), and a SIGTERM meanwhile used to wait as long and then end in that timeout's traceback.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        env = {**os.environ, "YCT_DATABASE__URL": f"postgres://postgres@127.0.0.1:{silent.getsockname()[1]}/yct"}
        worker = await asyncio.create_subprocess_exec(sys.executable, "-m", "server", "worker", cwd=ROOT, env=env,
                                                      stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + GUARD_SECONDS
            while worker.returncode is None and not _catches_sigterm(worker.pid) and loop.time() < deadline:
                await asyncio.sleep(0.01)
            assert worker.returncode is None and _catches_sigterm(worker.pid), "the worker never got to its start"
            worker.send_signal(signal.SIGTERM)
            stdout, stderr = await asyncio.wait_for(worker.communicate(), GUARD_SECONDS)
        finally:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()
    finally:
        silent.close()
    assert worker.returncode == 0, stderr.decode()[-3000:]
    assert "outbox worker stopped before it started" in stdout.decode()

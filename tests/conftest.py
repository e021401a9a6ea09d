"""The test harness: our real server on a real port in the test's event loop, on a real database and cache.

The database comes from YCT_DATABASE__URL (PostgreSQL in CI) or a fresh SQLite file; the cache from
YCT_CACHE__URL (Redis in CI) or the in-process backend; files from YCT_STORAGE__URL (s3://bucket: moto's S3 server,
started here when YCT_STORAGE__ENDPOINT_URL is not set) or temporary directories. Every test starts from empty tables.
"""
from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from tortoise import Tortoise, connections

from server import clock as server_clock
from server.app import create_app
from server.cache import MemoryCache, RedisCache, invalidation
from server.config import Settings, load_settings
from server.db import is_postgres, migrate
from server.services.authorities import load_divisions
from server.services.guides import scans

KEEP_TABLES = {"authority"}
# The tests run the development stand-ins; child processes (python -m server …) inherit this.
os.environ["YCT_MODE"] = "development"


def free_port() -> int:
    """A port free now, for a server in another process. Between this and the child's own bind another process may
    take it: start such a child with serve_in_child below, which tries another port then."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def serve_in_child(env: dict, log: Path, attempts: int = 5, seconds: float = 120):
    """`python -m server serve` in a child process on a free port, once it answers /healthz: (process, base URL).

    The child binds the port itself, so another process may have taken it since free_port chose it: the child then
    exits (address in use) and another port is tried. Its stderr goes to `log` (a pipe nobody reads would fill)."""
    root = Path(__file__).resolve().parent.parent
    for _ in range(attempts):
        port = free_port()
        with log.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "server", "serve", cwd=root, env={**env, "YCT_SERVER__PORT": str(port)},
                stdout=asyncio.subprocess.DEVNULL, stderr=stderr)
        base_url = f"http://127.0.0.1:{port}"
        deadline = asyncio.get_running_loop().time() + seconds
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
            while process.returncode is None and asyncio.get_running_loop().time() < deadline:
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        return process, base_url
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        if process.returncode is None:
            process.kill()
            await process.wait()
            raise AssertionError(f"the server did not answer in {seconds} s: {log.read_text()}")
        if "address already in use" not in log.read_text().lower():
            raise AssertionError(log.read_text())
    raise AssertionError(f"no free port in {attempts} attempts")


def held_socket() -> socket.socket:
    """A socket bound to a free port and held until a server in this process listens on it: nothing else can take
    the port in between (as it could with a port chosen first and bound later). Unlistened, it refuses connections."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


def start_moto() -> str:
    """moto's S3 server as a real HTTP server on a free port (what S3 tests talk to); returns its URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False).start()
    return f"http://127.0.0.1:{port}"


def create_bucket(endpoint: str, bucket: str) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                          region_name="us-east-1")
    client.create_bucket(Bucket=bucket)


def _files_on_s3() -> None:
    """YCT_STORAGE__URL=s3://bucket without an endpoint: run the suite's files on a moto server started here (the
    variables go into os.environ, so the server commands the tests start use the same bucket)."""
    url = os.environ.get("YCT_STORAGE__URL", "")
    if not url.startswith("s3://") or os.environ.get("YCT_STORAGE__ENDPOINT_URL"):
        return
    endpoint = start_moto()
    os.environ.update({"YCT_STORAGE__ENDPOINT_URL": endpoint, "YCT_STORAGE__ACCESS_KEY_ID": "testing",
                       "YCT_STORAGE__SECRET_ACCESS_KEY": "testing", "YCT_STORAGE__REGION": "us-east-1"})
    create_bucket(endpoint, url[len("s3://"):].split("/", 1)[0])


def make_test_settings(tmp: Path, port: int = 0, **overrides) -> Settings:
    """Settings for a server on `port` (the port of a held_socket, or 0 for settings no server here listens with)."""
    environ = {key: value for key, value in os.environ.items() if key.startswith("YCT_")}
    environ.setdefault("YCT_DATABASE__URL", f"sqlite://{tmp / 'test.sqlite3'}")
    environ.setdefault("YCT_CACHE__URL", "memory://")
    base = {
        "mode": "development",
        "server": {"host": "127.0.0.1", "port": port},
        "uploads": {"dir": str(tmp / "uploads")},
        "signing": {"evidence_dir": str(tmp / "evidence")},
        # Signed PDFs carry RFC 3161 timestamps from the stand-in TSA over real HTTP (PAdES B-T).
        "documents": {"dev_certificate_dir": str(tmp / "platform-certificate"), "mount_mock_tsa": True,
                      "tsa_url": f"http://127.0.0.1:{port}/_mock/tsa"},
        "qrcode_dir": str(tmp / "qrcodes"),
        # Tests call statistics.weekly.generate_due themselves, with the clock where they want it.
        "statistics": {"weekly_report_enabled": False},
        "public_base_url": "",
    }
    base.update(overrides)
    return load_settings(environ=environ, **base)


async def reset_database(settings: Settings) -> None:
    """Drop everything so the real migrations build the schema from nothing."""
    if is_postgres(settings):
        import asyncpg

        url = settings.database.url.replace("postgres://", "postgresql://", 1)
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        finally:
            await conn.close()
    else:
        path = Path(settings.database.url[len("sqlite://"):])
        path.unlink(missing_ok=True)


@dataclasses.dataclass
class RunningServer:
    app: object
    settings: Settings
    base_url: str

    @property
    def wx(self):
        return self.app.ctx.wx_state


@pytest.fixture(scope="session")
def server_socket():
    sock = held_socket()
    yield sock
    sock.close()


@pytest.fixture(scope="session")
def settings(tmp_path_factory, server_socket) -> Settings:
    _files_on_s3()
    return make_test_settings(tmp_path_factory.mktemp("yct"), server_socket.getsockname()[1])


@pytest.fixture(scope="session")
async def server(settings, server_socket):
    await reset_database(settings)
    await migrate(settings)
    app = create_app(settings, name="yct_test")
    srv = await app.create_server(sock=server_socket, return_asyncio_server=True, access_log=False)
    await srv.startup()
    await srv.before_start()
    await srv.after_start()
    await load_divisions(settings.home_province)
    yield RunningServer(app, settings, f"http://127.0.0.1:{settings.server.port}")
    await srv.before_stop()
    await srv.close()
    await srv.after_stop()


async def _empty_tables(settings: Settings) -> None:
    conn = connections.get("default")
    tables = [model._meta.db_table for model in Tortoise.apps["yct"].values()
              if model._meta.db_table not in KEEP_TABLES]
    if is_postgres(settings):
        # DELETE, not TRUNCATE: TRUNCATE gives every table and index a new file (about a second for all tables here,
        # most of the suite's time), DELETE of the few rows a test wrote takes milliseconds. Foreign keys are not
        # checked meanwhile (replica role), so the order does not matter; the tables' sequences restart as
        # RESTART IDENTITY did.
        names = ", ".join(f"'{table}'" for table in tables)
        await conn.execute_script(
            "BEGIN; SET LOCAL session_replication_role = replica; "
            + " ".join(f'DELETE FROM "{table}";' for table in tables)
            + " SELECT setval(sequence.oid, 1, false) FROM pg_class sequence"
              " JOIN pg_depend owner ON owner.objid = sequence.oid AND owner.deptype IN ('a', 'i')"
              f" JOIN pg_class owned ON owned.oid = owner.refobjid WHERE sequence.relkind = 'S' AND owned.relname IN ({names});"
            " COMMIT;")
    else:
        await conn.execute_script("PRAGMA foreign_keys = OFF; " + " ".join(f"DELETE FROM {t};" for t in tables)
                                  + " PRAGMA foreign_keys = ON;")


@pytest.fixture(autouse=True)
async def clean_state(server):
    # Scans the last test counted in the worker's memory go to its rows before they are deleted, not to the next
    # test's point of the same id (the counters outlive a test; ids restart with the emptied tables).
    await scans.flush(server.app.ctx.cache)
    # The server's outbox sender finishes its round first: its writes (a sent message recorded, the SMS sink's row)
    # and the DELETEs below take row locks in opposite orders, and PostgreSQL ended one such pair as a deadlock.
    outbox = server.app.ctx.outbox
    sending = outbox._task is not None
    await outbox.stop()
    await _empty_tables(server.settings)
    if sending:
        outbox.start()
    await server.app.ctx.cache.clear()
    # What the server's worker keeps in memory described the rows just deleted.
    invalidation.forget_everything()
    fresh = type(server.wx)(appid=server.settings.wechat.appid, secret=server.settings.wechat.secret)
    server.wx.__dict__.update(fresh.__dict__)
    notary = server.app.ctx.notary_state
    notary.__dict__.update(type(notary)(hmac_key=server.settings.notary.hmac_key).__dict__)
    server.app.ctx.faceid_state.reset()
    server.app.ctx.mail_state.clear()
    yield
    server_clock.reset()


@pytest.fixture
def clock():
    """The server's one clock (it runs in the test's process): set/advance it instead of sleeping."""
    yield server_clock
    server_clock.reset()


@pytest.fixture(params=["memory", "redis"])
async def cache(request):
    """Each cache backend on its own, for the contract tests that must hold on both."""
    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    backend = MemoryCache() if request.param == "memory" else RedisCache(redis_url, prefix=f"test-{uuid.uuid4().hex}:")
    yield backend
    await backend.clear()
    await backend.close()


@pytest.fixture
async def client(server):
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        yield http


@pytest.fixture
async def paused_outbox(server):
    """The server's background outbox sender stopped for one test, so the test alone decides when to deliver."""
    await server.app.ctx.outbox.stop()
    yield server.app.ctx.outbox
    server.app.ctx.outbox.start()

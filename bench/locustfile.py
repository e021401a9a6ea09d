"""A working day in minutes against `scripts/run-cluster`: applicants, staff at the 待办 queue, the public at landing
pages, all at once (locust, headless). Afterwards every SMS the run queued is checked against the development sink:
none lost, none received twice; any 5xx fails the run.

    YCT_DATABASE__URL=postgres://postgres@127.0.0.1:5432/<scratch> YCT_CACHE__URL=redis://127.0.0.1:6379/<n> \\
        YCT_SERVER__PORT=8100 bash scripts/run-cluster 4 2 &
    YCT_DATABASE__URL=… YCT_CACHE__URL=… LOAD_NODES=4 .venv/bin/locust -f bench/locustfile.py --headless \\
        -u 40 -r 5 -t 5m --host http://127.0.0.1:8100 --csv /tmp/yct-load

Each simulated person sticks to one web node (ports host, host+1, …: LOAD_NODES of them), as a proxy with
sticky sessions would send them; the stand-in WeChat of that node issues their login code. Signers (the links sent
by SMS) are not driven yet.
"""
from __future__ import annotations

import io
import itertools
import os
import random
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

from locust import HttpUser, between, events, task
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "load-test-password-42"
_people = itertools.count()
_landing: list[str] = []
_server_errors: dict[str, int] = {}


def _node(host: str, index: int) -> str:
    nodes = int(os.environ.get("LOAD_NODES", "1"))
    parts = urlsplit(host)
    return urlunsplit(parts._replace(netloc=f"{parts.hostname}:{parts.port + index % nodes}"))


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (random.randrange(256), 30, 30)).save(out, "PNG")
    return out.getvalue()


class _Person(HttpUser):
    abstract = True

    def on_start(self):
        self.number = next(_people)
        self.client.base_url = _node(self.host, self.number)


class Applicant(_Person):
    """Logs in from the mini-program, fills a draft, uploads a photo, asks for SMS codes, reads its list."""

    weight = 3
    wait_time = between(1, 3)

    def on_start(self):
        super().on_start()
        code = self.client.post("/_mock/wx/code", json={"openid": f"load-openid-{self.number}"}).json()["code"]
        token = self.client.post("/api/v1/mp/login", json={"code": code}).json()["token"]
        self.headers = {"Authorization": f"Bearer {token}"}
        self.drafts: list[str] = []

    @task(4)
    def my_applications(self):
        self.client.get("/api/v1/applications", headers=self.headers, name="/api/v1/applications")

    @task(2)
    def new_draft_with_photo(self):
        draft = self.client.post("/api/v1/applications", headers=self.headers, json={
            "business_type": "establish", "entity_type": "llc", "authority_code": "451402"})
        if draft.status_code != 201:
            return
        app_id = draft.json()["id"]
        self.drafts.append(app_id)
        uploaded = self.client.post(f"/api/v1/applications/{app_id}/attachments", headers=self.headers,
                                    data={"kind": "premises_proof"}, files={"file": ("p.png", _png(), "image/png")},
                                    name="/api/v1/applications/[id]/attachments")
        if uploaded.status_code == 201:
            self.client.get(f"/api/v1/applications/{app_id}/attachments/{uploaded.json()['id']}",
                            headers=self.headers, name="/api/v1/applications/[id]/attachments/[id]")

    @task(1)
    def sms_code(self):
        # Each request to its own phone, so the per-phone limits never refuse it: every one must reach the sink.
        phone = f"139{random.randrange(10 ** 8):08d}"
        with self.client.post("/api/v1/mp/sms-code", headers=self.headers, json={"phone": phone},
                              catch_response=True) as response:
            if response.status_code == 429:
                response.success()  # a repeat of a random phone within its minute: the limit working


class Reviewer(_Person):
    """Staff at the 待办 queue: page 1, then on through the cursor."""

    weight = 1
    wait_time = between(2, 5)

    def on_start(self):
        super().on_start()
        token = self.client.post("/api/v1/staff/login", json={"username": "load-reviewer",
                                                               "password": PASSWORD}).json()["token"]
        self.headers = {"Authorization": f"Bearer {token}"}

    @task
    def queue(self):
        page = self.client.get("/api/v1/review/queue", headers=self.headers, name="/api/v1/review/queue").json()
        cursor = page.get("next_cursor")
        if cursor:
            self.client.get("/api/v1/review/queue", params={"cursor": cursor}, headers=self.headers,
                            name="/api/v1/review/queue?cursor")


class Citizen(_Person):
    """Someone who scanned a poster: the landing page, now and then the poster itself."""

    weight = 4
    wait_time = between(0.5, 2)

    @task(5)
    def landing(self):
        if _landing:
            self.client.get(random.choice(_landing), name="/g/[code]")

    @task(1)
    def healthz(self):
        self.client.get("/healthz")


@events.test_start.add_listener
def _prepare(environment, **_):
    """A reviewer account and ten service points (with posters) at 崇左市, through the CLI and the admin API."""
    import httpx

    for username, role in (("load-reviewer", "reviewer"), ("load-admin", "admin")):
        subprocess.run([sys.executable, "-m", "server", "staff", "add", username, "--role", role, "--authority",
                        "451400"], input=PASSWORD + "\n", text=True, cwd=ROOT, capture_output=True)
    host = environment.host
    token = httpx.post(host + "/api/v1/staff/login", json={"username": "load-admin", "password": PASSWORD}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    for index in range(10):
        point = httpx.post(host + "/api/v1/admin/points", headers=headers, timeout=60, json={
            "name": f"负载测试网点{index + 1:02d}", "type": "bank_branch", "authority_code": "451402",
            "hotline": "0771-7831234"}).json()
        _landing.append(urlsplit(point["landing_url"]).path)


@events.request.add_listener
def _count_5xx(name, response=None, **_):
    if response is not None and getattr(response, "status_code", 0) >= 500:
        _server_errors[name] = _server_errors.get(name, 0) + 1


@events.test_stop.add_listener
def _check(environment, **_):
    """No 5xx; then `python -m bench.load_check`: each SMS reached the sink exactly once (a process of its own:
    locust's gevent and asyncpg's asyncio do not mix)."""
    for name, count in sorted(_server_errors.items()):
        print(f"5xx: {name} ×{count}")
    checked = subprocess.run([sys.executable, "-m", "bench.load_check"], cwd=ROOT)
    if _server_errors or checked.returncode:
        environment.process_exit_code = 1

"""A working day in minutes against `scripts/run-cluster`: applicants, whole 云帮办 filings from the form contract to
the last signature, staff at the 待办 queue, signers through their SMS links, the public at landing pages, all at once
(locust, headless). Afterwards every SMS the run queued is checked against the development sink (none lost, none
received twice) and every locked filing whose signers all signed must have been submitted; any 5xx fails the run.

    export YCT_MODE=development YCT_DATABASE__URL=postgres://postgres@127.0.0.1:5432/<scratch> \\
        YCT_CACHE__URL=redis://127.0.0.1:6379/<n>
    YCT_SERVER__PORT=8750 YCT_SERVER__TRUSTED_PROXIES='["127.0.0.1"]' bash scripts/run-cluster 4 2 &
    LOAD_NODES=4 .venv/bin/locust -f bench/locustfile.py --headless --only-summary -u 40 -r 5 -t 5m \\
        --host http://127.0.0.1:8750 --csv /tmp/yct-load

Each simulated person sticks to one web node (ports host, host+1, …: LOAD_NODES of them), as a proxy with
sticky sessions would send them, and comes from an address of their own in X-Forwarded-For (run the nodes with
YCT_SERVER__TRUSTED_PROXIES='["127.0.0.1"]', as behind that proxy); the stand-in WeChat of that node issues their
login code and runs their face check.

A filing passes from person to person as it would in a day: a Filer fills a complete draft from
GET /api/v1/forms/{bt}/{et} (two shareholders, each with a phone of their own) and submits it through 云帮办; a
Reviewer approves-and-locks it; each signatory becomes a job for a Signer, who reads their link from the development
SMS sink (GET /dev/sms?phone=), opens it, reads the 申请书, passes the stand-in face check and signs; the last
signature submits the filing, which its Filer sees in their list.
"""
from __future__ import annotations

import base64
import collections
import io
import itertools
import os
import random
import subprocess
import sys
from datetime import date, timedelta
from urllib.parse import urlsplit, urlunsplit

from locust import HttpUser, between, events, task
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "load-test-password-42"
_people = itertools.count()
_landing: list[str] = []
_server_errors: dict[str, int] = {}
# The hand-overs of a filing between people (one locust process: greenlets share these).
_to_review: collections.deque[str] = collections.deque()  # submitted through 云帮办, waiting for a reviewer
_to_sign: collections.deque[tuple[str, str]] = collections.deque()  # (application id, signatory phone) after the lock
_signatories: dict[str, list[str]] = {}  # application id → its signatories' phones
_journeys = collections.Counter()
_filings = itertools.count()
_run = random.randrange(10 ** 4)  # phones of this run: 136/137 + run + filing, so no per-phone limit ever holds
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _node(host: str, index: int) -> str:
    nodes = int(os.environ.get("LOAD_NODES", "1"))
    parts = urlsplit(host)
    return urlunsplit(parts._replace(netloc=f"{parts.hostname}:{parts.port + index % nodes}"))


def _address(number: int) -> str:
    """A person's own address, as the proxy in front of the nodes reports it (X-Forwarded-For): per-IP limits such
    as login attempts then count each person, not the one machine locust runs on."""
    return f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (random.randrange(256), 30, 30)).save(out, "PNG")
    return out.getvalue()


def _signature() -> str:
    """A stroke on a transparent canvas, as the signing page's canvas sends it."""
    from PIL import ImageDraw

    image = Image.new("RGBA", (320, 120), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(20, 90), (90, 30), (170, 100), (290, 35)], fill=(0, 0, 0, 255), width=5)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def _resident_id(number: int, sequence: str) -> str:
    """A valid 居民身份证 number (GB 11643-1999 check character), born a day per filing after 1970-01-01."""
    first17 = "451402" + (date(1970, 1, 1) + timedelta(days=number % 15000)).strftime("%Y%m%d") + sequence
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS)) % 11]


class _Person(HttpUser):
    abstract = True

    def on_start(self):
        self.number = next(_people)
        self.client.base_url = _node(self.host, self.number)
        self.client.headers["X-Forwarded-For"] = _address(self.number)


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
    """Staff at the 待办 queue: page 1, then on through the cursor; and 云帮办 decisions: each filing submitted by a
    Filer is read and approved-and-locked, and each of its signatories becomes a Signer's job."""

    weight = 1
    wait_time = between(1, 3)

    def on_start(self):
        super().on_start()
        token = self.client.post("/api/v1/staff/login", json={"username": "load-reviewer",
                                                               "password": PASSWORD}).json()["token"]
        self.headers = {"Authorization": f"Bearer {token}"}

    @task(2)
    def queue(self):
        page = self.client.get("/api/v1/review/queue", headers=self.headers, name="/api/v1/review/queue").json()
        cursor = page.get("next_cursor")
        if cursor:
            self.client.get("/api/v1/review/queue", params={"cursor": cursor}, headers=self.headers,
                            name="/api/v1/review/queue?cursor")

    @task(3)
    def approve_and_lock(self):
        if not _to_review:
            return
        app_id = _to_review.popleft()
        self.client.get(f"/api/v1/review/applications/{app_id}", headers=self.headers,
                        name="/api/v1/review/applications/[id]")
        locked = self.client.post(f"/api/v1/review/applications/{app_id}/approve-lock", headers=self.headers,
                                  name="/api/v1/review/applications/[id]/approve-lock")
        if locked.status_code == 200:
            _journeys["locked"] += 1
            _to_sign.extend((app_id, phone) for phone in _signatories[app_id])


class Filer(_Person):
    """Applicants who file for real, one after another at this node (each with their own WeChat login and bound
    phone, as no person files twenty companies a day): a complete 设立 of an LLC built from the form contract (two
    shareholders, one of them the legal representative and liaison, every attachment asked for), submitted through
    云帮办; each then watches their filing until the signatures submit it."""

    weight = 2
    wait_time = between(2, 5)

    def on_start(self):
        super().on_start()
        self.contract = self.client.get("/api/v1/forms/establish/llc", name="/api/v1/forms/[bt]/[et]").json()
        self.waiting: list[tuple[str, dict]] = []

    def _new_applicant(self, number: int) -> dict:
        self.client.headers["X-Forwarded-For"] = _address(1 << 20 | number)
        code = self.client.post("/_mock/wx/code", json={"openid": f"load-filer-{_run}-{number}"}).json()["code"]
        token = self.client.post("/api/v1/mp/login", json={"code": code}).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        phone = f"135{_run:04d}{number:04d}"
        phone_code = self.client.post("/_mock/wx/phone-code", json={"phone": phone}).json()["code"]
        self.client.post("/api/v1/mp/phone", headers=headers, json={"code": phone_code})
        return headers

    @task(3)
    def file(self):
        number = next(_filings)
        headers = self._new_applicant(number)
        people = [{"name": "李明", "id_number": _resident_id(number, "123"), "phone": f"136{_run:04d}{number:04d}"},
                  {"name": "王芳", "id_number": _resident_id(number, "244"), "phone": f"137{_run:04d}{number:04d}"}]
        answers = {"住所（经营场所）": "崇左市江州区新民路1号", "经营范围": "软件开发；信息技术咨询服务",
                   "联系电话": "13800138000", "注册资本": "100"}
        entity = {}
        for field in self.contract["fields"]:
            if field["label"] in answers:
                entity[field["key"]] = answers[field["label"]]
            elif field["required"] and field["type"] == "choice":
                entity[field["key"]] = field["options"][0]
        roles = {"investor": [(people[0], "60"), (people[1], "40")], "legal_rep": [(people[0], None)],
                 "liaison": [(people[0], None)]}
        parties = [{**person, "role": rule["role"], "kind": "person", "id_type": "resident_id",
                    **({"share_percent": share} if share else {})}
                   for rule in self.contract["party_roles"] for person, share in roles.get(rule["role"], [])]
        draft = self.client.post("/api/v1/applications", headers=headers, json={
            "business_type": "establish", "entity_type": "llc", "authority_code": "451402", "name": "崇左云帆科技有限公司"})
        if draft.status_code != 201:
            return
        app_id = draft.json()["id"]
        filled = self.client.patch(f"/api/v1/applications/{app_id}", headers=headers,
                                   json={"entity": entity, "parties": parties}, name="/api/v1/applications/[id]")
        if filled.status_code != 200:
            return
        for kind in dict.fromkeys(item["attachment_kind"] for item in filled.json()["missing"]
                                  if item.get("attachment_kind")):
            self.client.post(f"/api/v1/applications/{app_id}/attachments", headers=headers, data={"kind": kind},
                             files={"file": ("p.png", _png(), "image/png")},
                             name="/api/v1/applications/[id]/attachments")
        submitted = self.client.post(f"/api/v1/applications/{app_id}/submit", json={"flow": "cloud"},
                                     headers={**headers, "Idempotency-Key": f"load-{_run}-{number}"},
                                     name="/api/v1/applications/[id]/submit")
        if submitted.status_code == 200:
            _journeys["submitted_cloud"] += 1
            _signatories[app_id] = [person["phone"] for person in people]
            self.waiting.append((app_id, headers))
            _to_review.append(app_id)

    @task(2)
    def watch(self):
        for app_id, headers in list(self.waiting):
            status = self.client.get(f"/api/v1/applications/{app_id}", headers=headers,
                                     name="/api/v1/applications/[id]").json().get("status")
            if status == "submitted":
                _journeys["completed"] += 1
                self.waiting.remove((app_id, headers))


class Signer(_Person):
    """A signatory: the SMS link (read from the development sink), the signing page, the 申请书, the face check by
    the stand-in WeChat, the drawn signature. One job after another, each a different signatory."""

    weight = 2
    wait_time = between(1, 3)

    @task
    def sign(self):
        if not _to_sign:
            return
        app_id, phone = _to_sign.popleft()
        texted = self.client.get("/dev/sms", params={"phone": phone}, name="/dev/sms?phone").json()
        links = [m["params"]["link"] for m in texted if m.get("template") in ("signing_link", "signing_link_wechat")]
        if not links:
            _to_sign.append((app_id, phone))  # the workers have not sent it yet: come back to it later
            return
        token = links[0].rsplit("/s/", 1)[1]
        view = self.client.get(f"/api/v1/sign/{token}", name="/api/v1/sign/[token]")
        if view.status_code != 200:
            return
        documents = self.client.get(f"/api/v1/sign/{token}/documents", name="/api/v1/sign/[token]/documents").json()
        self.client.get(f"/api/v1/sign/{token}/documents/{documents['must_open']}.pdf",
                        name="/api/v1/sign/[token]/documents/[kind].pdf")
        face = self.client.post(f"/api/v1/sign/{token}/face/stand-in", json={"outcome": "ok"},
                                name="/api/v1/sign/[token]/face/stand-in")
        if face.status_code != 200:
            return
        signed = self.client.post(f"/api/v1/sign/{token}", json={"signature_png_base64": _signature()},
                                  name="/api/v1/sign/[token]")
        if signed.status_code == 200:
            _journeys["signatures"] += 1


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
    """No 5xx; then `python -m bench.load_check`: each SMS reached the sink exactly once, and each filing signed by
    all its signatories was submitted (a process of its own: locust's gevent and asyncpg's asyncio do not mix)."""
    for name, count in sorted(_server_errors.items()):
        print(f"5xx: {name} ×{count}")
    print(f"journeys: {_journeys['submitted_cloud']} submitted through 云帮办, {_journeys['locked']} approved and "
          f"locked, {_journeys['signatures']} signatures, {_journeys['completed']} seen submitted by their filer; "
          f"left: {len(_to_review)} waiting for a reviewer, {len(_to_sign)} signatories waiting for their link")
    checked = subprocess.run([sys.executable, "-m", "bench.load_check"], cwd=ROOT)
    if _server_errors or checked.returncode:
        environment.process_exit_code = 1

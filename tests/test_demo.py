"""seed-demo: idempotent, stable demo passwords, and sample applications in every state the console shows."""
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from server.models.applications import Application
from server.models.signing import Signature, SigningRequest
from server.services.demo import seed_demo


async def test_seed_demo_twice_keeps_passwords_and_adds_cases_once(client, server, monkeypatch):
    monkeypatch.delenv("YCT_DEMO_PASSWORD", raising=False)
    first = "\n".join(await seed_demo(server.settings))
    password = first.split("demo-reviewer")[1].split("password ")[1].split()[0]
    second = "\n".join(await seed_demo(server.settings))
    assert "password unchanged" in second and password not in second
    login = await client.post("/api/v1/staff/login", json={"username": "demo-reviewer", "password": password})
    assert login.status_code == 200, login.text
    statuses = sorted(await Application.all().values_list("status", flat=True))
    assert statuses == sorted(["draft", "cloud_review", "returned", "locked_signing", "submitted", "approved"])

    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    queue = (await client.get("/api/v1/review/queue", headers=headers)).json()
    assert {item["status"] for item in queue["items"]} == {"cloud_review", "submitted"}
    returned = await Application.get(status="returned")
    detail = (await client.get(f"/api/v1/review/applications/{returned.id}", headers=headers)).json()
    assert [c["subject"] for c in detail["timeline"][-1]["comments"]] == ["住所（经营场所）", "当事人第3人"]
    assert detail["missing"] == []


async def test_seed_demo_takes_the_password_from_the_environment(client, server, monkeypatch):
    monkeypatch.setenv("YCT_DEMO_PASSWORD", "demo-pass-2026")
    await seed_demo(server.settings)
    await seed_demo(server.settings)
    for username in ("demo-reviewer", "demo-helper", "demo-admin"):
        login = await client.post("/api/v1/staff/login", json={"username": username, "password": "demo-pass-2026"})
        assert login.status_code == 200, (username, login.text)


async def test_the_locked_sample_case_has_one_signature_of_two_on_its_console_page(client, server, monkeypatch):
    monkeypatch.setenv("YCT_DEMO_PASSWORD", "demo-pass-2026")
    await seed_demo(server.settings)
    locked = await Application.get(status="locked_signing")
    # 李明 signs as 法定代表人 and 股东, 王芳 as 股东; the 联络员 does not sign (seed 003).
    assert await Signature.filter(application_id=locked.id).count() == 1
    assert await SigningRequest.filter(application_id=locked.id).count() == 2
    assert locked.snapshot_hash

    form = await client.get("/console/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    login = await client.post("/console/login", data={"username": "demo-reviewer", "password": "demo-pass-2026",
                                                      "csrf_token": csrf})
    assert login.status_code == 303, login.text
    page = await client.get(f"/console/applications/{locked.id}")
    assert page.status_code == 200, page.text
    assert "签名进度：已签名 1/2" in page.text
    rows = re.findall(r'<tr class="signatory-[a-z_]+"><td>([^<]+)</td>.*?<td>([^<]+)</td></tr>', page.text)
    assert rows == [("李明", "已签名"), ("王芳", "待签名")]
    assert "李明（法定代表人（负责人）、投资人（股东））已完成电子签名" in page.text


async def test_the_sample_cases_count_in_todays_statistics(client, server, monkeypatch):
    monkeypatch.setenv("YCT_DEMO_PASSWORD", "demo-pass-2026")
    await seed_demo(server.settings)
    login = await client.post("/api/v1/staff/login", json={"username": "demo-admin", "password": "demo-pass-2026"})
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    response = await client.get("/api/v1/stats/summary", params={"from": today, "to": today},
                                headers={"Authorization": f"Bearer {login.json()['token']}"})
    assert response.status_code == 200, response.text
    figures = {key: entry["value"] for key, entry in response.json()["figures"].items()}
    # Five of the six cases entered 云帮办 review today (not the draft); one was returned; the locked one, the
    # submitted one and the approved one were locked without a return.
    assert (figures["submitted"], figures["cloud_submitted"], figures["returned"]) == (5, 5, 1)
    assert figures["first_pass"] == 3

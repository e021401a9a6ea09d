"""seed-demo: idempotent, stable demo passwords, and sample applications in every state the console shows."""
from server.models.applications import Application
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

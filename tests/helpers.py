"""Small create_* helpers that go through the real HTTP API, as the mini-program and console would."""
from __future__ import annotations

import httpx

from server.services.staff import add_staff

STAFF_PASSWORD = "correct-horse-42"


async def wx_login_code(client: httpx.AsyncClient, openid: str) -> str:
    response = await client.post("/_mock/wx/code", json={"openid": openid})
    return response.json()["code"]


async def login_applicant(client: httpx.AsyncClient, openid: str = "openid-applicant-1") -> dict:
    """Log in as the mini-program does; returns the login answer with a ready Authorization header."""
    response = await client.post("/api/v1/mp/login", json={"code": await wx_login_code(client, openid)})
    assert response.status_code == 200, response.text
    body = response.json()
    body["headers"] = {"Authorization": f"Bearer {body['token']}"}
    return body


async def create_staff(client: httpx.AsyncClient, username: str = "reviewer1", role: str = "reviewer",
                       authority: str = "451400") -> dict:
    await add_staff(username, STAFF_PASSWORD, role, authority)
    response = await client.post("/api/v1/staff/login", json={"username": username, "password": STAFF_PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    body["headers"] = {"Authorization": f"Bearer {body['token']}"}
    return body


async def delivered_sms(client: httpx.AsyncClient, server, phone: str | None = None) -> list[dict]:
    """Let the outbox deliver what is due, then what the development SMS sink received (newest first)."""
    from server.services.outbox import deliver_due

    await deliver_due(server.app.ctx)
    response = await client.get("/dev/sms", params={"phone": phone} if phone else None)
    assert response.status_code == 200, response.text
    return response.json()

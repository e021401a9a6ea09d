"""create_* helpers for the help-point tests, through the real HTTP API."""
from __future__ import annotations

import httpx

from server.services.accounts.staff import add_staff
from tests.helpers import STAFF_PASSWORD, create_staff, login_applicant


async def admin_login(client: httpx.AsyncClient, authority: str = "451400") -> dict:
    return await create_staff(client, f"admin-{authority}", "admin", authority)


async def create_point(client: httpx.AsyncClient, admin: dict, **fields) -> dict:
    body = {"name": "中国银行崇左江州支行帮办点", "type": "bank_branch", "authority_code": "451402",
            "address": "崇左市江州区新民路8号", "hotline": "0771-7820000", "slot_minutes": 30, "slot_capacity": 2,
            **fields}
    response = await client.post("/api/v1/admin/points", json=body, headers=admin["headers"])
    assert response.status_code == 201, response.text
    return response.json()


async def helper_at(client: httpx.AsyncClient, point: dict, username: str = "helper1", name: str = "黄丽",
                    landline: str = "0771-7821234") -> dict:
    """A helper (帮办员) tied to the point, logged in."""
    await add_staff(username, STAFF_PASSWORD, "helper", point["authority"]["code"], name, point["code"], landline)
    response = await client.post("/api/v1/staff/login", json={"username": username, "password": STAFF_PASSWORD})
    assert response.status_code == 200, response.text
    return {**response.json(), "headers": {"Authorization": f"Bearer {response.json()['token']}"}}


async def applicant_with_phone(client: httpx.AsyncClient, openid: str, phone: str | None = None) -> dict:
    applicant = await login_applicant(client, openid)
    if phone:
        code = (await client.post("/_mock/wx/phone-code", json={"openid": openid, "phone": phone})).json()["code"]
        response = await client.post("/api/v1/mp/phone", json={"code": code}, headers=applicant["headers"])
        assert response.status_code == 200, response.text
    return applicant


async def book(client: httpx.AsyncClient, applicant: dict, point: dict, start: str,
               business_type: str = "establish") -> httpx.Response:
    return await client.post("/api/v1/appointments", headers=applicant["headers"],
                             json={"point_code": point["code"], "start": start, "business_type": business_type})

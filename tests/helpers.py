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


# --- applications engineer: registry, names, applications ----------------------------------------------------------

def valid_resident_id(body17: str = "45140219900307123") -> str:
    """A 居民身份证 number with the right check character for these 17 digits."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body17 + "10X98765432"[sum(int(d) * w for d, w in zip(body17, weights)) % 11]


def valid_credit_code(division: str = "451402", body: str = "MA5K0000") -> str:
    from server.services.identifiers import credit_code_check, organization_code_check

    first17 = "91" + division + body + organization_code_check(body)
    return first17 + credit_code_check(first17)


async def create_registered(name: str, credit_code: str | None = None, authority_code: str = "451402",
                            entity_type: str = "llc", status: str = "registered", status_date: str | None = None):
    from server.services.registry import upsert_entity

    code = credit_code or valid_credit_code(authority_code, f"R{abs(hash(name)) % 10_000_000:07d}")
    return await upsert_entity(name, code, authority_code, entity_type, status, status_date=status_date)


async def create_application(client: httpx.AsyncClient, headers: dict, business_type: str = "establish",
                             entity_type: str = "llc", authority_code: str = "451402", **extra) -> dict:
    body = {"business_type": business_type, "entity_type": entity_type, "authority_code": authority_code, **extra}
    response = await client.post("/api/v1/applications", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def person(role: str = "legal_rep", name: str = "张三", body17: str = "45140219900307123", phone: str = "13800138000",
           **extra) -> dict:
    return {"role": role, "kind": "person", "name": name, "id_type": "resident_id",
            "id_number": valid_resident_id(body17), "phone": phone, **extra}


def png_bytes(size=(64, 48)) -> bytes:
    import io

    from PIL import Image

    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def jpeg_with_gps(size=(640, 480)) -> bytes:
    """A JPEG carrying EXIF with a GPS position, as phone cameras write them."""
    import io

    from PIL import Image

    image = Image.new("RGB", size, (20, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (22.0, 24.0, 0.0), "E", (107.0, 21.0, 0.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()

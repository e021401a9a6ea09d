"""Small create_* helpers that go through the real HTTP API, as the mini-program and console would."""
from __future__ import annotations

import httpx

from server.services.accounts.staff import add_staff

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
                       authority: str = "451400", display_name: str = "") -> dict:
    await add_staff(username, STAFF_PASSWORD, role, authority, display_name)
    response = await client.post("/api/v1/staff/login", json={"username": username, "password": STAFF_PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    body["headers"] = {"Authorization": f"Bearer {body['token']}"}
    return body


# --- applications with parties, written through the models (signing tests) ---------------------------------
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(birth: str = "19900307", sequence: str = "123", area: str = "451402") -> str:
    """A valid 居民身份证 number (GB 11643-1999 check character) for the given birth date and sequence."""
    first17 = area + birth + sequence
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS)) % 11]


def person(name: str, role: str = "investor", id_number: str | None = None, id_type: str = "resident_id",
           phone: str | None = None, share: str | None = None) -> dict:
    return {"role": role, "kind": "person", "name": name, "id_type": id_type, "id_number": id_number or resident_id(),
            "phone": phone, "share_percent": share}


def enterprise(name: str, origin: str = "home_province", credit_code: str | None = None, role: str = "investor",
               share: str | None = None) -> dict:
    from server.services.applications.identifiers import new_credit_code

    division = "451400" if origin == "home_province" else "440100"
    return {"role": role, "kind": "enterprise", "name": name, "origin": origin,
            "credit_code": credit_code or new_credit_code(division), "share_percent": share}


async def create_application(applicant_id: int, parties: list[dict], *, status: str = "draft",
                             business_type: str = "establish", entity_type: str = "llc", authority: str = "451402",
                             name: str = "崇左云帆科技有限公司", entity: dict | None = None):
    from decimal import Decimal

    from server.models.applications import Application, Party

    application = await Application.create(
        applicant_id=applicant_id, authority_id=authority, business_type=business_type, entity_type=entity_type,
        name=name, status=status, entity=entity or {"注册资本": "100万元", "住所": "崇左市江州区新民路1号"})
    for position, party in enumerate(parties):
        share = party.get("share_percent")
        await Party.create(application=application, position=position,
                           **{**party, "share_percent": Decimal(share) if share else None})
    return application


async def create_locked_application(applicant_id: int, parties: list[dict], **kwargs):
    """An application as approve-and-lock leaves it: locked_signing (云帮办) with its snapshot and hash."""
    from server.services.applications.service import canonical_materials, materials_hash

    application = await create_application(applicant_id, parties, status="draft", **kwargs)
    snapshot = await canonical_materials(application)
    application.snapshot, application.snapshot_hash = snapshot, materials_hash(snapshot)
    application.status, application.flow = "locked_signing", "cloud"
    await application.save()
    return application


async def face_result(client: httpx.AsyncClient, name: str, id_number: str, outcome: str = "ok") -> str:
    """What wx.startFacialRecognitionVerify hands the mini-program, from the stand-in."""
    response = await client.post("/_mock/wx/face", json={"name": name, "id_number": id_number, "outcome": outcome})
    return response.json()["verify_result"]


def token_of(link: str) -> str:
    return link.rsplit("/s/", 1)[1]


def signature_png_base64(width: int = 300, height: int = 120, blank: bool = False) -> str:
    """A handwritten-looking signature as the signing page's canvas would send it."""
    import base64
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    if not blank:
        ImageDraw.Draw(image).line([(20, 80), (90, 30), (160, 90), (260, 40)], fill=(0, 0, 0, 255), width=5)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


async def delivered_sms(client: httpx.AsyncClient, server, phone: str | None = None) -> list[dict]:
    """Let the outbox deliver what is due, then what the development SMS sink received (newest first)."""
    from server.services.notifications.outbox import deliver_due

    await deliver_due(server.app.ctx)
    response = await client.get("/dev/sms", params={"phone": phone} if phone else None)
    assert response.status_code == 200, response.text
    return response.json()

# --- applications engineer: registry, names, applications ----------------------------------------------------------

def valid_resident_id(body17: str = "45140219900307123") -> str:
    """A 居民身份证 number with the right check character for these 17 digits."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body17 + "10X98765432"[sum(int(d) * w for d, w in zip(body17, weights)) % 11]


def valid_credit_code(division: str = "451402", body: str = "MA5K0000") -> str:
    from server.services.applications.identifiers import (
        credit_code_check,
        organization_code_check,
    )

    first17 = "91" + division + body + organization_code_check(body)
    return first17 + credit_code_check(first17)


async def create_registered(name: str, credit_code: str | None = None, authority_code: str = "451402",
                            entity_type: str = "llc", status: str = "registered", status_date: str | None = None,
                            investors: list[dict] | None = None):
    from server.services.applications.registry import upsert_entity

    code = credit_code or valid_credit_code(authority_code, f"R{abs(hash(name)) % 10_000_000:07d}")
    return await upsert_entity(name, code, authority_code, entity_type, status, status_date=status_date,
                               investors=investors)


async def create_draft(client: httpx.AsyncClient, headers: dict, business_type: str = "establish",
                             entity_type: str = "llc", authority_code: str = "451402", **extra) -> dict:
    body = {"business_type": business_type, "entity_type": entity_type, "authority_code": authority_code, **extra}
    response = await client.post("/api/v1/applications", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def person_form(role: str = "legal_rep", name: str = "张三", body17: str = "45140219900307123", phone: str = "13800138000",
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


def pdf_bytes(pages: int = 1) -> bytes:
    """A small, well-formed PDF of blank A4 pages (uploads are parsed, so a token header no longer passes)."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
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


async def create_review_application(applicant_id: int, authority: str = "451402", status: str = "draft",
                                    uploads_dir: str | None = None, **fields):
    """An application in any state, made through the models (review tests): a complete LLC establishment (every
    form field, a legal representative, two investors, a liaison, and each required attachment as a small PNG);
    `fields` set any other column."""
    import hashlib
    import uuid

    from server import storage
    from server.config import load_settings
    from server.models.applications import Application, Attachment, Party
    from server.services.applications import materials

    values = {"business_type": "establish", "entity_type": "llc", "name": "崇左云帆科技有限公司",
              "entity": {"address": "崇左市江州区新民路1号", "business_scope": "软件开发", "contact_phone": "13800138000",
                         "operating_term": "长期", "registered_capital": "100"}, **fields}
    application = await Application.create(applicant_id=applicant_id, authority_id=authority, status=status, **values)
    li, wang = resident_id("19900307", "123"), resident_id("19920815", "234")
    for position, (role, name, id_number, phone, share) in enumerate([
        ("legal_rep", "李明", li, "13800001111", None), ("investor", "王芳", wang, "13900002222", 40),
        ("investor", "李明", li, "13800001111", 60), ("liaison", "王芳", wang, "13900002222", None),
    ]):
        await Party.create(application=application, position=position, role=role, kind="person", name=name,
                           id_type="resident_id", id_number=id_number, phone=phone, share_percent=share)
    # The suite's storage (YCT_STORAGE__URL: S3, or the local uploads directory given).
    files = load_settings(uploads={"dir": uploads_dir or "data/uploads"})
    for item in materials.required_materials(application.business_type, application.entity_type):
        if item.get("when") == "has_enterprise_investor" or materials.is_generated(item, application.entity):
            continue
        content = b"\x89PNG\r\n\x1a\n" + application.id.bytes + item["kind"].encode()
        relative = f"{application.id}/{uuid.uuid4()}.png"
        await storage.put(files, storage.UPLOADS, relative, content)
        await Attachment.create(application=application, kind=item["kind"], filename=f"{item['name']}.png",
                                content_type="image/png", size=len(content),
                                sha256=hashlib.sha256(content).hexdigest(), storage_path=str(relative))
    return application


# --- guides engineer: service points and guide content ---------------------------------------------------------------

async def create_point(client: httpx.AsyncClient, admin: dict, authority: str = "451400", **fields) -> dict:
    """A service point (帮办网点) through the admin API; `admin` is a create_staff(..., role="admin") login."""
    body = {"name": "中国农业银行崇左分行营业部", "type": "bank_branch", "authority_code": authority,
            "address": "崇左市江州区友谊大道12号", "hotline": "0771-7831234", "opening_hours": "周一至周五 9:00-17:00",
            "has_sign": True, "has_computer": True, "has_staff": True, "has_guide": True, "has_hotline": True,
            "has_public_notice": True, **fields}
    response = await client.post("/api/v1/admin/points", json=body, headers=admin["headers"])
    assert response.status_code == 201, response.text
    return response.json()


async def create_guide(client: httpx.AsyncClient, admin: dict, kind: str, title: str, authority: str = "451400",
                       file: tuple[str, bytes] | None = None, **fields) -> dict:
    """Guide content through the admin API, with its uploaded file when given as (name, bytes)."""
    response = await client.post("/api/v1/admin/guides", headers=admin["headers"],
                                 json={"kind": kind, "title": title, "authority_code": authority, **fields})
    assert response.status_code == 201, response.text
    item = response.json()
    if file:
        uploaded = await client.put(f"/api/v1/admin/guides/{item['id']}/file", headers=admin["headers"],
                                    files={"file": file})
        assert uploaded.status_code == 200, uploaded.text
        item = uploaded.json()
    return item


async def read_application_form(client: httpx.AsyncClient, token: str) -> bytes:
    """Open the generated 申请书 through the link, as a signer must before signing."""
    response = await client.get(f"/api/v1/sign/{token}/documents/application_form.pdf")
    assert response.status_code == 200, response.text
    return response.content


# --- legal-person accounts (seed 001) ------------------------------------------------------------------------------

async def create_approved_account(applicant_id: int, entity, registrant: str = "legal_rep",
                                  legal_rep_phone: str = "13800001111"):
    """An approved legal-person account, as review leaves it, so the applicant may file 变更 / 注销 for the entity."""
    from server import clock
    from server.models.enterprise_accounts import EnterpriseAccount

    return await EnterpriseAccount.create(
        applicant_id=applicant_id, authority_id=entity.authority_code, credit_code=entity.credit_code,
        live_credit_code=entity.credit_code, entity_name=entity.name, entity_type=entity.entity_type,
        registrant=registrant, legal_rep_name="李明", legal_rep_id_type="resident_id",
        legal_rep_id_number=resident_id(), legal_rep_phone=legal_rep_phone, status="approved",
        submitted_at=clock.now(), approved_at=clock.now(), decided_at=clock.now())

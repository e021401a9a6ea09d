"""A filing taken all the way to 核准 through real HTTP: 云帮办, both signatures by the scripted phone, 受理, 核准."""
from __future__ import annotations

import asyncio

from wxmock.phone import PhoneClient

from tests.helpers import create_review_application, create_staff


async def approved_filing(client, server, *, openid: str = "openid-archive", bind_phone: str = "13655556666",
                          reviewer_name: str = "archive-reviewer", **fields) -> dict:
    """{app_id, credit_code, reviewer, phone}: a complete LLC establishment (李明 legal rep, 王芳 liaison) approved."""
    reviewer = await create_staff(client, reviewer_name, "reviewer", "451402")
    phone = PhoneClient(server.base_url, openid)
    me = (await asyncio.to_thread(phone.login))["applicant"]
    if bind_phone:
        await asyncio.to_thread(phone.bind_phone, bind_phone)
    application = await create_review_application(me["id"], uploads_dir=server.settings.uploads.dir, **fields)
    app_id, review = str(application.id), f"/api/v1/review/applications/{application.id}"
    await asyncio.to_thread(phone.submit, app_id, "cloud")
    locked = await client.post(f"{review}/approve-lock", headers=reviewer["headers"])
    assert locked.status_code == 200, locked.text
    for link in await asyncio.to_thread(phone.request_signatures, app_id):
        await asyncio.to_thread(phone.sign_link, link["link"])
    status = (await asyncio.to_thread(phone.application, app_id))["status"]
    if status != "submitted":
        await asyncio.to_thread(phone.submit, app_id, "cloud", f"submit-{app_id}")
    accepted = await client.post(f"{review}/accept", headers=reviewer["headers"])
    assert accepted.status_code == 200, accepted.text
    approved = await client.post(f"{review}/approve", headers=reviewer["headers"])
    assert approved.status_code == 200, approved.text
    return {"app_id": app_id, "credit_code": approved.json()["credit_code"], "reviewer": reviewer, "phone": phone,
            "applicant": me}

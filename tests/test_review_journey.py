"""The whole 云帮办 journey through real HTTP with the scripted phone: submit → return → edit → resubmit →
approve-and-lock, and the timeline the applicant follows at each step."""
import asyncio

import pytest
from tortoise.transactions import in_transaction
from wxmock.phone import PhoneClient

from server.models.applications import Application
from server.services.applications.lifecycle import claim_materials_write
from tests.helpers import create_review_application, create_staff, person_form

PEOPLE = [person_form(), person_form("liaison", "李四", "45140219850101123", phone="13800138001"),
          person_form("investor", "王五", "45140219800101123", phone="13800138002", share_percent="100")]
ENTITY = {"address": "崇左市江州区新民路1号", "business_scope": "软件开发", "contact_phone": "13800138000",
          "operating_term": "长期", "registered_capital": "100"}


async def edit_address(application_id, address):
    """An edit made through the service every write path uses: claim first, then write."""
    async with in_transaction() as conn:
        application = await Application.get(id=application_id).using_db(conn)
        await claim_materials_write(application, conn)
        await Application.filter(id=application_id).using_db(conn).update(entity={**application.entity,
                                                                                  "address": address})


async def test_cloud_journey_return_edit_resubmit_lock(client, server):
    """Filled through the applications API as the mini-program does, then the whole 云帮办 loop."""
    reviewer = await create_staff(client, "journey-reviewer", "reviewer", "451402")
    phone = PhoneClient(server.base_url, "openid-journey")
    await asyncio.to_thread(phone.login)
    await asyncio.to_thread(phone.bind_phone, "13655556666")
    filled = await asyncio.to_thread(phone.fill_application, "establish", name="崇左云帆科技有限公司",
                                     parties=PEOPLE, entity=ENTITY)
    assert filled["missing"] == []
    app_id = filled["id"]

    submitted = await asyncio.to_thread(phone.submit, app_id, "cloud", "journey-1")
    assert submitted["status"] == "cloud_review"
    assert await asyncio.to_thread(phone.submit, app_id, "cloud", "journey-1") == submitted

    review = f"/api/v1/review/applications/{app_id}"
    returned = await client.post(f"{review}/return", headers=reviewer["headers"],
                                 json={"comments": [{"field": "entity.address", "message": "住所请写到门牌号"}]})
    assert returned.status_code == 200
    steps = await asyncio.to_thread(phone.timeline, app_id)
    assert [s["action"] for s in steps] == ["create", "submit_cloud", "return"]
    assert steps[-1]["comments"][0]["message"] == "住所请写到门牌号"

    await asyncio.to_thread(phone.save_form, app_id, entity={**ENTITY, "address": "崇左市江州区新民路1号3栋201"})
    again = await asyncio.to_thread(phone.submit, app_id, "cloud", "journey-2")
    assert again["status"] == "cloud_review" and again["resubmission"] is True
    queue = (await client.get("/api/v1/review/queue", headers=reviewer["headers"])).json()
    assert queue["items"][0]["id"] == app_id and queue["items"][0]["resubmission"] is True

    locked = await client.post(f"{review}/approve-lock", headers=reviewer["headers"])
    assert locked.status_code == 200
    steps = await asyncio.to_thread(phone.timeline, app_id)
    assert [s["action"] for s in steps] == ["create", "submit_cloud", "return", "submit_cloud", "approve_lock"]
    assert steps[-1]["to_status"] == "locked_signing"
    stored = await Application.get(id=app_id)
    assert stored.snapshot["entity"]["address"] == "崇左市江州区新民路1号3栋201"
    assert stored.snapshot_hash == locked.json()["snapshot_hash"] == (await asyncio.to_thread(
        phone.application, app_id))["snapshot_hash"]

    with pytest.raises(RuntimeError, match="409"):
        await asyncio.to_thread(phone.save_form, app_id, entity={**ENTITY, "address": "改不了"})
    assert (await Application.get(id=app_id)).snapshot_hash == stored.snapshot_hash
    with pytest.raises(RuntimeError, match="signatures_incomplete"):
        await asyncio.to_thread(phone.submit, app_id, "cloud")
    phone.close()


async def test_cloud_journey_all_sign_then_accept_and_approve(client, server):
    """After the lock every required signatory signs once; the submit goes to 受理 with "云帮办所有签名已完成"."""
    reviewer = await create_staff(client, "journey-reviewer", "reviewer", "451402")
    phone = PhoneClient(server.base_url, "openid-signers")
    me = (await asyncio.to_thread(phone.login))["applicant"]
    application = await create_review_application(me["id"], uploads_dir=server.settings.uploads.dir)
    app_id, review = str(application.id), f"/api/v1/review/applications/{application.id}"
    await asyncio.to_thread(phone.submit, app_id, "cloud")
    locked = await client.post(f"{review}/approve-lock", headers=reviewer["headers"])
    assert {r["name"] for r in locked.json()["signing_requests"]} == {"李明", "王芳"}

    # This applicant confirms the submission themselves once everyone has signed.
    await asyncio.to_thread(phone.set_auto_submit, app_id, False)
    links = await asyncio.to_thread(phone.request_signatures, app_id)
    await asyncio.to_thread(phone.sign_link, links[0]["link"])
    with pytest.raises(RuntimeError, match="signatures_incomplete"):
        await asyncio.to_thread(phone.submit, app_id, "cloud")
    await asyncio.to_thread(phone.sign_link, links[1]["link"])
    submitted = await asyncio.to_thread(phone.submit, app_id, "cloud", "final-submit")
    assert submitted["status"] == "submitted" and submitted["notice"] == "云帮办所有签名已完成"

    accepted = await client.post(f"{review}/accept", headers=reviewer["headers"])
    assert accepted.status_code == 200 and accepted.json()["notice"] == "云帮办所有签名已完成"
    approved = await client.post(f"{review}/approve", headers=reviewer["headers"])
    assert approved.status_code == 200 and approved.json()["credit_code"][2:8] == "451402"
    steps = [s["action"] for s in await asyncio.to_thread(phone.timeline, app_id)]
    assert steps[:2] == ["submit_cloud", "approve_lock"] and steps[-3:] == ["submit_signed", "accept", "approve"]
    phone.close()


async def test_general_flow_needs_one_signature_on_the_current_materials(client, server):
    reviewer = await create_staff(client, "journey-reviewer", "reviewer", "451402")
    phone = PhoneClient(server.base_url, "openid-general")
    me = (await asyncio.to_thread(phone.login))["applicant"]
    application = await create_review_application(me["id"], uploads_dir=server.settings.uploads.dir)
    app_id = str(application.id)
    with pytest.raises(RuntimeError, match="signature_required"):
        await asyncio.to_thread(phone.submit, app_id, "general")
    links = await asyncio.to_thread(phone.request_signatures, app_id)
    await asyncio.to_thread(phone.sign_link, links[0]["link"])
    submitted = await asyncio.to_thread(phone.submit, app_id, "general")
    assert submitted["status"] == "submitted" and submitted["flow"] == "general" and submitted["notice"] is None
    accepted = await client.post(f"/api/v1/review/applications/{app_id}/accept", headers=reviewer["headers"])
    assert accepted.status_code == 200 and accepted.json()["notice"] is None

    returned = await client.post(f"/api/v1/review/applications/{app_id}/return", headers=reviewer["headers"],
                                 json={"comments": [{"field": "entity.business_scope", "message": "经营范围请规范表述"}]})
    assert returned.status_code == 200
    await edit_address(application.id, "崇左市江州区友谊大道2号")
    with pytest.raises(RuntimeError, match="signature_required"):
        await asyncio.to_thread(phone.submit, app_id, "general")
    phone.close()


async def test_a_decline_fixed_and_locked_again_reaches_submitted_with_nobody_submitting_twice(client, server):
    """王芳 declines ("出资比例应为50/50"); the case comes back, the applicant fixes the shares, 云帮办 locks again,
    both sign, and the last signature submits the case: one submit_signed, by the system."""
    reviewer = await create_staff(client, "journey-reviewer", "reviewer", "451402")
    phone = PhoneClient(server.base_url, "openid-decline")
    me = (await asyncio.to_thread(phone.login))["applicant"]
    application = await create_review_application(me["id"], uploads_dir=server.settings.uploads.dir)
    app_id, review = str(application.id), f"/api/v1/review/applications/{application.id}"
    await asyncio.to_thread(phone.submit, app_id, "cloud")
    assert (await client.post(f"{review}/approve-lock", headers=reviewer["headers"])).status_code == 200
    links = {item["name"]: item["link"] for item in await asyncio.to_thread(phone.request_signatures, app_id)}
    await asyncio.to_thread(phone.sign_link, links["李明"])
    await asyncio.to_thread(phone.decline_link, links["王芳"], "出资比例应为50/50")

    returned = await asyncio.to_thread(phone.application, app_id)
    assert returned["status"] == "returned"
    decline = [s for s in await asyncio.to_thread(phone.timeline, app_id) if s["action"] == "decline"][-1]
    assert "出资比例应为50/50" in str(decline["comments"])
    parties = returned["parties"]
    for party in parties:
        if party["role"] == "investor":
            party["share_percent"] = "50"
    await asyncio.to_thread(phone.save_form, app_id, parties=parties)
    await asyncio.to_thread(phone.submit, app_id, "cloud")
    relocked = await client.post(f"{review}/approve-lock", headers=reviewer["headers"])
    assert relocked.status_code == 200, relocked.text
    # The first lock's signature was voided: 李明 signs again, on the new snapshot.
    links = {item["name"]: item["link"] for item in await asyncio.to_thread(phone.request_signatures, app_id)}
    assert sorted(links) == ["李明", "王芳"]
    await asyncio.to_thread(phone.sign_link, links["王芳"])
    await asyncio.to_thread(phone.sign_link, links["李明"])

    stored = await Application.get(id=application.id)
    assert stored.status == "submitted" and stored.snapshot_hash == relocked.json()["snapshot_hash"]
    steps = await asyncio.to_thread(phone.timeline, app_id)
    actions = [s["action"] for s in steps]
    assert actions.count("submit_signed") == 1 and actions[-1] == "submit_signed"
    assert actions.count("submit_cloud") == 2 and "decline" in actions
    phone.close()

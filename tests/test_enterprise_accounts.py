"""Legal-person accounts (seed 001) over real HTTP: both registration paths, the legal representative's SMS link,
face check and signature, cancel-to-fix-phone, the 48 hours, decline, review with its SMS, edits after a rejection,
the offline route, and what an approved account opens."""
import hashlib
import io
import json
import zipfile
from datetime import date, timedelta

from pypdf import PdfReader

from server.crypto import blind_index
from server.models.enterprise_accounts import EnterpriseAccount
from server.models.notifications import OutboxMessage
from server.models.review import AuditEntry
from server.models.signing import EvidenceEntry
from tests.helpers import (
    create_registered,
    create_staff,
    delivered_sms,
    face_result,
    login_applicant,
    png_bytes,
    resident_id,
    signature_png_base64,
)

LEGAL_REP_ID = resident_id("19800101", "111")
AGENT_ID = resident_id("19950505", "222")
LEGAL_REP = {"name": "李明", "id_type": "resident_id", "id_number": LEGAL_REP_ID, "phone": "13800001111"}
AGENT = {"name": "王芳", "id_type": "resident_id", "id_number": AGENT_ID, "phone": "13900002222"}
# Seed 001, 代理人注册 1: the page the agent sees before submitting.
NOTICE = "系统将向法定代表人手机发送签名短信，请确保手机号码为法定代表人本人号码"


def form(entity, registrant="agent", legal_rep=None, agent=None) -> dict:
    body = {"credit_code": entity.credit_code, "entity_name": entity.name, "registrant": registrant,
            "legal_rep": legal_rep or LEGAL_REP}
    if registrant == "agent":
        body["agent"] = agent or AGENT
    return body


async def register(client, me, entity, **kwargs) -> dict:
    response = await client.post("/api/v1/enterprise-accounts", json=form(entity, **kwargs), headers=me["headers"])
    assert response.status_code == 201, response.text
    account = response.json()
    uploaded = await client.post(f"/api/v1/enterprise-accounts/{account['id']}/license", headers=me["headers"],
                                 files={"file": ("license.png", png_bytes((400, 300)), "image/png")})
    assert uploaded.status_code == 200, uploaded.text
    return account


async def act(client, me, account, action, body=None):
    return await client.post(f"/api/v1/enterprise-accounts/{account['id']}/{action}", json=body,
                             headers=me["headers"])


async def read(client, me, account) -> dict:
    response = await client.get(f"/api/v1/enterprise-accounts/{account['id']}", headers=me["headers"])
    assert response.status_code == 200, response.text
    return response.json()


async def signing_links(client, server, phone) -> list[str]:
    messages = await delivered_sms(client, server, phone)
    return [m["params"]["link"] for m in messages if m["template"] == "account_signing_link"]


def token(link: str) -> str:
    return link.rsplit("/a/", 1)[1]


async def legal_rep_signs(client, link, name="李明", id_number=LEGAL_REP_ID):
    api = f"/api/v1/authorisations/{token(link)}"
    face = await client.post(f"{api}/face", json={"verify_result": await face_result(client, name, id_number)})
    assert face.status_code == 200, face.text
    signed = await client.post(api, json={"signature_png_base64": signature_png_base64()})
    assert signed.status_code == 200, signed.text
    return signed.json()


async def test_agent_registers_and_the_legal_representative_signs_from_the_sms_link(client, server):
    entity = await create_registered("崇左云帆科技有限公司")
    agent = await login_applicant(client, "openid-agent")
    draft = await register(client, agent, entity)
    assert draft["status"] == "draft" and draft["notice"] == NOTICE
    assert draft["legal_rep"]["id_number"] != LEGAL_REP_ID and "****" in draft["legal_rep"]["phone"]

    submitted = await act(client, agent, draft, "submit")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["account"]["status"] == "signing"
    shown_link = submitted.json()["signing"]["link"]
    [link] = await signing_links(client, server, "13800001111")
    assert link == shown_link and "48小时" in (await delivered_sms(client, server, "13800001111"))[0]["text"]
    # The link's token is kept only hashed: once sent, the outbox row no longer holds it.
    assert (await OutboxMessage.get(template="account_signing_link")).params["link"] == "******"

    letter = (await client.get(f"/api/v1/authorisations/{token(link)}")).json()
    assert letter["letter"]["title"] == "法定代表人授权委托书"
    assert LEGAL_REP_ID not in str(letter) and AGENT_ID not in str(letter)
    unsigned = await client.get(f"/api/v1/authorisations/{token(link)}/letter.pdf")
    assert unsigned.status_code == 200 and unsigned.content.startswith(b"%PDF")
    assert "兹委托 王芳 为本单位代理人" in PdfReader(io.BytesIO(unsigned.content)).pages[0].extract_text().replace("\n", "")
    page = await client.get(f"/a/{token(link)}")
    assert page.status_code == 200 and "法定代表人授权委托书" in page.text and LEGAL_REP_ID not in page.text

    # Someone else's face does not sign for the legal representative.
    other = await client.post(f"/api/v1/authorisations/{token(link)}/face",
                              json={"verify_result": await face_result(client, "王芳", AGENT_ID)})
    assert other.status_code == 422 and other.json()["error"]["code"] == "face_mismatch"
    unsigned = await client.post(f"/api/v1/authorisations/{token(link)}",
                                 json={"signature_png_base64": signature_png_base64()})
    assert unsigned.status_code == 409 and unsigned.json()["error"]["code"] == "face_required"

    signed = await legal_rep_signs(client, link)
    entry = await EvidenceEntry.get(seq=signed["evidence"]["seq"])
    assert entry.entry_hash == signed["evidence"]["entry_hash"] and '"account_authorisation"' in entry.payload
    assert (await client.get(f"/api/v1/authorisations/{token(link)}")).status_code == 410
    account = await read(client, agent, draft)
    assert account["status"] == "pending_review"
    assert [e["action"] for e in account["history"]] == ["create", "request_signature", "sign"]

    reviewer = await create_staff(client, "reviewer-cz", "reviewer", "451400")
    queue = (await client.get("/api/v1/review/enterprise-accounts", headers=reviewer["headers"])).json()
    assert [item["id"] for item in queue["items"]] == [draft["id"]]
    detail = (await client.get(f"/api/v1/review/enterprise-accounts/{draft['id']}", headers=reviewer["headers"])).json()
    assert detail["signatures"][0]["current"] and detail["signatures"][0]["entry_hash"] == entry.entry_hash
    assert LEGAL_REP_ID not in str(detail) and AGENT_ID not in str(detail)
    pdf = await client.get(f"/api/v1/review/enterprise-accounts/{draft['id']}/letter.pdf", headers=reviewer["headers"])
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "法定代表人授权委托书" in text and "王芳" in text and entry.entry_hash in text.replace("\n", "")
    assert LEGAL_REP_ID not in text and AGENT_ID not in text
    assert len(PdfReader(io.BytesIO(pdf.content)).pages[0].images) == 1  # the signature
    package = await client.get(f"/api/v1/review/enterprise-accounts/{draft['id']}/evidence.zip",
                               headers=reviewer["headers"])
    with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
        [line] = archive.read("entries.jsonl").decode().splitlines()
        [image] = [name for name in archive.namelist() if name.startswith("signatures/")]
        image_sha256 = hashlib.sha256(archive.read(image)).hexdigest()
    assert json.loads(line)["entry_hash"] == entry.entry_hash
    assert json.loads(json.loads(line)["payload"])["signature_image_sha256"] == image_sha256
    approved = await client.post(f"/api/v1/review/enterprise-accounts/{draft['id']}/approve", headers=reviewer["headers"])
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    [result] = [m for m in await delivered_sms(client, server, "13900002222") if m["template"] == "account_result"]
    assert "审核通过" in result["text"] and entity.name in result["text"]
    audited = await AuditEntry.filter(action__startswith="account_").order_by("id").values_list("action", "username")
    assert audited == [("account_view", "reviewer-cz"), ("account_approve", "reviewer-cz")]

    change = await client.post("/api/v1/applications", headers=agent["headers"], json={
        "business_type": "change", "entity_type": "llc", "authority_code": "451402", "credit_code": entity.credit_code})
    assert change.status_code == 201, change.text
    assert change.json()["name"] == entity.name


async def test_a_change_without_an_approved_account_is_refused_saying_how_to_get_one(client):
    entity = await create_registered("崇左云帆科技有限公司")
    me = await login_applicant(client)
    for business_type in ("change", "deregister", "simple_deregister"):
        response = await client.post("/api/v1/applications", headers=me["headers"], json={
            "business_type": business_type, "entity_type": "llc", "authority_code": "451402",
            "credit_code": entity.credit_code})
        assert response.status_code == 403, response.text
        error = response.json()["error"]
        assert error["code"] == "enterprise_account_required" and error["field"] == "credit_code"
        assert "法人账号" in error["message"] and "法定代表人" in error["message"]


async def test_agent_cancels_to_correct_the_phone_and_the_old_link_dies(client, server):
    entity = await create_registered("崇左云帆科技有限公司")
    agent = await login_applicant(client, "openid-agent")
    wrong = {**LEGAL_REP, "phone": "13700009999"}
    draft = await register(client, agent, entity, legal_rep=wrong)
    assert (await act(client, agent, draft, "submit")).status_code == 200
    [old_link] = await signing_links(client, server, "13700009999")
    # While signing, nothing may be edited; cancelling returns to the form.
    assert (await client.put(f"/api/v1/enterprise-accounts/{draft['id']}", json=form(entity),
                             headers=agent["headers"])).status_code == 409
    cancelled = await act(client, agent, draft, "cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "draft"
    assert (await client.get(f"/api/v1/authorisations/{token(old_link)}")).status_code == 410
    fixed = await client.put(f"/api/v1/enterprise-accounts/{draft['id']}", json=form(entity), headers=agent["headers"])
    assert fixed.status_code == 200, fixed.text
    assert (await act(client, agent, draft, "submit")).json()["account"]["status"] == "signing"
    [link] = await signing_links(client, server, "13800001111")
    await legal_rep_signs(client, link)
    assert (await read(client, agent, draft))["status"] == "pending_review"


async def test_unsigned_after_48_hours_the_registration_expires_and_resubmission_sends_a_new_link(client, server, clock):
    entity = await create_registered("崇左云帆科技有限公司")
    agent = await login_applicant(client, "openid-agent")
    draft = await register(client, agent, entity)
    await act(client, agent, draft, "submit")
    [first] = await signing_links(client, server, "13800001111")
    clock.advance(timedelta(hours=47, minutes=59))
    waiting = await read(client, agent, draft)
    assert waiting["status"] == "signing" and "网址直接发给法定代表人" in waiting["message"]
    forwarded = await act(client, agent, draft, "signing-link")
    assert forwarded.status_code == 200 and forwarded.json()["expires_at"] == waiting["signing"]["expires_at"]
    assert (await client.get(f"/api/v1/authorisations/{token(first)}")).status_code == 410
    clock.advance(timedelta(minutes=2))
    assert (await client.get(f"/api/v1/authorisations/{token(forwarded.json()['link'])}")).status_code == 410
    expired = await read(client, agent, draft)
    assert expired["status"] == "expired" and "重新提交" in expired["message"]
    resubmitted = await act(client, agent, draft, "resubmit")
    assert resubmitted.status_code == 200 and resubmitted.json()["account"]["status"] == "signing"
    # A second SMS to the same phone within the minute waits for the per-phone limit; it is queued, not dropped.
    queued = await OutboxMessage.filter(template="account_signing_link", recipient_index=blind_index("13800001111")).count()
    link = resubmitted.json()["signing"]["link"]
    assert queued == 2 and link != first
    await legal_rep_signs(client, link)
    assert (await read(client, agent, draft))["status"] == "pending_review"


async def test_the_legal_representative_declines_and_the_agent_resubmits(client, server):
    entity = await create_registered("崇左云帆科技有限公司")
    agent = await login_applicant(client, "openid-agent")
    draft = await register(client, agent, entity)
    await act(client, agent, draft, "submit")
    [link] = await signing_links(client, server, "13800001111")
    declined = await client.post(f"/api/v1/authorisations/{token(link)}/decline", json={"reason": "未委托此人"})
    assert declined.status_code == 200
    account = await read(client, agent, draft)
    assert account["status"] == "declined" and account["decline_reason"] == "未委托此人"
    [told] = [m for m in await delivered_sms(client, server, "13900002222") if m["template"] == "account_declined"]
    assert "未委托此人" in told["text"]
    assert (await act(client, agent, draft, "resubmit")).json()["account"]["status"] == "signing"


async def test_after_a_rejection_only_edits_to_the_key_items_need_a_new_signature(client, server):
    entity = await create_registered("崇左云帆科技有限公司")
    agent = await login_applicant(client, "openid-agent")
    reviewer = await create_staff(client, "reviewer-jz", "reviewer", "451402")
    draft = await register(client, agent, entity)
    await act(client, agent, draft, "submit")
    [link] = await signing_links(client, server, "13800001111")
    await legal_rep_signs(client, link)

    async def reject(reason):
        response = await client.post(f"/api/v1/review/enterprise-accounts/{draft['id']}/reject",
                                     json={"reason": reason}, headers=reviewer["headers"])
        assert response.status_code == 200, response.text

    empty = await client.post(f"/api/v1/review/enterprise-accounts/{draft['id']}/reject", json={"reason": ""},
                              headers=reviewer["headers"])
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "reason"
    await reject("营业执照照片不清晰")
    [result] = [m for m in await delivered_sms(client, server, "13900002222") if m["template"] == "account_result"]
    assert "营业执照照片不清晰" in result["text"]
    # A new license photo and the agent's own phone are not among seed 001's items: no new signature.
    await client.post(f"/api/v1/enterprise-accounts/{draft['id']}/license", headers=agent["headers"],
                      files={"file": ("license.png", png_bytes((800, 600)), "image/png")})
    edited = await client.put(f"/api/v1/enterprise-accounts/{draft['id']}", headers=agent["headers"],
                              json=form(entity, agent={**AGENT, "phone": "13900003333"}))
    assert edited.json()["resign_required"] is False
    again = await act(client, agent, draft, "resubmit")
    assert again.json()["account"]["status"] == "pending_review" and "signing" not in again.json()
    await reject("法定代表人手机号码有误")
    # The legal representative's phone is: the 授权委托书 must be signed again.
    edited = await client.put(f"/api/v1/enterprise-accounts/{draft['id']}", headers=agent["headers"],
                              json=form(entity, legal_rep={**LEGAL_REP, "phone": "13800005555"},
                                        agent={**AGENT, "phone": "13900003333"}))
    assert edited.json()["resign_required"] is True
    again = await act(client, agent, draft, "resubmit")
    assert again.json()["account"]["status"] == "signing"
    [link] = await signing_links(client, server, "13800005555")
    await legal_rep_signs(client, link)
    assert (await read(client, agent, draft))["status"] == "pending_review"


async def test_the_legal_representative_registers_with_their_own_face(client, server):
    entity = await create_registered("崇左云帆科技有限公司")
    me = await login_applicant(client, "openid-legal-rep")
    draft = await register(client, me, entity, registrant="legal_rep")
    assert "notice" not in draft
    no_face = await act(client, me, draft, "submit", {})
    assert no_face.status_code == 422 and no_face.json()["error"]["field"] == "verify_result"
    someone = await act(client, me, draft, "submit", {"verify_result": await face_result(client, "王芳", AGENT_ID)})
    assert someone.status_code == 422 and someone.json()["error"]["code"] == "face_mismatch"
    own = await act(client, me, draft, "submit", {"verify_result": await face_result(client, "李明", LEGAL_REP_ID)})
    assert own.status_code == 200, own.text
    assert own.json()["account"]["status"] == "pending_review" and "signing" not in own.json()
    assert await signing_links(client, server, "13800001111") == []
    reviewer = await create_staff(client, "reviewer-jz", "reviewer", "451402")
    await client.post(f"/api/v1/review/enterprise-accounts/{draft['id']}/approve", headers=reviewer["headers"])
    [result] = [m for m in await delivered_sms(client, server, "13800001111") if m["template"] == "account_result"]
    assert "审核通过" in result["text"]


async def test_a_legal_representative_without_a_resident_id_is_sent_to_the_offline_route(client):
    entity = await create_registered("崇左云帆科技有限公司")
    me = await login_applicant(client)
    for registrant in ("agent", "legal_rep"):
        body = form(entity, registrant=registrant,
                    legal_rep={"name": "John Smith", "id_type": "passport", "id_number": "E12345678",
                               "phone": "13800001111"})
        response = await client.post("/api/v1/enterprise-accounts", json=body, headers=me["headers"])
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "offline_route_required" and error["field"] == "legal_rep.id_type"
        assert "居民身份证" in error["message"] and "原流程" in error["message"] and "窗口" in error["message"]
    assert await EnterpriseAccount.all().count() == 0


async def test_registration_must_match_the_registry_and_one_account_per_enterprise(client, server):
    entity = await create_registered("崇左云帆科技有限公司")
    me = await login_applicant(client)
    wrong_name = {**form(entity), "entity_name": "崇左云帆信息技术有限公司"}
    response = await client.post("/api/v1/enterprise-accounts", json=wrong_name, headers=me["headers"])
    assert response.status_code == 422 and response.json()["error"]["field"] == "entity_name"
    bad_phone = form(entity, legal_rep={**LEGAL_REP, "phone": "12345"})
    response = await client.post("/api/v1/enterprise-accounts", json=bad_phone, headers=me["headers"])
    assert response.status_code == 422 and response.json()["error"]["field"] == "legal_rep.phone"
    no_license = (await client.post("/api/v1/enterprise-accounts", json=form(entity), headers=me["headers"])).json()
    missing = await act(client, me, no_license, "submit")
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "license"

    first = await register(client, me, entity)
    await act(client, me, first, "submit")
    other = await login_applicant(client, "openid-someone-else")
    taken = await client.post("/api/v1/enterprise-accounts", json=form(entity), headers=other["headers"])
    assert taken.status_code == 409 and taken.json()["error"]["field"] == "credit_code"


async def test_the_legal_representative_revokes_the_agents_authority(client, server):
    entity = await create_registered("崇左云帆科技有限公司")
    agent = await login_applicant(client, "openid-agent")
    draft = await register(client, agent, entity)
    await act(client, agent, draft, "submit")
    [link] = await signing_links(client, server, "13800001111")
    await legal_rep_signs(client, link)
    reviewer = await create_staff(client, "reviewer-jz", "reviewer", "451402")
    await client.post(f"/api/v1/review/enterprise-accounts/{draft['id']}/approve", headers=reviewer["headers"])

    change = await client.post("/api/v1/applications", headers=agent["headers"], json={
        "business_type": "change", "entity_type": "llc", "authority_code": "451402", "credit_code": entity.credit_code})
    assert change.status_code == 201, change.text
    # The legal representative, logged in with their own verified phone, finds the account their agent holds.
    legal_rep = await login_applicant(client, "openid-legal-rep")
    code = (await client.post("/_mock/wx/phone-code", json={"phone": "13800001111"})).json()["code"]
    await client.post("/api/v1/mp/phone", json={"code": code}, headers=legal_rep["headers"])
    [listed] = (await client.get("/api/v1/enterprise-accounts", headers=legal_rep["headers"])).json()
    assert listed["id"] == draft["id"] and listed["my_role"] == "legal_rep" and listed["status"] == "approved"
    assert (await read(client, legal_rep, draft))["agent"]["name"] == "王芳"
    assert (await act(client, legal_rep, draft, "cancel")).status_code == 404  # reading is not acting for the agent
    not_him = await act(client, legal_rep, draft, "revoke",
                        {"verify_result": await face_result(client, "王芳", AGENT_ID)})
    assert not_him.status_code == 422
    revoked = await act(client, legal_rep, draft, "revoke",
                        {"verify_result": await face_result(client, "李明", LEGAL_REP_ID)})
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    again = await client.post("/api/v1/applications", headers=agent["headers"], json={
        "business_type": "change", "entity_type": "llc", "authority_code": "451402", "credit_code": entity.credit_code})
    assert again.status_code == 403
    # The draft made while the authority stood can no longer be filed.
    filed = await client.post(f"/api/v1/applications/{change.json()['id']}/submit", json={"flow": "cloud"},
                              headers=agent["headers"])
    assert filed.status_code == 403 and filed.json()["error"]["code"] == "enterprise_account_required"
    # The enterprise may register again.
    assert (await client.post("/api/v1/enterprise-accounts", json=form(entity),
                              headers=legal_rep["headers"])).status_code == 201


async def test_coverage_per_authority_against_the_campaign_targets_and_the_friday_table(client, server, clock):
    from datetime import datetime, timezone

    from tests.helpers import create_approved_account

    clock.set(datetime(2026, 8, 3, 2, 0, tzinfo=timezone.utc))  # a Monday
    me = await login_applicant(client)
    jiangzhou = [await create_registered(f"崇左云帆{n}科技有限公司", authority_code="451402") for n in "一二三四五"]
    fusui = [await create_registered(f"扶绥海川{n}科技有限公司", authority_code="451421") for n in "一二"]
    await create_approved_account(me["applicant"]["id"], jiangzhou[0])
    await create_approved_account(me["applicant"]["id"], fusui[0])
    clock.advance(timedelta(days=7))
    await create_approved_account(me["applicant"]["id"], jiangzhou[1])
    staff = await create_staff(client, "helper-cz", "helper", "451400")

    answer = (await client.get("/api/v1/stats/enterprise-accounts/coverage", headers=staff["headers"])).json()
    rows = {row["code"]: row for row in answer["authorities"]}
    assert (rows["451402"]["registered"], rows["451402"]["with_account"], rows["451402"]["share"]) == (5, 2, 0.4)
    assert (rows["451421"]["registered"], rows["451421"]["with_account"], rows["451421"]["share"]) == (2, 1, 0.5)
    # Seed 001: 40% by the end of August, 70% by the end of October.
    assert rows["451402"]["target"] == {"by": "2026-08-31", "share": 0.4, "met": True}
    assert answer["total"]["registered"] == 7 and answer["total"]["with_account"] == 3

    weekly = (await client.get("/api/v1/stats/enterprise-accounts/weekly", headers=staff["headers"],
                               params={"from": "2026-08-01", "to": "2026-08-14"})).json()
    assert weekly["fridays"] == ["2026-08-07", "2026-08-14"]
    table = {(row["friday"], row["code"]): row for row in weekly["rows"]}
    assert table[("2026-08-07", "451402")]["with_account"] == 1
    assert table[("2026-08-14", "451402")]["with_account"] == 2
    assert table[("2026-08-14", "451402")]["new_this_week"] == 1
    sheet = await client.get("/api/v1/stats/enterprise-accounts/weekly", headers=staff["headers"],
                             params={"from": "2026-08-01", "to": "2026-08-14", "format": "csv"})
    assert sheet.headers["content-type"].startswith("text/csv")
    lines = sheet.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("统计日（周五）,登记机关代码") and "2026-08-14,451402,江州区,5,2,1,40.00%" in lines
    bad = await client.get("/api/v1/stats/enterprise-accounts/weekly", headers=staff["headers"],
                           params={"from": "08/01"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "from"
    assert date(2026, 8, 7).weekday() == 4


async def test_two_registrations_racing_for_one_enterprise_leave_exactly_one_live(client, server):
    import asyncio

    entity = await create_registered("崇左云帆科技有限公司")
    first, second = await login_applicant(client, "openid-first"), await login_applicant(client, "openid-second")
    drafts = [await register(client, first, entity), await register(client, second, entity)]
    answers = await asyncio.gather(act(client, first, drafts[0], "submit"), act(client, second, drafts[1], "submit"))
    assert sorted(answer.status_code for answer in answers) == [200, 409]
    assert await EnterpriseAccount.filter(status="signing").count() == 1
    assert await EnterpriseAccount.filter(status="draft").count() == 1


async def test_bad_input_of_any_kind_is_a_4xx_naming_the_field_and_changes_nothing(client):
    entity = await create_registered("崇左云帆科技有限公司")
    me = await login_applicant(client)
    good = form(entity)
    cases = [
        ({**good, "registrant": "boss"}, "registrant"), ({**good, "credit_code": 12345}, "credit_code"),
        ({**good, "entity_name": ["崇左"]}, "entity_name"), ({**good, "legal_rep": "李明"}, "legal_rep"),
        ({**good, "legal_rep": {**LEGAL_REP, "id_number": 451402}}, "legal_rep.id_number"),
        ({**good, "legal_rep": {**LEGAL_REP, "id_type": None}}, "legal_rep.id_type"),
        ({**good, "legal_rep": {**LEGAL_REP, "name": "x" * 65}}, "legal_rep.name"),
        ({**good, "legal_rep": {**LEGAL_REP, "extra": 1}}, "legal_rep.extra"),
        ({**good, "agent": None}, "agent"), ({**good, "agent": {**AGENT, "phone": None}}, "agent.phone"),
        ({**good, "agent": {**AGENT, "id_number": LEGAL_REP_ID}}, "registrant"),
        ({**form(entity, registrant="legal_rep"), "agent": AGENT}, "agent"), ({**good, "surprise": True}, "surprise"),
        # A wrong check character: any other one than the code's own.
        ({**good, "credit_code": entity.credit_code[:-1] + ("1" if entity.credit_code[-1] == "0" else "0")},
         "credit_code"),
    ]
    for body, field in cases:
        response = await client.post("/api/v1/enterprise-accounts", json=body, headers=me["headers"])
        assert response.status_code == 422, (field, response.text)
        assert response.json()["error"]["field"] == field, (field, response.text)
    for raw_body in (b"[]", b"not json", b""):
        response = await client.post("/api/v1/enterprise-accounts", content=raw_body, headers=me["headers"])
        assert response.status_code == 400
    assert await EnterpriseAccount.all().count() == 0
    account = await register(client, me, entity)
    for path, body in (("submit", {"verify_result": 5}), ("submit", {"flow": "cloud"}), ("revoke", {})):
        response = await act(client, me, account, path, body)
        assert 400 <= response.status_code < 500, response.text
    text_file = await client.post(f"/api/v1/enterprise-accounts/{account['id']}/license", headers=me["headers"],
                                  files={"file": ("license.png", b"not an image", "image/png")})
    assert text_file.status_code == 422 and text_file.json()["error"]["field"] == "file"
    for url in ("/api/v1/enterprise-accounts/not-a-uuid", "/api/v1/authorisations/not-a-token", "/a/not-a-token"):
        assert (await client.get(url, headers=me["headers"])).status_code == 404
    assert (await read(client, me, account))["status"] == "draft"

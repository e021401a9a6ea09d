"""One 设立 of an 有限责任公司 with three shareholders, from WeChat login to 受理, all over real HTTP: the applicant's
phone, the registrar's back office, and each signatory opening the link texted to them and reading the generated
申请书 before signing (no hand-signed upload anywhere).
The shareholder holding a passport needs no signature (有效签名判定 rule 2), so only two people sign, once each."""
import asyncio
import io

from pypdf import PdfReader

from server.models.notifications import OutboxMessage
from server.services.notifications.outbox import deliver_due

from tests.helpers import create_staff, delivered_sms, person_form
from wxmock.phone import PhoneClient

NAME = "崇左云帆科技有限公司"
ENTITY = {"address": "崇左市江州区新民路1号", "business_scope": "软件开发；信息技术咨询服务", "contact_phone": "13800138000",
          "operating_term": "长期", "registered_capital": "100"}
LI = dict(name="李明", body17="45140219880512123", phone="13800138011")
WANG = dict(name="王芳", body17="45142119920228004", phone="13800138012")
PARTIES = [
    person_form("legal_rep", **LI),
    person_form("liaison", **LI),
    person_form("investor", share_percent="40", **LI),
    person_form("investor", share_percent="35", **WANG),
    {"role": "investor", "kind": "person", "name": "John Smith", "id_type": "passport", "id_number": "E12345678",
     "phone": "13800138013", "share_percent": "25"},
]


async def test_llc_establishment_with_three_shareholders_reaches_acceptance(client, server):
    reviewer = await create_staff(client, "e2e-reviewer", "reviewer", "451402")
    phone = PhoneClient(server.base_url, "openid-e2e")
    run = asyncio.to_thread

    await run(phone.login)
    await run(phone.bind_phone, "13800138010")
    assert (await run(phone.check_name, NAME))["available"] is True
    await run(phone.reserve_name, NAME)
    filled = await run(phone.fill_application, "establish", "llc", "451402", name=NAME, entity=ENTITY, parties=PARTIES)
    assert filled["missing"] == []
    # Nobody signs paper: the 申请书 is generated, never uploaded.
    assert "application_form" not in {attachment["kind"] for attachment in filled["attachments"]}
    app_id = filled["id"]

    signatories = await run(phone.signatories, app_id)
    required = {s["name"] for s in signatories if s["required"]}
    assert required == {"李明", "王芳"}
    assert {s["method"] for s in signatories if s["name"] == "John Smith"} == {"none"}

    assert (await run(phone.submit, app_id, "cloud", "e2e-submit-1"))["status"] == "cloud_review"
    queue = (await client.get("/api/v1/review/queue", headers=reviewer["headers"])).json()
    assert [item["id"] for item in queue["items"]] == [app_id]
    locked = await client.post(f"/api/v1/review/applications/{app_id}/approve-lock", headers=reviewer["headers"])
    assert locked.status_code == 200
    snapshot_hash = locked.json()["snapshot_hash"]

    texted = await delivered_sms(client, server)
    links = {m["phone"]: m["params"]["link"] for m in texted if m["template"] == "signing_link"}
    assert set(links) == {LI["phone"], WANG["phone"]}
    assert any(m["phone"] == "13800138010" and m["template"] == "cloud_approved" for m in texted)

    for signer_phone in (LI["phone"], WANG["phone"]):
        signer = PhoneClient(server.base_url, f"openid-signer-{signer_phone}")
        shown = await run(signer.open_link, links[signer_phone])
        assert shown["snapshot_hash"] == snapshot_hash
        form = await run(signer.read_document, links[signer_phone])
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(form)).pages)
        for expected in (NAME, "李明", "王芳", "John Smith", snapshot_hash):
            assert expected in text, expected
        await run(signer.sign_link, links[signer_phone])
        signer.close()

    # 事后确认: every party hears of each signature; the per-phone limit (1/minute) delays some, never drops them.
    # The applicant (经办人, 13800138010) hears of them too.
    notices = await OutboxMessage.filter(template="signed_notice").values_list("recipient", "status")
    assert {recipient for recipient, _ in notices} == {LI["phone"], WANG["phone"], "13800138013", "13800138010"}
    assert {status for _, status in notices} <= {"pending", "sent"}

    # The last signature submitted the case by itself, and the applicant was told at once.
    assert (await run(phone.application, app_id))["status"] == "submitted"
    await deliver_due(server.app.ctx)
    assert any(m["template"] == "signing_complete" for m in await run(phone.sms_inbox, "13800138010"))
    again = await run(phone.call, "POST", f"/api/v1/applications/{app_id}/submit", json={"flow": "cloud"})
    assert again.status_code == 409
    verified = (await client.get("/api/v1/evidence/verify", headers=reviewer["headers"])).json()
    assert verified["ok"] is True and verified["entries"] == 2
    steps = [step["action"] for step in await run(phone.timeline, app_id)]
    assert steps == ["create", "submit_cloud", "approve_lock", "sign", "sign", "submit_signed"], steps
    documents = await run(phone.ok, "GET", f"/api/v1/applications/{app_id}/documents")
    assert [d["kind"] for d in documents] == ["application_form", "signed"]
    accepted = await client.post(f"/api/v1/review/applications/{app_id}/accept", headers=reviewer["headers"])
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    phone.close()

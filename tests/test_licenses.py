"""Paper licenses after approval (seed 000 全市通办 异地取照, seed 002 领取和收缴台账, seed 004 邮寄送达): the applicant's
choice, the window that hands it out, the old license of a 变更 collected first, SMS at each step, the ledger and
its XLSX with personal data masked."""
import asyncio
import io

from openpyxl import load_workbook
from wxmock.phone import PhoneClient

from server.models.accounts import Applicant
from server.models.licenses import LicenseIssue
from tests.helpers import create_review_application, create_staff, delivered_sms, login_applicant, resident_id, \
    valid_credit_code

PHONE = "13677778888"


async def _sms(client, server, template: str) -> dict:
    """The newest SMS of this template to the applicant. The per-phone limit (one a minute) counts in real time in
    the cache, and these messages come minutes or days apart in life: the windows are emptied first."""
    await server.app.ctx.cache.clear()
    return {m["template"]: m for m in await delivered_sms(client, server, PHONE)}[template]


async def _approved(client, server, reviewer, business_type="establish", openid="openid-license", **fields):
    login = await login_applicant(client, openid)
    await Applicant.filter(id=login["applicant"]["id"]).update(phone=PHONE)
    application = await create_review_application(login["applicant"]["id"], status="accepted", flow="general",
                                                  uploads_dir=server.settings.uploads.dir,
                                                  business_type=business_type, **fields)
    approved = await client.post(f"/api/v1/review/applications/{application.id}/approve", headers=reviewer["headers"])
    assert approved.status_code == 200, approved.text
    await _sms(client, server, "application_result")
    return str(application.id), login


async def test_pickup_at_another_authority_of_the_city_end_to_end_with_sms(client, server):
    approver = await create_staff(client, "jiangzhou-reviewer", "reviewer", "451402")
    window = await create_staff(client, "pingxiang-window", "helper", "451481")
    app_id, login = await _approved(client, server, approver)
    mine = await client.get(f"/api/v1/applications/{app_id}/license", headers=login["headers"])
    assert mine.status_code == 200 and mine.json()["status_label"] == "待选择领取方式"

    outside = await client.post(f"/api/v1/applications/{app_id}/license", headers=login["headers"],
                                json={"method": "window", "pickup_authority_code": "450100"})
    assert outside.status_code == 422 and outside.json()["error"]["field"] == "pickup_authority_code"
    # Chosen on the phone, as the mini-program does.
    phone = PhoneClient(server.base_url, "openid-license")
    await asyncio.to_thread(phone.login)
    chosen = await asyncio.to_thread(phone.choose_license, app_id, "window", pickup_authority_code="451481")
    assert chosen["pickup_authority_name"] == "凭祥市" and chosen["status"] == "awaiting_print"
    phone.close()
    again = await client.post(f"/api/v1/applications/{app_id}/license", headers=login["headers"],
                              json={"method": "electronic"})
    assert again.status_code == 409

    [waiting] = (await client.get("/api/v1/licenses/window", headers=window["headers"])).json()
    assert waiting["application_id"] == app_id
    assert (await client.get("/api/v1/licenses/window", headers=approver["headers"])).json() == []
    # The approving authority may look but not hand out a license the applicant collects elsewhere.
    elsewhere = await client.post(f"/api/v1/licenses/{waiting['id']}/ready", headers=approver["headers"],
                                  json={"serial_number": "451481000001"})
    assert elsewhere.status_code == 409 and elsewhere.json()["error"]["code"] == "not_this_window"

    ready = await client.post(f"/api/v1/licenses/{waiting['id']}/ready", headers=window["headers"],
                              json={"serial_number": "451481000001"})
    assert ready.status_code == 200 and ready.json()["status_label"] == "待领取"
    told = await _sms(client, server, "license_ready")
    assert "营业执照已打印" in told["text"] and "凭祥市" in told["text"]

    hand_over = {"serial_number": "451481000001", "collected_by": "李明", "id_type": "resident_id",
                 "id_number": resident_id("19900307", "123"), "id_checked": True}
    wrong = await client.post(f"/api/v1/licenses/{waiting['id']}/hand-over", headers=window["headers"],
                              json={**hand_over, "serial_number": "451481000002"})
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "serial_number"
    unchecked = await client.post(f"/api/v1/licenses/{waiting['id']}/hand-over", headers=window["headers"],
                                  json={**hand_over, "id_checked": False})
    assert unchecked.status_code == 422 and unchecked.json()["error"]["field"] == "id_checked"
    done = await client.post(f"/api/v1/licenses/{waiting['id']}/hand-over", headers=window["headers"],
                             json=hand_over)
    assert done.status_code == 200, done.text
    view = done.json()
    assert view["status_label"] == "已领取" and view["collected_by_masked"] == "李*"
    assert view["collector_id_masked"].startswith("451") and "19900307" not in view["collector_id_masked"]
    newest = await _sms(client, server, "license_handed_over")
    assert "451481000001" in newest["text"] and "李*" in newest["text"] and "李明" not in newest["text"]
    stored = await LicenseIssue.get(id=waiting["id"])
    assert resident_id("19900307", "123") not in str(stored.collector_id_masked)

    ledger = (await client.get("/api/v1/licenses/", params={"window": "451481", "from": "2000-01-01"},
                               headers=window["headers"])).json()
    assert [item["serial_number"] for item in ledger["items"]] == ["451481000001"]
    export = await client.get("/api/v1/licenses/export.xlsx", params={"window": "451481"}, headers=window["headers"])
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("统一社会信用代码", "名称", "业务类型")
    assert rows[1][1] == "崇左云帆科技有限公司" and rows[1][4] == "凭祥市" and rows[1][7] == "李*"
    assert "李明" not in {cell for row in rows for cell in row}


async def test_changed_license_is_not_handed_out_before_the_old_one_is_collected_or_declared_lost(client, server):
    reviewer = await create_staff(client, "change-reviewer", "reviewer", "451402")
    code = valid_credit_code("451402", "MA5K0C01")
    app_id, login = await _approved(client, server, reviewer, business_type="change", credit_code=code)
    issue = (await client.get(f"/api/v1/applications/{app_id}/license", headers=login["headers"])).json()
    assert issue["old_license_label"] == "待收缴"
    await client.post(f"/api/v1/applications/{app_id}/license", headers=login["headers"],
                      json={"method": "window", "pickup_authority_code": "451402"})
    await client.post(f"/api/v1/licenses/{issue['id']}/ready", headers=reviewer["headers"],
                      json={"serial_number": "A100"})
    hand_over = {"serial_number": "A100", "collected_by": "王芳", "id_type": "resident_id",
                 "id_number": resident_id("19920815", "234"), "id_checked": True}
    refused = await client.post(f"/api/v1/licenses/{issue['id']}/hand-over", headers=reviewer["headers"],
                                json=hand_over)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "old_license_outstanding"
    assert (await LicenseIssue.get(id=issue["id"])).status == "ready_for_pickup"

    no_reason = await client.post(f"/api/v1/licenses/{issue['id']}/old-license", headers=reviewer["headers"],
                                  json={"outcome": "lost"})
    assert no_reason.status_code == 422 and no_reason.json()["error"]["field"] == "reason"
    lost = await client.post(f"/api/v1/licenses/{issue['id']}/old-license", headers=reviewer["headers"],
                             json={"outcome": "lost", "reason": "已在国家企业信用信息公示系统声明作废"})
    assert lost.status_code == 200 and lost.json()["old_license_label"] == "已声明遗失"
    twice = await client.post(f"/api/v1/licenses/{issue['id']}/old-license", headers=reviewer["headers"],
                              json={"outcome": "collected", "old_serial_number": "OLD1"})
    assert twice.status_code == 409
    handed = await client.post(f"/api/v1/licenses/{issue['id']}/hand-over", headers=reviewer["headers"],
                               json=hand_over)
    assert handed.status_code == 200 and handed.json()["status"] == "handed_over"


async def test_posted_change_waits_for_the_old_license_then_tells_the_tracking_number(client, server):
    reviewer = await create_staff(client, "post-reviewer", "reviewer", "451402")
    code = valid_credit_code("451402", "MA5K0C02")
    app_id, login = await _approved(client, server, reviewer, business_type="change", credit_code=code)
    incomplete = await client.post(f"/api/v1/applications/{app_id}/license", headers=login["headers"],
                                   json={"method": "post", "recipient_name": "王芳", "recipient_phone": "1390000"})
    assert incomplete.status_code == 422 and incomplete.json()["error"]["field"] == "recipient_phone"
    chosen = await client.post(f"/api/v1/applications/{app_id}/license", headers=login["headers"], json={
        "method": "post", "recipient_name": "王芳", "recipient_phone": "13900002222",
        "postal_address": "广西崇左市江州区新民路1号3栋201"})
    assert chosen.status_code == 200, chosen.text
    [waiting] = (await client.get("/api/v1/licenses/window", headers=reviewer["headers"])).json()
    assert waiting["postal_address_masked"] == "广西崇左市江州区****"
    assert waiting["recipient_phone_masked"] == "139****2222" and waiting["recipient_name_masked"] == "王*"
    posting = {"serial_number": "A200", "carrier": "中国邮政EMS", "tracking_number": "1180000000001"}
    refused = await client.post(f"/api/v1/licenses/{waiting['id']}/post", headers=reviewer["headers"], json=posting)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "old_license_outstanding"
    collected = await client.post(f"/api/v1/licenses/{waiting['id']}/old-license", headers=reviewer["headers"],
                                  json={"outcome": "collected", "old_serial_number": "OLD-1"})
    assert collected.status_code == 422 and collected.json()["error"]["field"] == "old_serial_number"
    collected = await client.post(f"/api/v1/licenses/{waiting['id']}/old-license", headers=reviewer["headers"],
                                  json={"outcome": "collected", "old_serial_number": "OLD1"})
    assert collected.status_code == 200
    posted = await client.post(f"/api/v1/licenses/{waiting['id']}/post", headers=reviewer["headers"], json=posting)
    assert posted.status_code == 200 and posted.json()["status_label"] == "已邮寄"
    told = await _sms(client, server, "license_posted")
    assert "中国邮政EMS" in told["text"] and "1180000000001" in told["text"]


async def test_electronic_only_and_deregistrations_have_nothing_to_collect(client, server):
    reviewer = await create_staff(client, "e-reviewer", "reviewer", "451402")
    app_id, login = await _approved(client, server, reviewer)
    chosen = await client.post(f"/api/v1/applications/{app_id}/license", headers=login["headers"],
                               json={"method": "electronic"})
    assert chosen.status_code == 200 and chosen.json()["status_label"] == "仅领取电子营业执照"
    assert (await client.get("/api/v1/licenses/window", headers=reviewer["headers"])).json() == []
    code = valid_credit_code("451402", "MA5K0D01")
    cancelled_id, login = await _approved(client, server, reviewer, business_type="deregister", credit_code=code,
                                          openid="openid-deregister")
    assert (await client.get(f"/api/v1/applications/{cancelled_id}/license",
                             headers=login["headers"])).status_code == 404

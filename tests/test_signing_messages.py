"""Messages around signing: classes with their own budgets and priority, coalesced 事后确认 to every party and the
applicant (SMS and e-mail over real SMTP), reminders before a link expires and the applicant's notice at expiry."""
from datetime import datetime, timedelta, timezone

from server.crypto import blind_index
from server.models.notifications import DevSms, OutboxMessage
from server.models.signing import SigningRequest
from server.services.notifications import messages
from server.services.notifications.outbox import OutboxSender
from tests.helpers import (
    create_locked_application,
    enterprise,
    create_staff,
    face_result,
    login_applicant,
    person,
    read_application_form,
    resident_id,
    signature_png_base64,
    token_of,
)

ZHANG_ID, LI_ID = resident_id(sequence="111"), resident_id(birth="19851231", sequence="222")
APPLICANT_PHONE = "13900000009"
PHONE = "13800000077"
START = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)  # 09:00 in 崇左


def _parties(email=None):
    return [
        person("张三", role="legal_rep", id_number=ZHANG_ID, phone="13800000001"),
        person("张三", role="investor", id_number=ZHANG_ID, phone="13800000001", share="60"),
        {**person("李四", role="investor", id_number=LI_ID, phone="13800000002", share="40"), "email": email},
    ]


async def _locked(client, email=None):
    login = await login_applicant(client)
    code = (await client.post("/_mock/wx/phone-code", json={"phone": APPLICANT_PHONE})).json()["code"]
    assert (await client.post("/api/v1/mp/phone", json={"code": code}, headers=login["headers"])).status_code == 200
    application = await create_locked_application(login["applicant"]["id"], _parties(email))
    response = await client.post(f"/api/v1/applications/{application.id}/signing-requests", headers=login["headers"])
    assert response.status_code == 201, response.text
    return application, login, {item["name"]: item["link"] for item in response.json()}


async def _sign(client, link, name, id_number):
    token = token_of(link)
    await read_application_form(client, token)
    face = await client.post(f"/api/v1/sign/{token}/face",
                             json={"verify_result": await face_result(client, name, id_number)})
    assert face.status_code == 200, face.text
    response = await client.post(f"/api/v1/sign/{token}", json={"signature_png_base64": signature_png_base64()})
    assert response.status_code == 200, response.text


def _one_at_a_time(server):
    """A sender claiming one message per round, so the order of claims is the order of sending."""
    settings = server.settings.model_copy(update={"outbox": server.settings.outbox.model_copy(
        update={"concurrency": 1})})
    ctx = server.app.ctx
    return OutboxSender(settings, ctx.cache, ctx.sms, ctx.wechat)


# --- classes ---------------------------------------------------------------------------------------------------

async def test_a_signing_link_goes_before_thirty_queued_notices_to_the_same_phone(server, paused_outbox):
    for index in range(30):
        await messages.enqueue_notice("sms", PHONE, f"application-{index}", {
            "name": f"企业{index}", "business": "设立登记", "hash": "3f2a9c1d"}, "王五于2026-11-23 09:00", 0,
            connection=None)
    link = await messages.enqueue_sms(PHONE, "signing_link", {
        "signer": "张三", "name": "崇左云帆科技有限公司", "role": "法定代表人", "business": "设立登记", "hours": 48,
        "link": "http://example/s/x", "wxlink": ""})
    sender = _one_at_a_time(server)
    await sender.deliver_due()

    received = await DevSms.filter(phone_index=blind_index(PHONE)).order_by("id").values_list("out_id", "template")
    assert received[0] == (str(link.id), "signing_link")
    # Notices spend their own budget (1 a minute): the rest wait, and have not touched the link's budget.
    assert [template for _, template in received[1:]] == ["signed_notice"]
    assert await OutboxMessage.filter(template="signed_notice", status="pending").count() == 29
    second = await messages.enqueue_sms(PHONE, "signing_link", {
        "signer": "张三", "name": "另一企业", "role": "法定代表人", "business": "设立登记", "hours": 48,
        "link": "http://example/s/y", "wxlink": ""})
    await sender.deliver_due()
    assert (await OutboxMessage.get(id=second.id)).status == "sent"


async def test_a_verification_code_is_never_refused_because_of_notices(server, paused_outbox, client):
    for index in range(3):
        await messages.enqueue_notice("sms", PHONE, f"application-{index}", {
            "name": "企业", "business": "设立登记", "hash": "3f2a9c1d"}, "王五", 0, connection=None)
    await _one_at_a_time(server).deliver_due()
    login = await login_applicant(client)
    response = await client.post("/api/v1/mp/sms-code", json={"phone": PHONE}, headers=login["headers"])
    assert response.status_code == 200, response.text


# --- 事后确认 -------------------------------------------------------------------------------------------------

async def test_notices_go_to_every_party_and_the_applicant_coalesced_with_the_hash_prefix(client, server,
                                                                                     paused_outbox, clock):
    clock.set(START)
    application, _, links = await _locked(client, email="lisi@example.com")
    await _sign(client, links["张三"], "张三", ZHANG_ID)
    clock.advance(timedelta(seconds=30))
    await _sign(client, links["李四"], "李四", LI_ID)

    notices = await OutboxMessage.filter(template="signed_notice").values_list("channel", "recipient", "params")
    assert sorted((c, r) for c, r, _ in notices) == [
        ("email", "lisi@example.com"), ("sms", "13800000001"), ("sms", "13800000002"), ("sms", APPLICANT_PHONE)]
    for _, _, params in notices:
        assert params["signers"] == "张三于2026-11-23 09:00、李四于2026-11-23 09:00"
        assert params["hash"] == application.snapshot_hash[:8]
    await paused_outbox.deliver_due()
    assert await DevSms.filter(template="signed_notice").count() == 0  # still gathering within the window
    clock.advance(timedelta(seconds=server.settings.sms.notice_coalesce_seconds))
    await paused_outbox.deliver_due()
    assert await DevSms.filter(template="signed_notice", phone_index=blind_index(APPLICANT_PHONE)).count() == 1
    mails = server.app.ctx.mail_state.to("lisi@example.com")
    assert len(mails) == 1 and mails[0].deliveries == 1
    assert "张三于2026-11-23 09:00、李四于2026-11-23 09:00" in mails[0].text
    assert application.snapshot_hash[:8] in mails[0].text and "事后确认" in mails[0].subject


async def test_a_bad_email_address_is_refused_naming_the_field(client):
    login = await login_applicant(client)
    created = await client.post("/api/v1/applications", json={
        "business_type": "establish", "entity_type": "llc", "authority_code": "451402"}, headers=login["headers"])
    assert created.status_code == 201, created.text
    response = await client.patch(f"/api/v1/applications/{created.json()['id']}", json={"parties": [
        {**person("李四", role="investor", id_number=LI_ID, phone="13800000002"), "email": "not-an-address"}]},
        headers=login["headers"])
    assert response.status_code == 422 and response.json()["error"]["field"] == "parties[0].email"
    assert response.json()["error"]["message"] == "电子邮箱格式不正确"
    given = await client.patch(f"/api/v1/applications/{created.json()['id']}", json={"parties": [
        {**person("李四", role="investor", id_number=LI_ID, phone="13800000002"), "email": "lisi@example.com"}]},
        headers=login["headers"])
    assert given.status_code == 200, given.text
    assert given.json()["parties"][0]["email"] == "lisi@example.com"


# --- reminders ---------------------------------------------------------------------------------------------------

async def test_reminders_are_scheduled_sent_once_and_cancelled_by_signing(client, server, paused_outbox, clock):
    clock.set(START)
    application, _, links = await _locked(client)
    admin = await create_staff(client, "admin1", "admin")
    listed = (await client.get("/api/v1/admin/messages?status=pending", headers=admin["headers"])).json()["items"]
    reminders = sorted((m["recipient"], m["next_attempt_at"]) for m in listed if m["template"] == "signing_reminder")
    expiry = START + timedelta(hours=48)
    assert sorted(at for _, at in reminders) == sorted([(expiry - timedelta(hours=h)).isoformat() for h in (24, 2)] * 2)

    clock.set(expiry - timedelta(hours=24))
    await paused_outbox.deliver_due()
    sent = await DevSms.filter(template="signing_reminder").values_list("phone", flat=True)
    assert sorted(sent) == ["13800000001", "13800000002"]
    await paused_outbox.deliver_due()
    assert await DevSms.filter(template="signing_reminder").count() == 2  # once per offset

    await _sign(client, links["张三"], "张三", ZHANG_ID)
    clock.set(expiry - timedelta(hours=2))
    await paused_outbox.deliver_due()
    sent = await DevSms.filter(template="signing_reminder").values_list("phone", flat=True)
    assert sorted(sent) == ["13800000001", "13800000002", "13800000002"]
    reminder = (await DevSms.filter(template="signing_reminder", phone_index=blind_index("13800000002")).first())
    assert "2026-11-25 09:00" in reminder.text and links["李四"] in reminder.text

    clock.set(expiry)
    await paused_outbox.deliver_due()
    expired = await DevSms.filter(template="signing_expired").values_list("phone", "text")
    assert len(expired) == 1 and expired[0][0] == APPLICANT_PHONE and "李四" in expired[0][1]
    assert (await client.get(f"/api/v1/sign/{token_of(links['李四'])}")).status_code == 410


async def test_a_resend_makes_a_new_48_hour_link_and_moves_the_reminders(client, server, paused_outbox, clock):
    clock.set(START)
    application, login, links = await _locked(client)
    clock.set(START + timedelta(hours=50))
    resent = await client.post(f"/api/v1/applications/{application.id}/signing-requests", headers=login["headers"])
    assert resent.status_code == 201
    fresh = {item["name"]: item for item in resent.json()}
    assert datetime.fromisoformat(fresh["李四"]["expires_at"]) == START + timedelta(hours=98)
    old = await SigningRequest.filter(application_id=application.id, status="replaced").values_list("id", flat=True)
    assert len(old) == 2
    assert not await OutboxMessage.filter(reference__in=[f"signing_request:{i}" for i in old],
                                          status="pending").exists()
    assert (await client.get(f"/api/v1/sign/{token_of(links['李四'])}")).status_code == 410
    assert (await client.get(f"/api/v1/sign/{token_of(fresh['李四']['link'])}")).status_code == 200


async def test_an_enterprise_investor_needs_a_contact_person_with_a_phone(client):
    login = await login_applicant(client)
    created = await client.post("/api/v1/applications", json={
        "business_type": "establish", "entity_type": "llc", "authority_code": "451402"}, headers=login["headers"])
    base = f"/api/v1/applications/{created.json()['id']}"
    company = {key: value for key, value in enterprise("崇左甲贸易有限公司").items() if key != "share_percent"}
    without = await client.patch(base, json={"parties": [company]}, headers=login["headers"])
    assert without.status_code == 200, without.text
    missing = {item["field"] for item in without.json()["missing"]}
    assert {"parties[0].contact_name", "parties[0].phone"} <= missing
    given = await client.patch(base, json={"parties": [{**company, "contact_name": "王五", "phone": "13800000005"}]},
                               headers=login["headers"])
    assert given.status_code == 200, given.text
    missing = {item["field"] for item in given.json()["missing"]}
    assert not {"parties[0].contact_name", "parties[0].phone"} & missing
    assert given.json()["parties"][0]["contact_name"] == "王五"
    person_contact = await client.patch(base, json={"parties": [
        {**person("李四", role="investor", id_number=LI_ID), "contact_name": "某人"}]}, headers=login["headers"])
    assert person_contact.status_code == 422 and person_contact.json()["error"]["field"] == "parties[0].contact_name"

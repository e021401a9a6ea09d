"""Remote signing through the links: sending, resending, expiry, face verification, signing and declining."""
import hashlib
import json
from datetime import timedelta

from server.crypto import blind_index
from server.models.applications import TimelineEntry
from server.models.notifications import OutboxMessage
from server.models.signing import EvidenceEntry, FaceVerification, Signature, SigningRequest
from server.services import signing
from server.services.notifications import messages
from server.clock import now
from tests.helpers import (
    delivered_sms,
    create_application,
    create_locked_application,
    enterprise,
    face_result,
    login_applicant,
    person,
    read_application_form,
    resident_id,
    signature_png_base64,
    token_of,
)

ZHANG_ID, LI_ID = resident_id(sequence="111"), resident_id(birth="19851231", sequence="222")


def _parties():
    return [
        person("张三", role="legal_rep", id_number=ZHANG_ID, phone="13800000001"),
        person("张三", role="investor", id_number=ZHANG_ID, phone="13800000001", share="50"),
        person("李四", role="investor", id_number=LI_ID, phone="13800000002", share="30"),
        person("Mary Lee", role="investor", id_type="passport", id_number="P9988776", phone="13800000003", share="10"),
        enterprise("崇左甲贸易有限公司", origin="home_province", share="10"),
    ]


async def _locked(client, parties=None):
    login = await login_applicant(client)
    application = await create_locked_application(login["applicant"]["id"], parties or _parties())
    response = await client.post(f"/api/v1/applications/{application.id}/signing-requests", headers=login["headers"])
    assert response.status_code == 201, response.text
    links = {item["name"]: item for item in response.json()}
    return application, login, links


async def _pass_face(client, token, name, id_number):
    await read_application_form(client, token)
    response = await client.post(f"/api/v1/sign/{token}/face",
                                 json={"verify_result": await face_result(client, name, id_number)})
    assert response.status_code == 200, response.text


async def _sign_person(client, link, name, id_number, **extra):
    token = token_of(link["link"])
    await _pass_face(client, token, name, id_number)
    response = await client.post(f"/api/v1/sign/{token}", json={"signature_png_base64": signature_png_base64(), **extra},
                                 headers={"User-Agent": "test-phone/1.0"})
    assert response.status_code == 200, response.text
    return response.json()


async def test_lock_sends_one_sms_link_per_required_signatory(client, server):
    application, _, links = await _locked(client)
    assert sorted(links) == ["崇左甲贸易有限公司", "张三", "李四"]
    for item in links.values():
        assert item["link"].startswith(server.settings.base_url + "/s/") and len(token_of(item["link"])) >= 43
        assert item["status"] == "pending"
    texted = sorted((m["phone"], m["params"]["link"]) for m in await delivered_sms(client, server)
                    if m["template"] == "signing_link")
    assert texted == [("13800000001", links["张三"]["link"]), ("13800000002", links["李四"]["link"])]
    # Delivered, the outbox keeps no link: the tokens exist only as hashes (and in the phones' inboxes).
    sms = await OutboxMessage.filter(channel="sms", template="signing_link")
    assert sorted(m.recipient for m in sms) == ["13800000001", "13800000002"]
    assert {m.status for m in sms} == {"sent"} and {m.params["link"] for m in sms} == {"******"}
    stored = await SigningRequest.all().values_list("token_hash", flat=True)
    assert all(token_of(item["link"]) not in stored for item in links.values())
    assert hashlib.sha256(token_of(links["张三"]["link"]).encode()).hexdigest() in stored
    assert {r.snapshot_hash for r in await SigningRequest.all()} == {application.snapshot_hash}


async def test_link_shows_locked_materials_with_every_id_number_masked(client):
    application, _, links = await _locked(client)
    response = await client.get(f"/api/v1/sign/{token_of(links['李四']['link'])}")
    assert response.status_code == 200
    view = response.json()
    assert view["snapshot_hash"] == application.snapshot_hash and view["status"] == "pending"
    assert view["signer"]["name"] == "李四" and view["signer"]["method"] == "face"
    numbers = {p["name"]: p["id_number"] for p in view["application"]["parties"] if p["kind"] == "person"}
    assert numbers["李四"] == LI_ID[:4] + "*" * 10 + LI_ID[-4:] and view["signer"]["id_number"] == numbers["李四"]
    for whole in (LI_ID, ZHANG_ID, "P9988776"):
        assert whole not in json.dumps(view)
    assert view["application"]["name"] == application.name and view["application"]["entity_label"] == "有限责任公司"


async def test_signing_page_never_holds_a_whole_id_number(client):
    """The probe: the (forwardable) signing page showed the signer's full ID number."""
    _, _, links = await _locked(client)
    page = await client.get(f"/s/{token_of(links['李四']['link'])}")
    assert page.status_code == 200
    assert LI_ID not in page.text and ZHANG_ID not in page.text
    assert LI_ID[:4] + "*" * 10 + LI_ID[-4:] in page.text


async def test_resend_voids_the_old_link_and_keeps_both_messages(client, paused_outbox):
    application, login, links = await _locked(client)
    old = token_of(links["张三"]["link"])
    resent = await client.post(f"/api/v1/applications/{application.id}/signing-requests",
                               json={"party_id": links["张三"]["party_id"]}, headers=login["headers"])
    assert resent.status_code == 201 and [item["name"] for item in resent.json()] == ["张三"]
    new = token_of(resent.json()[0]["link"])
    assert (await client.get(f"/api/v1/sign/{old}")).status_code == 410
    assert (await client.get(f"/api/v1/sign/{new}")).status_code == 200
    assert (await client.get(f"/api/v1/sign/{token_of(links['李四']['link'])}")).status_code == 200
    # Both SMS are in the outbox (the sender, paused here, paces them by the per-phone limits): none is dropped.
    queued = await OutboxMessage.filter(recipient_index=blind_index("13800000001"), template="signing_link").values_list("params", flat=True)
    assert sorted(p["link"] for p in queued) == sorted([links["张三"]["link"], resent.json()[0]["link"]])


async def test_expired_link_is_gone_on_api_and_page(client):
    application, login, links = await _locked(client)
    await SigningRequest.all().update(expires_at=now() - timedelta(seconds=1))
    token = token_of(links["张三"]["link"])
    response = await client.get(f"/api/v1/sign/{token}")
    assert response.status_code == 410 and response.json()["error"]["code"] == "gone"
    page = await client.get(f"/s/{token}")
    assert page.status_code == 410 and "已失效" in page.text
    statuses = (await client.get(f"/api/v1/applications/{application.id}/signatories", headers=login["headers"])).json()
    assert {s["name"]: s["status"] for s in statuses}["张三"] == "expired"


async def test_guessed_used_and_expired_tokens_reveal_nothing(client):
    _, _, links = await _locked(client)
    guessed = await client.get("/api/v1/sign/" + "A" * 43)
    assert guessed.status_code == 404
    page = await client.get("/s/" + "A" * 43)
    assert page.status_code == 404 and "无效" in page.text
    await _sign_person(client, links["张三"], "张三", ZHANG_ID)
    used = await client.get(f"/api/v1/sign/{token_of(links['张三']['link'])}")
    await SigningRequest.filter(signer_name="李四").update(expires_at=now() - timedelta(seconds=1))
    expired = await client.get(f"/api/v1/sign/{token_of(links['李四']['link'])}")
    assert used.status_code == expired.status_code == 410
    assert used.json() == expired.json()
    assert "张三" not in used.text and "李四" not in expired.text
    for method, path in (("POST", "/face"), ("POST", ""), ("POST", "/decline")):
        again = await client.request(method, f"/api/v1/sign/{token_of(links['张三']['link'])}{path}",
                                     json={"verify_result": "x"} if path == "/face" else {"reason": "x"} if path else {})
        assert again.status_code == 410


async def test_face_mismatch_is_refused(client):
    _, _, links = await _locked(client)
    token = token_of(links["张三"]["link"])
    result = await face_result(client, "张三", ZHANG_ID, outcome="mismatch")
    response = await client.post(f"/api/v1/sign/{token}/face", json={"verify_result": result})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "face_mismatch" and "不符" in response.json()["error"]["message"]
    other = await face_result(client, "李四", LI_ID)
    response = await client.post(f"/api/v1/sign/{token}/face", json={"verify_result": other})
    assert response.json()["error"]["code"] == "face_mismatch"


async def test_failed_liveness_is_refused(client):
    _, _, links = await _locked(client)
    result = await face_result(client, "张三", ZHANG_ID, outcome="fail")
    response = await client.post(f"/api/v1/sign/{token_of(links['张三']['link'])}/face", json={"verify_result": result})
    assert response.status_code == 422 and response.json()["error"]["code"] == "face_failed"


async def test_replayed_verify_result_is_refused(client):
    _, _, links = await _locked(client)
    result = await face_result(client, "张三", ZHANG_ID)
    token = token_of(links["张三"]["link"])
    assert (await client.post(f"/api/v1/sign/{token}/face", json={"verify_result": result})).status_code == 200
    again = await client.post(f"/api/v1/sign/{token}/face", json={"verify_result": result})
    assert again.status_code == 422 and again.json()["error"]["code"] == "face_replayed"
    assert await FaceVerification.all().count() == 1


async def test_stale_verify_result_is_refused(client, server):
    _, _, links = await _locked(client)
    result = await face_result(client, "张三", ZHANG_ID)
    server.wx.face_results[result]["identify_time"] -= server.settings.wechat.face_result_max_age_seconds + 5
    response = await client.post(f"/api/v1/sign/{token_of(links['张三']['link'])}/face", json={"verify_result": result})
    assert response.status_code == 422 and response.json()["error"]["code"] == "face_stale"


async def test_unknown_verify_result_is_refused(client):
    _, _, links = await _locked(client)
    response = await client.post(f"/api/v1/sign/{token_of(links['张三']['link'])}/face",
                                 json={"verify_result": "never-issued"})
    assert response.status_code == 422 and response.json()["error"]["code"] == "face_invalid"
    empty = await client.post(f"/api/v1/sign/{token_of(links['张三']['link'])}/face", json={"verify_result": ""})
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "verify_result"


async def test_signing_without_face_verification_is_refused(client):
    _, _, links = await _locked(client)
    token = token_of(links["张三"]["link"])
    response = await client.post(f"/api/v1/sign/{token}", json={"signature_png_base64": signature_png_base64()})
    assert response.status_code == 409 and response.json()["error"]["code"] == "face_required"
    refused = await face_result(client, "张三", ZHANG_ID, outcome="mismatch")
    await client.post(f"/api/v1/sign/{token}/face", json={"verify_result": refused})
    response = await client.post(f"/api/v1/sign/{token}", json={"signature_png_base64": signature_png_base64()})
    assert response.status_code == 409
    assert await Signature.all().count() == 0 and await EvidenceEntry.all().count() == 0
    assert (await client.get(f"/api/v1/sign/{token}")).status_code == 200


async def test_signature_records_evidence_and_tells_every_party(client):
    application, login, links = await _locked(client)
    png = signature_png_base64()
    token = token_of(links["张三"]["link"])
    await _pass_face(client, token, "张三", ZHANG_ID)
    assert (await client.get(f"/api/v1/sign/{token}")).json()["status"] == "face_verified"
    response = await client.post(f"/api/v1/sign/{token}", headers={"User-Agent": "test-phone/1.0"}, json={
        "signature_png_base64": "data:image/png;base64," + png,
        "geolocation": {"latitude": 22.4, "longitude": 107.35, "accuracy": 30}})
    assert response.status_code == 200, response.text
    payload = json.loads(response.json()["evidence"]["payload"])
    import base64

    assert payload["signature_image_sha256"] == hashlib.sha256(base64.b64decode(png)).hexdigest()
    assert payload["snapshot_hash"] == application.snapshot_hash and payload["user_agent"] == "test-phone/1.0"
    assert payload["ip"] == "127.0.0.1" and payload["geolocation"]["latitude"] == 22.4
    assert payload["face_verification"]["id"] == str((await FaceVerification.get()).id)
    assert payload["signer"]["id_number_masked"] == ZHANG_ID[:4] + "*" * 10 + ZHANG_ID[-4:] and payload["server_time"]
    # Matched later through the keyed index; a plain hash of an ID number is a few million guesses from the number.
    assert payload["signer"]["id_number_index"] == blind_index(ZHANG_ID)
    assert hashlib.sha256(ZHANG_ID.encode()).hexdigest() not in response.text
    notices = await OutboxMessage.filter(template="signed_notice").values_list("recipient", flat=True)
    assert sorted(notices) == ["13800000001", "13800000002", "13800000003"]
    assert await TimelineEntry.filter(application_id=application.id, action="sign").count() == 1
    assert (await client.get(f"/api/v1/sign/{token}")).status_code == 410
    statuses = (await client.get(f"/api/v1/applications/{application.id}/signatories", headers=login["headers"])).json()
    assert {s["name"]: s["status"] for s in statuses} == {
        "张三": "signed", "李四": "pending", "Mary Lee": "not_required", "崇左甲贸易有限公司": "pending"}


async def test_bad_signature_images_are_refused_and_change_nothing(client):
    _, _, links = await _locked(client)
    token = token_of(links["张三"]["link"])
    await _pass_face(client, token, "张三", ZHANG_ID)
    import base64

    cases = [
        ({}, 422), ({"signature_png_base64": "not base64!"}, 422),
        ({"signature_png_base64": base64.b64encode(b"GIF89a-not-a-png").decode()}, 422),
        ({"signature_png_base64": base64.b64encode(b"\x89PNG\r\n\x1a\ntruncated").decode()}, 422),
        ({"signature_png_base64": signature_png_base64(blank=True)}, 422),
        ({"signature_png_base64": signature_png_base64(width=20, height=10)}, 422),
        ({"signature_png_base64": "A" * 1_000_000}, 413),
        ({"signature_png_base64": signature_png_base64(), "geolocation": {"latitude": 200, "longitude": 0}}, 422),
    ]
    for body, status in cases:
        response = await client.post(f"/api/v1/sign/{token}", json=body)
        assert response.status_code == status, (body.keys(), response.text)
        assert response.json()["error"]["field"] in ("signature_png_base64", "geolocation.latitude")
    assert await Signature.all().count() == 0 and await EvidenceEntry.all().count() == 0
    assert (await client.get(f"/api/v1/sign/{token}")).status_code == 200


async def test_enterprise_signs_with_its_e_seal_without_face(client):
    _, _, links = await _locked(client)
    token = token_of(links["崇左甲贸易有限公司"]["link"])
    assert (await client.post(f"/api/v1/sign/{token}/face", json={"verify_result": "x"})).status_code == 409
    await read_application_form(client, token)
    response = await client.post(f"/api/v1/sign/{token}", json={})
    assert response.status_code == 200, response.text
    payload = json.loads(response.json()["evidence"]["payload"])
    assert payload["method"] == "e_seal" and payload["seal"]["reference"].startswith("dev-e_seal-")
    assert payload["face_verification"] is None


async def test_all_required_signed_only_when_every_required_signatory_signed_the_snapshot(client):
    application, _, links = await _locked(client)
    await _sign_person(client, links["张三"], "张三", ZHANG_ID)
    assert await signing.all_required_signed(application) is False
    await _sign_person(client, links["李四"], "李四", LI_ID)
    assert await signing.all_required_signed(application) is False
    await read_application_form(client, token_of(links["崇左甲贸易有限公司"]["link"]))
    await client.post(f"/api/v1/sign/{token_of(links['崇左甲贸易有限公司']['link'])}", json={})
    assert await signing.all_required_signed(application) is True


async def test_resend_after_signing_skips_who_already_signed(client):
    application, login, links = await _locked(client)
    await _sign_person(client, links["张三"], "张三", ZHANG_ID)
    resent = await client.post(f"/api/v1/applications/{application.id}/signing-requests", headers=login["headers"])
    assert sorted(item["name"] for item in resent.json()) == ["崇左甲贸易有限公司", "李四"]


async def test_decline_tells_the_applicant(client):
    application, login, links = await _locked(client)
    code = (await client.post("/_mock/wx/phone-code", json={"phone": "13900000009"})).json()["code"]
    await client.post("/api/v1/mp/phone", json={"code": code}, headers=login["headers"])
    token = token_of(links["李四"]["link"])
    empty = await client.post(f"/api/v1/sign/{token}/decline", json={"reason": "  "})
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "reason"
    response = await client.post(f"/api/v1/sign/{token}/decline", json={"reason": "出资比例与约定不符"})
    assert response.status_code == 200
    sms = await OutboxMessage.get(template="sign_declined", channel="sms")
    assert sms.recipient == "13900000009" and sms.params["reason"] == "出资比例与约定不符"
    assert await OutboxMessage.filter(template="sign_declined", channel="wechat", recipient_index=blind_index("openid-applicant-1")).exists()
    assert await TimelineEntry.filter(application_id=application.id, action="decline").count() == 1
    assert (await client.get(f"/api/v1/sign/{token}")).status_code == 410
    statuses = (await client.get(f"/api/v1/applications/{application.id}/signatories", headers=login["headers"])).json()
    assert {s["name"]: s["status"] for s in statuses}["李四"] == "declined"


async def test_signing_requests_refused_while_in_cloud_review(client):
    login = await login_applicant(client)
    application = await create_application(login["applicant"]["id"], _parties(), status="cloud_review")
    response = await client.post(f"/api/v1/applications/{application.id}/signing-requests", headers=login["headers"])
    assert response.status_code == 409
    assert await SigningRequest.all().count() == 0 and await OutboxMessage.all().count() == 0


async def test_signing_requests_for_unknown_party_or_other_applicant(client):
    application, login, _ = await _locked(client)
    response = await client.post(f"/api/v1/applications/{application.id}/signing-requests",
                                 json={"party_id": "00000000-0000-0000-0000-000000000000"}, headers=login["headers"])
    assert response.status_code == 404 and response.json()["error"]["field"] == "party_id"
    bad = await client.post(f"/api/v1/applications/{application.id}/signing-requests",
                            json={"party_id": "nope"}, headers=login["headers"])
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "party_id"
    stranger = await login_applicant(client, "openid-stranger")
    other = await client.post(f"/api/v1/applications/{application.id}/signing-requests", headers=stranger["headers"])
    assert other.status_code == 404


async def test_general_flow_signature_is_void_once_the_materials_change(client):
    from tortoise.transactions import in_transaction

    from server.services.applications.lifecycle import claim_materials_write

    login = await login_applicant(client)
    application = await create_application(login["applicant"]["id"], _parties())
    response = await client.post(f"/api/v1/applications/{application.id}/signing-requests", headers=login["headers"])
    links = {item["name"]: item for item in response.json()}
    assert await signing.has_valid_signature_on_current_materials(application) is False
    evidence = await _sign_person(client, links["张三"], "张三", ZHANG_ID)
    assert json.loads(evidence["evidence"]["payload"])["snapshot_hash"] is None
    assert await signing.has_valid_signature_on_current_materials(application) is True
    async with in_transaction() as conn:
        await claim_materials_write(application, conn)
    await application.refresh_from_db()
    assert await signing.has_valid_signature_on_current_materials(application) is False
    assert (await client.get(f"/api/v1/sign/{token_of(links['李四']['link'])}")).status_code == 410
    # The dead links' reminders and expiry notices are withdrawn with them.
    assert not await OutboxMessage.filter(template__in=["signing_reminder", "signing_expired"],
                                          status="pending").exists()
    assert await OutboxMessage.filter(template="signing_reminder", status="cancelled").exists()
    statuses = (await client.get(f"/api/v1/applications/{application.id}/signatories", headers=login["headers"])).json()
    assert {s["name"]: s["status"] for s in statuses}["张三"] == "not_requested"
    await client.get(f"/api/v1/applications/{application.id}/signatories", headers=login["headers"])
    voided = await TimelineEntry.filter(application_id=application.id, action="signatures_voided")
    assert len(voided) == 1 and "1 个签名作废" in voided[0].comments[0]["message"]


async def test_wechat_url_link_goes_with_the_sms_where_configured(client, server):
    server.settings.signing.wechat_url_link = True
    try:
        _, _, links = await _locked(client, [person("张三", role="legal_rep", id_number=ZHANG_ID, phone="13800000001")])
    finally:
        server.settings.signing.wechat_url_link = False
    assert links["张三"]["wechat_link"].startswith("https://wxaurl.cn/")
    sms = await OutboxMessage.get(template="signing_link_wechat")
    assert sms.params["wxlink"] == links["张三"]["wechat_link"]
    assert links["张三"]["wechat_link"] in messages.render(sms.template, sms.params)
    assert server.wx.url_links[0]["path"] == server.settings.signing.miniprogram_sign_page


async def test_links_made_inside_a_failed_lock_transaction_leave_nothing(client, server):
    """approve-and-lock calls create_signing_requests in its own transaction: its rollback takes the links too."""
    from tortoise.transactions import in_transaction

    login = await login_applicant(client)
    application = await create_locked_application(login["applicant"]["id"], _parties())
    try:
        async with in_transaction() as conn:
            made = await signing.create_signing_requests(application, server.settings, connection=conn)
            assert len(made) == 3 and await SigningRequest.all().using_db(conn).count() == 3
            raise RuntimeError("the lock failed after the links were made")
    except RuntimeError:
        pass
    assert await SigningRequest.all().count() == 0 and await OutboxMessage.all().count() == 0


async def test_face_attempts_per_link_are_limited(client, server):
    _, _, links = await _locked(client)
    token = token_of(links["张三"]["link"])
    for _ in range(server.settings.signing.face_attempts_per_hour):
        result = await face_result(client, "张三", ZHANG_ID, outcome="fail")
        assert (await client.post(f"/api/v1/sign/{token}/face", json={"verify_result": result})).status_code == 422
    result = await face_result(client, "张三", ZHANG_ID)
    limited = await client.post(f"/api/v1/sign/{token}/face", json={"verify_result": result})
    assert limited.status_code == 429 and limited.json()["error"]["retry_after"] > 0


async def test_enterprise_methods_follow_rule_3_and_4(client):
    """A home-province enterprise chooses e-seal or e-license; an other-province one only has its e-license."""
    parties = [person("张三", role="legal_rep", id_number=ZHANG_ID, phone="13800000001"),
               {**enterprise("广州乙科技有限公司", origin="other_province", share="100"),
                "phone": "13800000005", "contact_name": "王五"}]
    _, _, links = await _locked(client, parties)
    assert links["广州乙科技有限公司"]["method"] == "e_license"
    sms = await OutboxMessage.get(template="signing_link", recipient_index=blind_index("13800000005"))
    assert sms.params["signer"] == "王五（广州乙科技有限公司联系人）"
    token = token_of(links["广州乙科技有限公司"]["link"])
    view = (await client.get(f"/api/v1/sign/{token}")).json()
    assert [m["method"] for m in view["signer"]["methods"]] == ["e_license"]
    await read_application_form(client, token)
    refused = await client.post(f"/api/v1/sign/{token}", json={"method": "e_seal"})
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "method"
    assert await Signature.all().count() == 0
    signed = await client.post(f"/api/v1/sign/{token}", json={"method": "e_license"})
    assert signed.status_code == 200 and json.loads(signed.json()["evidence"]["payload"])["method"] == "e_license"

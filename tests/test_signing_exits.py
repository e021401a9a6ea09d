"""No dead ends (SPEC "The application lifecycle"): the exits from locked_signing — a decline, 撤销锁定, a
withdrawal — and completion, automatic or confirmed by the applicant."""
import pytest

from server.models.applications import Application, TimelineEntry
from server.models.notifications import OutboxMessage
from server.models.signing import Signature, SigningRequest
from server.services.applications.lifecycle import TRANSITIONS
from tests.helpers import (
    create_locked_application,
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

# SPEC's state diagram, written out: every (action, from) → to. The code's table must say exactly this.
SPEC_TRANSITIONS = {
    ("submit_cloud", "draft"): "cloud_review", ("submit_cloud", "returned"): "cloud_review",
    ("submit_general", "draft"): "submitted", ("submit_general", "returned"): "submitted",
    ("approve_lock", "cloud_review"): "locked_signing",
    ("submit_signed", "locked_signing"): "submitted",
    ("decline", "locked_signing"): "returned", ("unlock", "locked_signing"): "returned",
    ("return", "cloud_review"): "returned", ("return", "submitted"): "returned", ("return", "accepted"): "returned",
    ("accept", "submitted"): "accepted", ("approve", "accepted"): "approved", ("reject", "accepted"): "rejected",
    ("withdraw", "draft"): "withdrawn", ("withdraw", "returned"): "withdrawn", ("withdraw", "locked_signing"): "withdrawn",
}


def test_transition_table_is_the_spec_diagram():
    table = {(action, source): target for action, moves in TRANSITIONS.items() for source, target in moves.items()}
    assert table == SPEC_TRANSITIONS


def _parties():
    return [
        person("张三", role="legal_rep", id_number=ZHANG_ID, phone="13800000001"),
        person("张三", role="investor", id_number=ZHANG_ID, phone="13800000001", share="60"),
        person("李四", role="investor", id_number=LI_ID, phone="13800000002", share="40"),
    ]


async def _locked(client, **fields):
    login = await login_applicant(client)
    code = (await client.post("/_mock/wx/phone-code", json={"phone": APPLICANT_PHONE})).json()["code"]
    assert (await client.post("/api/v1/mp/phone", json={"code": code}, headers=login["headers"])).status_code == 200
    application = await create_locked_application(login["applicant"]["id"], _parties())
    if fields:
        await Application.filter(id=application.id).update(**fields)
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


async def _reminders_pending(application):
    requests = await SigningRequest.filter(application_id=application.id).values_list("id", flat=True)
    return await OutboxMessage.filter(reference__in=[f"signing_request:{r}" for r in requests],
                                      status="pending").count()


async def test_a_decline_returns_the_case_with_its_reason_voids_signatures_and_kills_every_link(client):
    application, login, links = await _locked(client)
    await _sign(client, links["张三"], "张三", ZHANG_ID)
    assert await _reminders_pending(application) > 0
    response = await client.post(f"/api/v1/sign/{token_of(links['李四'])}/decline", json={"reason": "出资比例应为60/40"})
    assert response.status_code == 200, response.text

    stored = await Application.get(id=application.id)
    assert (stored.status, stored.snapshot_hash) == ("returned", None)
    entry = await TimelineEntry.filter(application_id=application.id, action="decline").get()
    assert (entry.from_status, entry.to_status) == ("locked_signing", "returned")
    assert entry.comments[0]["message"] == "李四拒绝签名：出资比例应为60/40"
    assert await Signature.filter(application_id=application.id, voided_at=None).count() == 0
    assert await _reminders_pending(application) == 0
    for link in links.values():
        assert (await client.get(f"/api/v1/sign/{token_of(link)}")).status_code == 410
    told = await OutboxMessage.filter(template="sign_declined").values_list("channel", "recipient")
    assert sorted(told) == [("sms", APPLICANT_PHONE), ("wechat", "openid-applicant-1")]
    # The applicant can now edit and withdraw again: the case is no longer trapped.
    edit = await client.patch(f"/api/v1/applications/{application.id}", json={"entity": {"注册资本": "200万元"}},
                              headers=login["headers"])
    assert edit.status_code != 409, edit.text


async def test_unlock_by_a_reviewer_needs_a_reason_and_tells_the_applicant_and_the_signatories(client):
    application, login, links = await _locked(client)
    reviewer = await create_staff(client)
    route = f"/api/v1/review/applications/{application.id}/unlock"
    empty = await client.post(route, json={"reason": " "}, headers=reviewer["headers"])
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "reason"
    assert (await Application.get(id=application.id)).status == "locked_signing"

    response = await client.post(route, json={"reason": "申请人来电：住所门牌号填错"}, headers=reviewer["headers"])
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "returned"
    entry = await TimelineEntry.filter(application_id=application.id, action="unlock").get()
    assert entry.comments[0]["message"] == "申请人来电：住所门牌号填错"
    assert (await OutboxMessage.get(template="cloud_unlocked", channel="sms")).recipient == APPLICANT_PHONE
    cancelled = await OutboxMessage.filter(template="signing_cancelled").values_list("recipient", flat=True)
    assert sorted(cancelled) == ["13800000001", "13800000002"]
    assert await SigningRequest.filter(application_id=application.id, status="cancelled").count() == 2
    assert (await client.get(f"/api/v1/sign/{token_of(links['张三'])}")).status_code == 410
    again = await client.post(route, json={"reason": "再次撤销"}, headers=reviewer["headers"])
    assert again.status_code == 409


async def test_the_applicant_withdraws_a_locked_case_and_every_link_answers_410(client):
    application, login, links = await _locked(client)
    response = await client.post(f"/api/v1/applications/{application.id}/withdraw", headers=login["headers"])
    assert response.status_code == 200, response.text
    assert (await Application.get(id=application.id)).status == "withdrawn"
    for link in links.values():
        assert (await client.get(f"/api/v1/sign/{token_of(link)}")).status_code == 410
        page = await client.get(f"/s/{token_of(link)}")
        assert page.status_code == 410 and "签名链接已失效" in page.text
    assert await _reminders_pending(application) == 0
    entry = await TimelineEntry.filter(application_id=application.id, action="withdraw").get()
    assert entry.from_status == "locked_signing"


async def test_the_last_signature_submits_the_case_by_itself_and_tells_the_applicant(client):
    application, login, links = await _locked(client)
    await _sign(client, links["张三"], "张三", ZHANG_ID)
    assert (await Application.get(id=application.id)).status == "locked_signing"
    assert not await OutboxMessage.filter(template="signing_complete").exists()
    await _sign(client, links["李四"], "李四", LI_ID)

    stored = await Application.get(id=application.id)
    assert stored.status == "submitted" and stored.submitted_at is not None and stored.due_at is not None
    entry = await TimelineEntry.filter(application_id=application.id, action="submit_signed").get()
    assert entry.actor == "系统"
    told = await OutboxMessage.filter(template="signing_complete").values_list("channel", "recipient", "params")
    assert sorted((c, r) for c, r, _ in told) == [("sms", APPLICANT_PHONE), ("wechat", "openid-applicant-1")]
    assert "自动提交" in told[0][2]["next"]
    again = await client.post(f"/api/v1/applications/{application.id}/submit", json={"flow": "cloud"},
                              headers=login["headers"])
    assert again.status_code == 409


async def test_an_applicant_who_chose_to_confirm_is_told_and_submits_themselves(client):
    application, login, links = await _locked(client)
    setting = await client.put(f"/api/v1/applications/{application.id}/auto-submit", json={"auto_submit": False},
                               headers=login["headers"])
    assert setting.status_code == 200 and setting.json()["auto_submit"] is False
    assert (await client.get(f"/api/v1/applications/{application.id}", headers=login["headers"])).json()[
        "auto_submit"] is False
    await _sign(client, links["张三"], "张三", ZHANG_ID)
    await _sign(client, links["李四"], "李四", LI_ID)
    assert (await Application.get(id=application.id)).status == "locked_signing"
    sms = await OutboxMessage.get(template="signing_complete", channel="sms")
    assert "确认提交" in sms.params["next"]
    submitted = await client.post(f"/api/v1/applications/{application.id}/submit", json={"flow": "cloud"},
                                  headers=login["headers"])
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    late = await client.put(f"/api/v1/applications/{application.id}/auto-submit", json={"auto_submit": True},
                            headers=login["headers"])
    assert late.status_code == 409


@pytest.mark.parametrize("body", [{}, {"auto_submit": "sometimes"}])
async def test_auto_submit_setting_rejects_bad_input(client, body):
    application, login, _ = await _locked(client)
    response = await client.put(f"/api/v1/applications/{application.id}/auto-submit", json=body,
                                headers=login["headers"])
    assert response.status_code == 422 and response.json()["error"]["field"] == "auto_submit"
    assert (await Application.get(id=application.id)).auto_submit is True


async def test_two_last_signatures_at_once_submit_the_case_exactly_once(client):
    import asyncio

    application, _, links = await _locked(client)
    tokens = {name: token_of(link) for name, link in links.items()}
    for name, id_number in (("张三", ZHANG_ID), ("李四", LI_ID)):
        await read_application_form(client, tokens[name])
        face = await client.post(f"/api/v1/sign/{tokens[name]}/face",
                                 json={"verify_result": await face_result(client, name, id_number)})
        assert face.status_code == 200, face.text
    answers = await asyncio.gather(*(client.post(f"/api/v1/sign/{token}", json={
        "signature_png_base64": signature_png_base64()}) for token in tokens.values()))
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert (await Application.get(id=application.id)).status == "submitted"
    assert await TimelineEntry.filter(application_id=application.id, action="submit_signed").count() == 1
    assert await OutboxMessage.filter(template="signing_complete").count() == 2  # one SMS, one subscribe message

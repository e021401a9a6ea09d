"""Helpers own a case (首问负责、一帮到底, 代办; seeds 002 and 003), over real HTTP: the applicant scans the helper's
code and grants one application; the helper fills and uploads under the applicant's own rules, on the timeline
under the helper's masked name; the applicant revokes at any time; the helper cannot submit, sign or review; the
first helper owns the case; any authority's business may be helped, only its own authority reviews it."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from server.models.accounts import Applicant
from tests.appointment_helpers import admin_login, create_point, helper_at
from tests.helpers import (
    create_application,
    create_staff,
    login_applicant,
    person_form,
    png_bytes,
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00")


async def scanned_code(client, helper) -> str:
    response = await client.get("/api/v1/helper/code", headers=helper["headers"])
    assert response.status_code == 200, response.text
    return response.json()["code"]


async def start(client, clock, openid="openid-helped"):
    clock.set(at("2026-12-01T10:00"))
    admin = await admin_login(client)
    point = await create_point(client, admin)
    helper = await helper_at(client, point)
    applicant = await login_applicant(client, openid)
    me = await Applicant.get(openid=openid)
    return point, helper, applicant, me


async def test_the_helper_fills_and_uploads_under_the_applicants_rules_and_the_applicant_sees_and_revokes(
        client, clock):
    point, helper, applicant, me = await start(client, clock)
    application = await create_application(me.id, [])
    case = f"/api/v1/helper/cases/{application.id}"
    # Before any grant the application is as unknown to the helper as a missing one.
    assert (await client.get(case, headers=helper["headers"])).status_code == 404

    granted = await client.post("/api/v1/helper-grants", headers=applicant["headers"], json={
        "helper_code": await scanned_code(client, helper), "application_id": str(application.id)})
    assert granted.status_code == 201, granted.text
    grant = granted.json()
    # The owner is shown with a masked name and the helper's landline.
    assert grant["case_owner"] == {"name": "黄*", "landline": "0771-7821234",
                                   "point": {"code": point["code"], "name": point["name"]}}
    assert grant["active"] is True

    saved = await client.patch(case, headers=helper["headers"], json={"parties": [person_form(name="李四")]})
    assert saved.status_code == 200, saved.text
    assert [party["name"] for party in saved.json()["parties"]] == ["李四"]
    # The applicant's own validation: a wrong ID number is refused naming the field, and nothing is saved.
    refused = await client.patch(case, headers=helper["headers"],
                                 json={"parties": [{**person_form(name="王五"), "id_number": "451402199003071234"}]})
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "parties[0].id_number"
    mine = (await client.get(f"/api/v1/applications/{application.id}", headers=applicant["headers"])).json()
    assert [party["name"] for party in mine["parties"]] == ["李四"]

    uploaded = await client.post(f"{case}/attachments", data={"kind": "premises_proof"},
                                 files={"file": ("lease.png", png_bytes(), "image/png")}, headers=helper["headers"])
    assert uploaded.status_code == 201, uploaded.text
    stored = await client.get(f"{case}/attachments/{uploaded.json()['id']}", headers=helper["headers"])
    assert stored.status_code == 200 and stored.headers["content-type"] == "image/png"
    removed = await client.delete(f"{case}/attachments/{uploaded.json()['id']}", headers=helper["headers"])
    assert removed.status_code == 200
    listed = (await client.get("/api/v1/helper/cases", headers=helper["headers"])).json()
    assert [(row["id"], row["owned"]) for row in listed] == [(str(application.id), True)]

    timeline = (await client.get(f"/api/v1/applications/{application.id}/timeline",
                                 headers=applicant["headers"])).json()
    helper_rows = [(row["actor"], row["action_label"]) for row in timeline if row["action"].startswith("helper_")]
    assert helper_rows == [("申请人", "授权帮办员代办"), ("帮办员 黄*", "帮办员代填材料"),
                           ("帮办员 黄*", "帮办员代传附件"), ("帮办员 黄*", "帮办员删除附件")]

    # The helper has no way to submit (the applicant's route) or to decide (the reviewer's routes).
    submit = await client.post(f"/api/v1/applications/{application.id}/submit", headers=helper["headers"],
                               json={"flow": "cloud"})
    assert submit.status_code == 401
    for action, body in (("accept", None), ("approve-lock", None), ("approve", None), ("reject", {"reason": "不符"})):
        decided = await client.post(f"/api/v1/review/applications/{application.id}/{action}",
                                    headers=helper["headers"], json=body)
        assert decided.status_code == 403, (action, decided.text)

    revoked = await client.post(f"/api/v1/helper-grants/{grant['id']}/revoke", headers=applicant["headers"])
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    again = await client.post(f"/api/v1/helper-grants/{grant['id']}/revoke", headers=applicant["headers"])
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_revoked"
    assert (await client.patch(case, headers=helper["headers"], json={"entity": {"address": "崇左"}})).status_code == 404
    assert (await client.get(case, headers=helper["headers"])).status_code == 404
    kept = await client.post(f"/api/v1/applications/{application.id}/attachments", data={"kind": "premises_proof"},
                             files={"file": ("lease.png", png_bytes(), "image/png")}, headers=applicant["headers"])
    assert (await client.get(f"{case}/attachments/{kept.json()['id']}", headers=helper["headers"])).status_code == 404
    assert (await client.get("/api/v1/helper/cases", headers=helper["headers"])).json() == []
    # Somebody else's grant is not the applicant's to revoke.
    stranger = await login_applicant(client, "openid-stranger")
    assert (await client.post(f"/api/v1/helper-grants/{grant['id']}/revoke",
                              headers=stranger["headers"])).status_code == 404


async def test_the_first_helper_stays_the_owner_and_any_authoritys_business_is_helped(client, clock):
    point, first, applicant, me = await start(client, clock)
    second = await helper_at(client, point, "helper2", "陆明", "0771-7825678")
    # 无差别帮办: a helper at a 崇左 point helps with a filing to 南宁 (450100).
    application = await create_application(me.id, [], authority="450100", name="南宁云帆科技有限公司")
    body = {"application_id": str(application.id)}
    first_grant = (await client.post("/api/v1/helper-grants", headers=applicant["headers"],
                                     json={**body, "helper_code": await scanned_code(client, first)})).json()
    rescanned = (await client.post("/api/v1/helper-grants", headers=applicant["headers"],
                                   json={**body, "helper_code": await scanned_code(client, first)})).json()
    assert rescanned["id"] == first_grant["id"]
    second_grant = await client.post("/api/v1/helper-grants", headers=applicant["headers"],
                                     json={**body, "helper_code": await scanned_code(client, second)})
    assert second_grant.status_code == 201
    assert second_grant.json()["helper"]["name"] == "陆*"
    assert second_grant.json()["case_owner"]["name"] == "黄*"
    assert [row["owned"] for row in (await client.get("/api/v1/helper/cases", headers=second["headers"])).json()] \
        == [False]
    edited = await client.patch(f"/api/v1/helper/cases/{application.id}", headers=second["headers"],
                                json={"parties": [person_form()]})
    assert edited.status_code == 200, edited.text
    grants = (await client.get(f"/api/v1/helper-grants?application_id={application.id}",
                               headers=applicant["headers"])).json()
    assert [row["helper"]["name"] for row in grants] == ["陆*", "黄*"]
    assert {row["case_owner"]["landline"] for row in grants} == {"0771-7821234"}

    # Only the case's authority reviews it: a 崇左 reviewer does not even see it, a 南宁 reviewer does.
    chongzuo = await create_staff(client, "reviewer-cz", "reviewer", "451400")
    nanning = await create_staff(client, "reviewer-nn", "reviewer", "450100")
    url = f"/api/v1/review/applications/{application.id}"
    assert (await client.get(url, headers=chongzuo["headers"])).status_code == 404
    assert (await client.get(url, headers=nanning["headers"])).status_code == 200


async def test_a_code_expires_and_a_grant_may_start_a_new_application(client, clock):
    _point, helper, applicant, _me = await start(client, clock)
    code = await scanned_code(client, helper)
    new = {"business_type": "establish", "entity_type": "llc", "authority_code": "451402",
           "name": "崇左云帆科技有限公司"}
    forged = await client.post("/api/v1/helper-grants", headers=applicant["headers"],
                               json={"helper_code": code[:-1] + ("0" if code[-1] != "0" else "1"),
                                     "new_application": new})
    assert forged.status_code == 422 and forged.json()["error"]["field"] == "helper_code"
    neither = await client.post("/api/v1/helper-grants", headers=applicant["headers"], json={"helper_code": code})
    assert neither.status_code == 422 and neither.json()["error"]["field"] == "application_id"

    created = await client.post("/api/v1/helper-grants", headers=applicant["headers"],
                                json={"helper_code": code, "new_application": new})
    assert created.status_code == 201, created.text
    drafts = (await client.get("/api/v1/applications", headers=applicant["headers"])).json()
    assert [row["id"] for row in drafts] == [created.json()["application_id"]]
    assert drafts[0]["status"] == "draft"

    clock.advance(timedelta(minutes=11))
    expired = await client.post("/api/v1/helper-grants", headers=applicant["headers"],
                                json={"helper_code": code, "new_application": new})
    assert expired.status_code == 422 and expired.json()["error"]["field"] == "helper_code"
    assert len((await client.get("/api/v1/applications", headers=applicant["headers"])).json()) == 1


async def test_a_submitted_application_cannot_be_granted_and_only_helpers_at_a_point_have_a_code(client, clock):
    _point, helper, applicant, me = await start(client, clock)
    submitted = await create_application(me.id, [], status="submitted")
    refused = await client.post("/api/v1/helper-grants", headers=applicant["headers"], json={
        "helper_code": await scanned_code(client, helper), "application_id": str(submitted.id)})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_editable"
    reviewer = await create_staff(client, "reviewer-x", "reviewer", "451400")
    assert (await client.get("/api/v1/helper/code", headers=reviewer["headers"])).status_code == 403
    assert (await client.get("/api/v1/helper/cases", headers=reviewer["headers"])).status_code == 403


async def test_the_helper_sees_id_numbers_and_phones_masked_and_sending_them_back_keeps_what_is_stored(client, clock):
    _point, helper, applicant, me = await start(client, clock)
    application = await create_application(me.id, [])
    case = f"/api/v1/helper/cases/{application.id}"
    await client.post("/api/v1/helper-grants", headers=applicant["headers"], json={
        "helper_code": await scanned_code(client, helper), "application_id": str(application.id)})
    # The applicant dictates, the helper types: what is typed is saved in full, and answered masked.
    typed = person_form(name="李四", body17="45140219900307123", phone="13800138000")
    saved = await client.patch(case, headers=helper["headers"], json={"parties": [typed]})
    assert saved.status_code == 200, saved.text
    full_id = typed["id_number"]
    masked_id = "4514" + "*" * 10 + full_id[-4:]
    assert [(p["id_number"], p["phone"]) for p in saved.json()["parties"]] == [(masked_id, "138****8000")]
    shown = (await client.get(case, headers=helper["headers"])).json()
    assert [(p["id_number"], p["phone"]) for p in shown["parties"]] == [(masked_id, "138****8000")]
    assert full_id not in (await client.get(case, headers=helper["headers"])).text

    # The form comes back as shown, one field changed: the masked values mean "unchanged".
    edited = await client.patch(case, headers=helper["headers"],
                                json={"parties": [{**shown["parties"][0], "name": "李四四"}]})
    assert edited.status_code == 200, edited.text
    mine = (await client.get(f"/api/v1/applications/{application.id}", headers=applicant["headers"])).json()
    assert [(p["name"], p["id_number"], p["phone"]) for p in mine["parties"]] == [("李四四", full_id, "13800138000")]
    # A masked value is no value for a party it was not shown with.
    stranger = await client.patch(case, headers=helper["headers"],
                                  json={"parties": [{**shown["parties"][0], "id": None}]})
    assert stranger.status_code == 422 and stranger.json()["error"]["field"] == "parties[0].id_number"


async def test_a_save_whose_request_began_before_the_revoke_writes_nothing_after_it(client, clock):
    from server.errors import NotFound
    from server.models.accounts import Staff
    from server.models.applications import Party
    from server.services.appointments import cases

    _point, helper, applicant, me = await start(client, clock)
    application = await create_application(me.id, [])
    grant = (await client.post("/api/v1/helper-grants", headers=applicant["headers"], json={
        "helper_code": await scanned_code(client, helper), "application_id": str(application.id)})).json()
    staff = await Staff.get(username="helper1")
    # The helper's request has looked the case up (the grant was live then) ...
    case = await cases.case_for_helper(staff, str(application.id))
    # ... when the applicant's revoke commits ...
    revoked = await client.post(f"/api/v1/helper-grants/{grant['id']}/revoke", headers=applicant["headers"])
    assert revoked.status_code == 200
    # ... so its save, checking the grant inside its own transaction, finds none and writes nothing.
    with pytest.raises(NotFound):
        await cases.save(staff, case, {"parties": [person_form(name="李四")]})
    assert await Party.filter(application_id=application.id).count() == 0


async def test_the_operator_sets_how_long_a_helpers_code_can_be_scanned(client, clock, server):
    _point, helper, applicant, _me = await start(client, clock)
    server.settings.appointments.helper_code_minutes = 3
    try:
        shown = (await client.get("/api/v1/helper/code", headers=helper["headers"])).json()
        assert datetime.fromisoformat(shown["expires_at"]) == at("2026-12-01T10:03")
        new = {"business_type": "establish", "entity_type": "llc", "authority_code": "451402"}
        clock.advance(timedelta(minutes=3, seconds=1))
        late = await client.post("/api/v1/helper-grants", headers=applicant["headers"],
                                 json={"helper_code": shown["code"], "new_application": new})
        assert late.status_code == 422 and late.json()["error"]["field"] == "helper_code"
    finally:
        server.settings.appointments.helper_code_minutes = 10

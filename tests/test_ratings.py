"""好差评: once per served appointment or finished filing; 1 or 2 opens a follow-up due in 3 working days."""
from __future__ import annotations

from datetime import datetime

from server.models.accounts import Applicant
from tests.appointment_helpers import admin_login, book, create_point, helper_at
from tests.helpers import create_application, login_applicant


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00")


async def served_appointment(client, clock, point, helper, openid="openid-rater"):
    clock.set(at("2026-09-28T08:00"))
    applicant = await login_applicant(client, openid)
    appointment = (await book(client, applicant, point, "2026-09-29T09:00:00+08:00")).json()
    clock.set(at("2026-09-29T09:05"))
    url = f"/api/v1/helper/appointments/{appointment['id']}"
    assert (await client.post(f"{url}/check-in", headers=helper["headers"],
                              json={"checkin_code": appointment["checkin_code"]})).status_code == 200
    return applicant, appointment, url


async def test_a_bad_rating_opens_a_follow_up_due_in_three_working_days_and_is_answered(client, clock):
    admin = await admin_login(client)
    point = await create_point(client, admin)
    helper = await helper_at(client, point)
    applicant, appointment, url = await served_appointment(client, clock, point, helper)
    body = {"subject_type": "appointment", "subject_id": str(appointment["id"]), "score": 2, "comment": "等了很久"}
    early = await client.post("/api/v1/ratings", json=body, headers=applicant["headers"])
    assert early.status_code == 409 and early.json()["error"]["code"] == "not_rateable"  # checked in, not served
    assert (await client.post(f"{url}/serve", headers=helper["headers"])).status_code == 200
    clock.set(at("2026-09-29T10:00"))
    rated = await client.post("/api/v1/ratings", json=body, headers=applicant["headers"])
    assert rated.status_code == 201, rated.text
    # 3 working days from Tuesday 29 September 2026: 30 September, then 国庆 (1–7 October), 8 and 9 October.
    assert rated.json()["follow_up"]["due_at"] == "2026-10-09T09:30:00+00:00"
    assert rated.json()["helper"]["name"] == "黄丽" and rated.json()["point"]["id"] == point["id"]
    again = await client.post("/api/v1/ratings", json={**body, "score": 5}, headers=applicant["headers"])
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_rated"

    items = (await client.get("/api/v1/admin/rating-follow-ups?status=open", headers=admin["headers"])).json()
    assert [item["rating"]["comment"] for item in items] == ["等了很久"]
    answer = "已增加午间值守帮办员，并向您致歉。"
    responded = await client.post(f"/api/v1/admin/rating-follow-ups/{items[0]['id']}/respond",
                                  headers=admin["headers"], json={"response": answer})
    assert responded.status_code == 200 and responded.json()["status"] == "closed"
    twice = await client.post(f"/api/v1/admin/rating-follow-ups/{items[0]['id']}/respond",
                              headers=admin["headers"], json={"response": "再次回复"})
    assert twice.status_code == 409
    mine = (await client.get("/api/v1/ratings", headers=applicant["headers"])).json()
    assert mine[0]["follow_up"]["response"] == answer
    # Another authority's admin sees none of it.
    stranger = await admin_login(client, "450100")
    assert (await client.get("/api/v1/admin/rating-follow-ups", headers=stranger["headers"])).json() == []


async def test_a_good_rating_opens_nothing_and_admins_see_ratings_per_point_and_helper(client, clock):
    admin = await admin_login(client)
    point = await create_point(client, admin)
    helper = await helper_at(client, point)
    applicant, appointment, url = await served_appointment(client, clock, point, helper)
    await client.post(f"{url}/serve", headers=helper["headers"])
    rated = await client.post("/api/v1/ratings", headers=applicant["headers"], json={
        "subject_type": "appointment", "subject_id": str(appointment["id"]), "score": 5})
    assert rated.status_code == 201 and rated.json()["follow_up"] is None
    summary = (await client.get("/api/v1/admin/ratings/summary", headers=admin["headers"])).json()
    assert summary["points"] == [{"id": point["id"], "name": "中国银行崇左江州支行帮办点", "count": 1, "average": 5.0,
                                  "bad": 0, "open_follow_ups": 0}]
    assert [(row["name"], row["count"]) for row in summary["helpers"]] == [("黄丽", 1)]


async def test_a_filing_is_rated_once_it_is_approved_or_rejected(client, clock):
    clock.set(at("2026-11-30T10:00"))
    applicant = await login_applicant(client, "openid-filer")
    me = await Applicant.get(openid="openid-filer")
    draft = await create_application(me.id, [])
    approved = await create_application(me.id, [], status="approved", name="崇左云帆商贸有限公司")
    body = {"subject_type": "application", "score": 1, "comment": "材料退回两次"}
    refused = await client.post("/api/v1/ratings", json={**body, "subject_id": str(draft.id)},
                                headers=applicant["headers"])
    assert refused.status_code == 409
    rated = await client.post("/api/v1/ratings", json={**body, "subject_id": str(approved.id)},
                              headers=applicant["headers"])
    assert rated.status_code == 201, rated.text
    assert rated.json()["follow_up"]["due_at"] == "2026-12-03T09:30:00+00:00"  # Tue, Wed, Thu
    other = await login_applicant(client, "openid-nosy")
    nosy = await client.post("/api/v1/ratings", json={**body, "subject_id": str(approved.id)},
                             headers=other["headers"])
    assert nosy.status_code == 404


async def test_bad_ratings_are_refused_by_field(client):
    applicant = await login_applicant(client, "openid-bad-rating")
    for change, field in [({"score": 6}, "score"), ({"score": 0}, "score"), ({"subject_type": "helper"}, "subject_type"),
                          ({"subject_id": ""}, "subject_id")]:
        body = {"subject_type": "appointment", "subject_id": "1", "score": 3, **change}
        response = await client.post("/api/v1/ratings", json=body, headers=applicant["headers"])
        assert response.status_code == 422 and response.json()["error"]["field"] == field, response.text

"""Booking a slot at a help point (SPEC: capacity never exceeded, cancel, reminder SMS, staff check in)."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from server.models.accounts import Applicant
from server.models.appointments import Appointment, AppointmentSlot
from server.models.notifications import OutboxMessage
from server.services.accounts import sessions
from tests.appointment_helpers import admin_login, applicant_with_phone, book, create_point, helper_at
from tests.helpers import delivered_sms, login_applicant


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00")


async def test_a_working_day_offers_slots_around_the_lunch_break(client, clock):
    clock.set(at("2026-11-30T08:00"))
    point = await create_point(client, await admin_login(client))
    response = await client.get(f"/api/v1/points/{point['code']}/slots", params={"date": "2026-12-01"})
    assert response.status_code == 200, response.text
    slots = response.json()
    # 9:00–12:00 and 14:30–17:30 (the posters' hours) in 30-minute slots of 2 places each.
    starts = [slot["start"][11:16] for slot in slots]
    assert starts == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30",
                      "14:30", "15:00", "15:30", "16:00", "16:30", "17:00"]
    assert slots[0] == {"start": "2026-12-01T09:00:00+08:00", "end": "2026-12-01T09:30:00+08:00",
                        "capacity": 2, "remaining": 2}
    # A Saturday without hours, and a bad date, are no slots and a 422 naming the field.
    assert (await client.get(f"/api/v1/points/{point['code']}/slots", params={"date": "2026-12-05"})).json() == []
    bad = await client.get(f"/api/v1/points/{point['code']}/slots", params={"date": "12/01"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "date"


async def test_national_day_closes_the_point_and_the_makeup_saturday_opens_it(client, clock):
    clock.set(at("2026-09-28T08:00"))
    admin = await admin_login(client)
    weekdays = await create_point(client, admin)
    # A bank branch open on Saturdays too.
    hours = {str(day): ["09:00-12:00"] for day in range(1, 7)}
    saturdays = await create_point(client, admin, name="农业银行崇左分行帮办点", appointment_hours=hours)

    async def starts(point, day):
        response = await client.get(f"/api/v1/points/{point['code']}/slots", params={"date": day})
        assert response.status_code == 200, response.text
        return [slot["start"][11:16] for slot in response.json()]

    for day in ("2026-10-01", "2026-10-03", "2026-10-07"):  # 国庆 2026: 10月1日至7日放假
        assert await starts(weekdays, day) == []
        assert await starts(saturdays, day) == []
    # 10月10日 (Saturday) is a 调休 working day: the weekday point opens with its working hours too.
    assert (await starts(weekdays, "2026-10-10"))[:2] == ["09:00", "09:30"]
    assert await starts(saturdays, "2026-10-10") == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    past = await client.get(f"/api/v1/points/{saturdays['code']}/slots", params={"date": "2026-09-26"})
    assert past.status_code == 422 and past.json()["error"]["field"] == "date"


async def test_a_points_own_closed_day_has_no_slots(client, clock):
    clock.set(at("2026-11-30T08:00"))
    point = await create_point(client, await admin_login(client), closed_days=["2026-12-02"])
    assert (await client.get(f"/api/v1/points/{point['code']}/slots", params={"date": "2026-12-02"})).json() == []
    assert (await client.get(f"/api/v1/points/{point['code']}/slots", params={"date": "2026-12-03"})).json()


async def test_booking_confirms_by_sms_and_reminds_the_day_before(client, server, clock):
    clock.set(at("2026-11-30T08:00"))
    point = await create_point(client, await admin_login(client))
    applicant = await applicant_with_phone(client, "openid-book-1", "13800138000")
    response = await book(client, applicant, point, "2026-12-02T09:30:00+08:00")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "booked" and body["start"] == "2026-12-02T09:30:00+08:00"
    assert body["end"] == "2026-12-02T10:00:00+08:00"
    assert body["point"]["code"] == point["code"] and len(body["checkin_code"]) == 6
    sms = await delivered_sms(client, server, "13800138000")
    assert [message["template"] for message in sms] == ["appointment_booked"]
    assert body["checkin_code"] in sms[0]["text"] and "12月02日09:30" in sms[0]["text"]
    reminder = await OutboxMessage.get(template="appointment_reminder")
    assert reminder.status == "pending" and reminder.next_attempt_at == at("2026-12-01T09:00")
    clock.set(at("2026-12-01T08:59"))
    assert len(await delivered_sms(client, server, "13800138000")) == 1
    clock.set(at("2026-12-01T09:00"))
    await server.app.ctx.cache.clear()  # the per-phone minute window (real time) of the confirmation has passed
    sms = await delivered_sms(client, server, "13800138000")
    assert sms[0]["template"] == "appointment_reminder", sms
    assert "12月02日09:30" in sms[0]["text"] and body["checkin_code"] in sms[0]["text"]
    listed = (await client.get("/api/v1/appointments", headers=applicant["headers"])).json()
    assert [item["id"] for item in listed["items"]] == [body["id"]] and listed["blocked"] is None


async def test_a_full_slot_is_409_and_cancelling_frees_the_place_for_the_next_booking(client, server, clock):
    clock.set(at("2026-11-30T08:00"))
    point = await create_point(client, await admin_login(client), slot_capacity=1)
    first = await applicant_with_phone(client, "openid-first", "13800138001")
    second = await login_applicant(client, "openid-second")
    start = "2026-12-01T10:00:00+08:00"
    booked = await book(client, first, point, start)
    assert booked.status_code == 201
    full = await book(client, second, point, start)
    assert full.status_code == 409 and full.json()["error"]["code"] == "slot_full"
    slots = (await client.get(f"/api/v1/points/{point['code']}/slots", params={"date": "2026-12-01"})).json()
    assert [slot["remaining"] for slot in slots if slot["start"] == start] == [0]
    cancelled = await client.post(f"/api/v1/appointments/{booked.json()['id']}/cancel", headers=first["headers"])
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert await OutboxMessage.filter(template="appointment_reminder").count() == 0  # the reminder withdrawn
    assert (await book(client, second, point, start)).status_code == 201
    again = await client.post(f"/api/v1/appointments/{booked.json()['id']}/cancel", headers=first["headers"])
    assert again.status_code == 409
    # The first applicant may book another slot that day: the cancelled one no longer holds it.
    assert (await book(client, first, point, "2026-12-01T10:30:00+08:00")).status_code == 201


async def test_one_appointment_per_applicant_and_day(client, clock):
    clock.set(at("2026-11-30T08:00"))
    point = await create_point(client, await admin_login(client))
    applicant = await login_applicant(client, "openid-twice")
    assert (await book(client, applicant, point, "2026-12-01T09:00:00+08:00")).status_code == 201
    twice = await book(client, applicant, point, "2026-12-01T15:00:00+08:00")
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_booked_that_day"
    assert (await book(client, applicant, point, "2026-12-02T09:00:00+08:00")).status_code == 201
    # The refused booking took no place (its increment rolled back with it).
    assert sum(slot.booked for slot in await AppointmentSlot.all()) == 2


async def test_two_hundred_concurrent_bookings_for_three_places_give_exactly_three(client, clock):
    clock.set(at("2026-11-30T08:00"))
    point = await create_point(client, await admin_login(client), slot_capacity=3)
    # 200 applicants with sessions (logging in 200 times from one address would meet the per-IP login limit).
    applicants = []
    for index in range(200):
        token, _ = await sessions.issue(applicant=await Applicant.create(openid=f"openid-crowd-{index}"), ttl_hours=1)
        applicants.append({"headers": {"Authorization": f"Bearer {token}"}})
    start = "2026-12-01T09:00:00+08:00"
    answers = await asyncio.gather(*(book(client, applicant, point, start) for applicant in applicants))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(201) == 3 and statuses.count(409) == 197, statuses
    assert {answer.json()["error"]["code"] for answer in answers if answer.status_code == 409} == {"slot_full"}
    assert await Appointment.filter(status="booked").count() == 3
    slot = await AppointmentSlot.get(point_id=point["id"])
    assert (slot.capacity, slot.booked) == (3, 3)


async def test_cancel_only_until_the_slot_starts(client, clock):
    clock.set(at("2026-11-30T08:00"))
    point = await create_point(client, await admin_login(client))
    applicant = await login_applicant(client, "openid-late")
    appointment = (await book(client, applicant, point, "2026-12-01T09:00:00+08:00")).json()
    clock.set(at("2026-12-01T09:00"))
    late = await client.post(f"/api/v1/appointments/{appointment['id']}/cancel", headers=applicant["headers"])
    assert late.status_code == 409
    started = await book(client, await login_applicant(client, "openid-other"), point, "2026-12-01T09:00:00+08:00")
    assert started.status_code == 409 and started.json()["error"]["code"] == "slot_started"


async def test_reschedule_moves_the_booking_or_keeps_the_old_one(client, clock):
    clock.set(at("2026-11-30T08:00"))
    point = await create_point(client, await admin_login(client), slot_capacity=1)
    applicant = await login_applicant(client, "openid-move")
    old = (await book(client, applicant, point, "2026-12-01T09:00:00+08:00")).json()
    assert (await book(client, await login_applicant(client, "openid-taken"), point,
                       "2026-12-01T09:30:00+08:00")).status_code == 201
    refused = await client.post(f"/api/v1/appointments/{old['id']}/reschedule", headers=applicant["headers"],
                                json={"start": "2026-12-01T09:30:00+08:00"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "slot_full"
    assert (await Appointment.get(id=old["id"])).status == "booked"
    moved = await client.post(f"/api/v1/appointments/{old['id']}/reschedule", headers=applicant["headers"],
                              json={"start": "2026-12-01T10:00:00+08:00"})
    assert moved.status_code == 201, moved.text
    assert (await Appointment.get(id=old["id"])).status == "cancelled"
    slots = (await client.get(f"/api/v1/points/{point['code']}/slots", params={"date": "2026-12-01"})).json()
    assert [slot["remaining"] for slot in slots[:3]] == [1, 0, 0]


async def test_helper_checks_in_by_code_and_marks_served(client, clock):
    clock.set(at("2026-11-30T08:00"))
    point = await create_point(client, await admin_login(client))
    helper = await helper_at(client, point)
    applicant = await applicant_with_phone(client, "openid-visit", "13800138002")
    appointment = (await book(client, applicant, point, "2026-12-01T09:00:00+08:00")).json()
    url = f"/api/v1/helper/appointments/{appointment['id']}/check-in"
    early = await client.post(url, headers=helper["headers"], json={"checkin_code": appointment["checkin_code"]})
    assert early.status_code == 409 and early.json()["error"]["code"] == "too_early"
    clock.set(at("2026-12-01T08:50"))
    wrong = await client.post(url, headers=helper["headers"], json={"checkin_code": "000000"
                              if appointment["checkin_code"] != "000000" else "111111"})
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "checkin_code"
    done = await client.post(url, headers=helper["headers"], json={"checkin_code": appointment["checkin_code"]})
    assert done.status_code == 200 and done.json()["status"] == "checked_in"
    assert done.json()["applicant_phone"] == "138****8002"
    listed = (await client.get("/api/v1/helper/appointments", params={"date": "2026-12-01"},
                               headers=helper["headers"])).json()
    assert [item["status"] for item in listed] == ["checked_in"]
    served = await client.post(f"/api/v1/helper/appointments/{appointment['id']}/serve", headers=helper["headers"])
    assert served.status_code == 200 and served.json()["status"] == "served"
    # A reviewer, or a helper of another point, cannot check anyone in here.
    other_point = await create_point(client, await admin_login(client, "451481"), authority_code="451481")
    stranger = await helper_at(client, other_point, "helper2", "陆军")
    assert (await client.post(url, headers=stranger["headers"], json={"checkin_code": "1"})).status_code == 404


async def test_three_no_shows_in_thirty_days_block_booking_for_seven_days(client, clock):
    clock.set(at("2026-11-02T08:00"))
    point = await create_point(client, await admin_login(client))
    for day in ("2026-11-03", "2026-11-10", "2026-11-17"):
        clock.set(at(f"{day}T08:00") - timedelta(days=1))
        applicant = await login_applicant(client, "openid-absent")  # a session does not last weeks
        assert (await book(client, applicant, point, f"{day}T09:00:00+08:00")).status_code == 201
    clock.set(at("2026-11-17T09:30"))  # the third slot has ended unchecked
    mine = (await client.get("/api/v1/appointments", headers=applicant["headers"])).json()
    assert [item["status"] for item in mine["items"]] == ["no_show", "no_show", "no_show"]
    assert mine["blocked"]["until"] == "2026-11-24T01:30:00+00:00"
    refused = await book(client, applicant, point, "2026-11-18T09:00:00+08:00")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "booking_blocked"
    assert "3次预约未到场" in refused.json()["error"]["message"] and "2026-11-24 09:30" in refused.json()["error"]["message"]
    clock.set(at("2026-11-24T09:31"))
    applicant = await login_applicant(client, "openid-absent")
    assert (await book(client, applicant, point, "2026-11-25T09:00:00+08:00")).status_code == 201


async def test_bad_bookings_are_refused_by_field_and_change_nothing(client, clock):
    clock.set(at("2026-11-30T08:00"))
    point = await create_point(client, await admin_login(client))
    applicant = await login_applicant(client, "openid-bad")
    cases = [({"start": "2026-12-01T09:10:00+08:00"}, "start"), ({"start": "tomorrow"}, "start"),
             ({"start": "2026-12-01T09:00:00"}, "start"), ({"business_type": "annual_report"}, "business_type"),
             ({"point_code": "NOPE"}, "point_code"), ({"start": "2027-03-01T09:00:00+08:00"}, "start")]
    for change, field in cases:
        body = {"point_code": point["code"], "start": "2026-12-01T09:00:00+08:00", "business_type": "change", **change}
        response = await client.post("/api/v1/appointments", json=body, headers=applicant["headers"])
        assert 400 <= response.status_code < 500, (change, response.text)
        assert response.json()["error"]["field"] == field, (change, response.text)
    assert await Appointment.all().count() == 0
    assert (await client.post("/api/v1/appointments", json={})).status_code == 401


async def test_a_helper_is_tied_only_to_a_point_of_their_authority(client):
    from server.errors import Invalid
    from server.services.accounts.staff import add_staff

    point = await create_point(client, await admin_login(client))
    for username, role, authority in [("h-elsewhere", "helper", "450100"), ("r-at-point", "reviewer", "451400")]:
        try:
            await add_staff(username, "correct-horse-42", role, authority, "某人", point["code"])
        except Invalid as error:
            assert error.field == "point"
        else:
            raise AssertionError(f"{username} was tied to the point")
    helper = await add_staff("h-here", "correct-horse-42", "helper", "451400", "黄丽", point["code"], "0771-7821234")
    assert helper.point_id == point["id"] and helper.landline == "0771-7821234"


async def test_a_new_capacity_applies_to_slots_not_yet_started(client, clock):
    clock.set(at("2026-11-30T08:00"))
    admin = await admin_login(client)
    point = await create_point(client, admin, slot_capacity=1)
    start = "2026-12-01T09:00:00+08:00"
    assert (await book(client, await login_applicant(client, "openid-cap-1"), point, start)).status_code == 201
    second = await login_applicant(client, "openid-cap-2")
    assert (await book(client, second, point, start)).status_code == 409
    patched = await client.patch(f"/api/v1/admin/points/{point['id']}", headers=admin["headers"],
                                 json={"slot_capacity": 2})
    assert patched.status_code == 200, patched.text
    assert (await book(client, second, point, start)).status_code == 201
    slots = (await client.get(f"/api/v1/points/{point['code']}/slots", params={"date": "2026-12-01"})).json()
    assert slots[0]["capacity"] == 2 and slots[0]["remaining"] == 0

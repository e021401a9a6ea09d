"""The applicant's list (GET /api/v1/applications), kept per applicant in each worker's memory: every change that
could alter a row shows on the next load, whoever made it and on whichever worker, and what time alone changes (a
reservation lapsing, a name's year of protection ending, a notice period's last day passing) shows without a write.

Each row must say what the application itself says (GET /api/v1/applications/{id}, read afresh every time)."""
import asyncio
from datetime import datetime, timedelta

import pytest
from wxmock.phone import PhoneClient

from server import clock as server_clock
from server.cache import invalidation
from server.models.applications import Application
from server.models.names import NameReservation
from server.services.applications import names
from tests.helpers import (
    create_approved_account,
    create_draft,
    create_registered,
    create_staff,
    login_applicant,
    person_form,
)
from tests.test_hot_paths import _eventually, second_worker  # noqa: F401 - second_worker is a fixture

LIST = "/api/v1/applications"
NAME = "崇左云帆科技有限公司"
PEOPLE = [person_form(), person_form("liaison", "李四", "45140219850101123", phone="13800138001"),
          person_form("investor", "王五", "45140219800101123", phone="13800138002", share_percent="100")]
ENTITY = {"address": "崇左市江州区新民路1号", "business_scope": "软件开发", "contact_phone": "13800138000",
          "operating_term": "长期", "registered_capital": "100"}
SUMMARY = ("id", "business_type", "entity_type", "authority_code", "name", "credit_code", "status", "flow",
           "snapshot_hash", "created_at", "updated_at", "missing")


@pytest.fixture
def frozen(clock):
    """Time stands still (10:00 in China), so a list can leave memory only by being forgotten or by what the test
    moves the clock past."""
    clock.set(datetime(2026, 12, 1, 10, 0, tzinfo=server_clock.CHINA))
    return clock


def as_listed(application: dict) -> dict:
    return {key: application[key] for key in SUMMARY}


async def listed(client, headers) -> list[dict]:
    response = await client.get(LIST, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def read_afresh(client, headers, application_id) -> dict:
    response = await client.get(f"{LIST}/{application_id}", headers=headers)
    assert response.status_code == 200, response.text
    return as_listed(response.json())


async def name_missing(client, headers) -> bool:
    return any(item["field"] == "name" for item in (await listed(client, headers))[0]["missing"])


async def test_every_step_of_a_filing_shows_in_the_list_at_once(client, server):
    reviewer = await create_staff(client, "list-reviewer", "reviewer", "451402")
    phone = PhoneClient(server.base_url, "openid-list")
    me = {"Authorization": "Bearer " + (await asyncio.to_thread(phone.login))["token"]}

    async def shows(application_id, **expected):
        rows = await listed(client, me)
        assert rows == [await read_afresh(client, me, application_id)]
        for key, value in expected.items():
            assert rows[0][key] == value, (key, rows[0][key])
        return rows[0]

    assert await listed(client, me) == []
    draft = await asyncio.to_thread(phone.create_application, "establish", name=NAME)
    first = await shows(draft["id"], name=NAME, status="draft")
    assert {"entity.address", "parties"} <= {item["field"] for item in first["missing"]}

    await asyncio.to_thread(phone.save_form, draft["id"], entity=ENTITY)
    row = await shows(draft["id"])
    assert "entity.address" not in {item["field"] for item in row["missing"]}
    await asyncio.to_thread(phone.save_form, draft["id"], parties=PEOPLE)
    row = await shows(draft["id"])
    kinds = [item["attachment_kind"] for item in row["missing"] if item.get("attachment_kind")]
    assert kinds and "parties" not in {item["field"] for item in row["missing"]}
    uploaded = [await asyncio.to_thread(phone.upload_photo, draft["id"], kind) for kind in kinds]
    await shows(draft["id"], missing=[])
    removed = await client.delete(f"{LIST}/{draft['id']}/attachments/{uploaded[0]['id']}", headers=me)
    assert removed.status_code in (200, 204), removed.text
    row = await shows(draft["id"])
    assert [item["attachment_kind"] for item in row["missing"]] == [kinds[0]]
    await asyncio.to_thread(phone.upload_photo, draft["id"], kinds[0])
    await shows(draft["id"], missing=[])
    await asyncio.to_thread(phone.save_form, draft["id"], name="崇左云帆网络科技有限公司")
    await shows(draft["id"], name="崇左云帆网络科技有限公司")

    await asyncio.to_thread(phone.submit, draft["id"], "cloud", "list-1")
    await shows(draft["id"], status="cloud_review", flow="cloud")
    returned = await client.post(f"/api/v1/review/applications/{draft['id']}/return", headers=reviewer["headers"],
                                 json={"comments": [{"field": "entity.address", "message": "住所请写到门牌号"}]})
    assert returned.status_code == 200, returned.text
    await shows(draft["id"], status="returned")
    await asyncio.to_thread(phone.withdraw, draft["id"])
    await shows(draft["id"], status="withdrawn")

    second = await asyncio.to_thread(phone.create_application, "establish", name="崇左云帆物流有限公司")
    rows = await listed(client, me)
    assert [row["id"] for row in rows] == [second["id"], draft["id"]]
    phone.close()


async def test_a_kept_list_is_answered_from_memory_until_a_change_is_announced(client, frozen):
    """What makes the list fast: a second load reads nothing (a row changed behind the services' back stays as it
    was), and the change the services announce is what makes it read again."""
    applicant = await login_applicant(client)
    draft = await create_draft(client, applicant["headers"], name=NAME)
    assert [row["name"] for row in await listed(client, applicant["headers"])] == [NAME]
    await Application.filter(id=draft["id"]).update(name="崇左云帆物流有限公司")
    assert [row["name"] for row in await listed(client, applicant["headers"])] == [NAME]
    saved = await client.patch(f"{LIST}/{draft['id']}", headers=applicant["headers"], json={"entity": ENTITY})
    assert saved.status_code == 200, saved.text
    assert [row["name"] for row in await listed(client, applicant["headers"])] == ["崇左云帆物流有限公司"]


async def test_anothers_reservation_and_a_registration_show_in_my_list(client, frozen):
    me = await login_applicant(client)
    other = await login_applicant(client, "openid-other")
    await create_draft(client, me["headers"], name=NAME)
    assert not await name_missing(client, me["headers"])
    reserved = await client.post("/api/v1/names/reservations", headers=other["headers"],
                                 json={"name": NAME, "entity_type": "llc", "authority_code": "451402"})
    assert reserved.status_code == 201, reserved.text
    assert await name_missing(client, me["headers"])

    mine = await create_draft(client, me["headers"], name="崇左云帆物流有限公司")
    assert not any(item["field"] == "name" for item in (await listed(client, me["headers"]))[0]["missing"])
    await create_registered("崇左云帆物流有限公司")
    rows = {row["id"]: row for row in await listed(client, me["headers"])}
    assert any(item["field"] == "name" for item in rows[mine["id"]]["missing"])


async def test_a_reservation_lapsing_shows_without_any_write(client, frozen):
    me = await login_applicant(client)
    other = await login_applicant(client, "openid-other")
    parsed = names.parse(NAME, "llc", "451402")
    await NameReservation.create(applicant_id=other["applicant"]["id"], name=NAME, trade_name=parsed.trade_name,
                                 trade_pinyin=names.pinyin_key(parsed.trade_name), industry=parsed.industry,
                                 entity_type="llc", authority_code="451402", city_code="451400",
                                 expires_at=server_clock.now() + timedelta(hours=1))
    await create_draft(client, me["headers"], name=NAME)
    assert await name_missing(client, me["headers"])
    frozen.advance(timedelta(minutes=59))
    assert await name_missing(client, me["headers"])
    frozen.advance(timedelta(minutes=2))  # 11:01 the same day: only the reservation's end has passed
    assert not await name_missing(client, me["headers"])


async def test_a_cancelled_names_year_of_protection_ending_shows_without_any_write(client, frozen):
    me = await login_applicant(client)
    # Cancelled on 2025-12-02 (the registry's dates are read as midnight UTC, 08:00 in China): protected for a year,
    # until 2026-12-02 08:00 in China. From 01:00 that day no midnight comes before it.
    frozen.set(datetime(2026, 12, 2, 1, 0, tzinfo=server_clock.CHINA))
    await create_registered(NAME, status="cancelled", status_date="2025-12-02")
    await create_draft(client, me["headers"], name=NAME)
    assert await name_missing(client, me["headers"])
    frozen.advance(timedelta(hours=6, minutes=59))
    assert await name_missing(client, me["headers"])
    frozen.advance(timedelta(minutes=2))
    assert not await name_missing(client, me["headers"])


async def test_the_last_day_of_a_notice_period_passing_shows_the_next_morning(client, frozen):
    """简易注销: the row says the notice period runs until its last day; after that day's midnight it no longer does."""
    me = await login_applicant(client)
    entity = await create_registered(NAME)
    await create_approved_account(me["applicant"]["id"], entity)
    draft = await create_draft(client, me["headers"], "simple_deregister", "llc", credit_code=entity.credit_code)
    notice = {"notice_start": "2026-11-12", "notice_end": "2026-12-01", "objections_raised": False}
    saved = await client.patch(f"{LIST}/{draft['id']}", headers=me["headers"], json={"entity": notice})
    assert saved.status_code == 200, saved.text

    def notice_running(rows):
        return any(item["field"] == "entity.notice_end" for item in rows[0]["missing"])

    assert notice_running(await listed(client, me["headers"]))
    frozen.set(datetime(2026, 12, 1, 23, 59, tzinfo=server_clock.CHINA))
    assert notice_running(await listed(client, me["headers"]))
    frozen.set(datetime(2026, 12, 2, 0, 1, tzinfo=server_clock.CHINA))
    assert not notice_running(await listed(client, me["headers"]))


async def test_a_change_made_on_another_worker_reaches_this_workers_list(client, second_worker):  # noqa: F811
    applicant = await login_applicant(client)
    draft = await create_draft(client, applicant["headers"], name=NAME)
    assert [row["name"] for row in await listed(second_worker, applicant["headers"])] == [NAME]
    saved = await client.patch(f"{LIST}/{draft['id']}", headers=applicant["headers"],
                               json={"name": "崇左云帆物流有限公司"})
    assert saved.status_code == 200, saved.text

    async def renamed():
        return [row["name"] for row in await listed(second_worker, applicant["headers"])] == ["崇左云帆物流有限公司"]

    assert await _eventually(renamed)
    other = await login_applicant(client, "openid-other")
    reserved = await second_worker.post("/api/v1/names/reservations", headers=other["headers"],
                                        json={"name": "崇左云帆物流有限公司", "entity_type": "llc",
                                              "authority_code": "451402"})
    assert reserved.status_code == 201, reserved.text

    async def taken():
        return await name_missing(client, applicant["headers"])

    assert await _eventually(taken)


async def test_while_this_worker_cannot_hear_the_others_it_keeps_no_list(client, frozen):
    """Its subscription lost, a worker would miss another worker's announcement: until it has subscribed again it
    reads every list afresh, and keeps again once it hears."""
    applicant = await login_applicant(client)
    draft = await create_draft(client, applicant["headers"], name=NAME)

    async def rename_unannounced(name):  # as a write on a worker this one cannot hear
        await Application.filter(id=draft["id"]).update(name=name)

    async def names_listed():
        return [row["name"] for row in await listed(client, applicant["headers"])]

    assert await names_listed() == [NAME]
    invalidation._lost()  # what the listener calls when Redis drops its subscription
    try:
        await rename_unannounced("崇左云帆物流有限公司")
        assert await names_listed() == ["崇左云帆物流有限公司"]
        await rename_unannounced("崇左云帆网络科技有限公司")
        assert await names_listed() == ["崇左云帆网络科技有限公司"]
    finally:
        invalidation._received(None)  # subscribed again
    await rename_unannounced("崇左云帆贸易有限公司")
    assert await names_listed() == ["崇左云帆贸易有限公司"]
    await rename_unannounced("崇左云帆餐饮有限公司")
    assert await names_listed() == ["崇左云帆贸易有限公司"]

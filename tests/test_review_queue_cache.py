"""The 待办 pages each worker keeps in memory (review.queue): forgotten by every committed transition, on this
worker at once and on the others through Redis, never served outside the scope they were made for, and kept no
longer than PAGE_SECONDS by the one clock."""
import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from tortoise.transactions import in_transaction

from server.cache import invalidation, make_cache
from server.db import is_postgres
from server.models.applications import Application
from server.services.applications import lifecycle
from server.services.review import queue
from tests.helpers import (
    create_review_application,
    create_staff,
    login_applicant,
    resident_id,
)
from tests.test_hot_paths import _eventually, second_worker  # noqa: F401 - second_worker is a fixture

QUEUE = "/api/v1/review/queue"


@pytest.fixture
def frozen(clock):
    """Time stands still, so a page can leave the cache only by being forgotten."""
    clock.set(datetime.now(UTC))
    return clock


async def waiting(server, applicant_id, authority="451402", status="accepted", name="崇左云帆科技有限公司"):
    return await create_review_application(applicant_id, authority, status, uploads_dir=server.settings.uploads.dir,
                                           name=name, due_at=datetime.now(UTC) + timedelta(days=3))


async def ids(client, reviewer, query=""):
    response = await client.get(QUEUE + query, headers=reviewer["headers"])
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_the_registrar_who_approves_sees_it_on_the_next_load(client, server, frozen):
    applicant = await login_applicant(client)
    reviewer = await create_staff(client, "reviewer-jz", "reviewer", "451402")
    first = await waiting(server, applicant["applicant"]["id"])
    second = await waiting(server, applicant["applicant"]["id"], status="submitted", name="崇左云帆贸易有限公司")
    assert await ids(client, reviewer) == [str(first.id), str(second.id)]
    # Written behind the service's back: the page in memory does not know, which shows the page is kept ...
    await Application.filter(id=second.id).update(name="崇左云帆物流有限公司")
    assert "崇左云帆贸易有限公司" in (await client.get(QUEUE, headers=reviewer["headers"])).text
    # ... and a transition forgets it as soon as it commits.
    response = await client.post(f"/api/v1/review/applications/{first.id}/approve", headers=reviewer["headers"])
    assert response.status_code == 200, response.text
    page = (await client.get(QUEUE, headers=reviewer["headers"])).json()
    assert [item["id"] for item in page["items"]] == [str(second.id)]
    assert page["items"][0]["name"] == "崇左云帆物流有限公司" and page["total"] == 1


async def test_a_page_read_while_a_transition_is_uncommitted_is_forgotten_at_the_commit(client, server, frozen):
    if not is_postgres(server.settings):
        pytest.skip("SQLite has one connection: a request would read the open transaction's own writes")
    applicant = await login_applicant(client)
    reviewer = await create_staff(client, "reviewer-jz", "reviewer", "451402")
    application = await waiting(server, applicant["applicant"]["id"])
    async with in_transaction() as conn:
        await lifecycle.transition(application, "reject", "审核员", comments=[{"message": "材料不全"}], connection=conn)
        # Another request now reads the committed state, which still has the case waiting, and keeps that page.
        assert await ids(client, reviewer) == [str(application.id)]
    assert await ids(client, reviewer) == []


async def test_a_rolled_back_transition_forgets_nothing_and_a_savepoint_forgets_at_the_outer_commit():
    from server.transactions import after_commit

    called = []

    async def remember():
        called.append(True)

    with pytest.raises(RuntimeError):
        async with in_transaction() as conn:
            after_commit(conn, remember)
            raise RuntimeError("refused")
    assert called == []
    async with in_transaction():
        async with in_transaction() as savepoint:
            after_commit(savepoint, remember)
        assert called == []
    assert called == [True]


async def test_a_transition_on_another_worker_reaches_this_workers_page(client, server, frozen, second_worker):  # noqa: F811
    applicant = await login_applicant(client)
    reviewer = await create_staff(client, "reviewer-jz", "reviewer", "451402")
    application = await waiting(server, applicant["applicant"]["id"])
    assert await ids(client, reviewer) == [str(application.id)]
    response = await second_worker.post(f"/api/v1/review/applications/{application.id}/approve",
                                        headers=reviewer["headers"])
    assert response.status_code == 200, response.text

    async def forgotten():
        return await ids(client, reviewer) == []

    # The clock stands still here: only the other worker's message through Redis can make this page go.
    assert await _eventually(forgotten)


async def test_a_transition_announces_the_authority_to_every_worker(client, server):
    if not server.settings.cache.url.startswith("redis://"):
        pytest.skip("the in-process cache serves one worker: there is nobody to tell")
    heard: asyncio.Queue = asyncio.Queue()
    other = make_cache(server.settings.cache.url)
    listener = other.listen(invalidation.CHANNEL, heard.put_nowait)
    try:
        assert await asyncio.wait_for(heard.get(), 10) is None  # subscribed
        applicant = await login_applicant(client)
        reviewer = await create_staff(client, "reviewer-jz", "reviewer", "451402")
        application = await waiting(server, applicant["applicant"]["id"])
        response = await client.post(f"/api/v1/review/applications/{application.id}/approve",
                                     headers=reviewer["headers"])
        assert response.status_code == 200, response.text
        messages = [await asyncio.wait_for(heard.get(), 10)]
        while "review_queue:451402" not in messages:
            messages.append(await asyncio.wait_for(heard.get(), 10))
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await other.close()


async def test_a_process_that_keeps_nothing_of_a_topic_still_tells_the_others(server):
    # The writer announces without knowing who keeps what (applications.lifecycle does not load the 待办 queue): a
    # process that never loaded the keeper still tells the workers that did.
    topic = "kept_only_elsewhere"
    assert topic not in invalidation._topics
    if not server.settings.cache.url.startswith("redis://"):
        await invalidation.announce(topic, "451402")  # nobody here to forget, nobody else to tell: no error
        return
    heard: asyncio.Queue = asyncio.Queue()
    other = make_cache(server.settings.cache.url)
    listener = other.listen(invalidation.CHANNEL, heard.put_nowait)
    try:
        assert await asyncio.wait_for(heard.get(), 10) is None  # subscribed
        await invalidation.announce(topic, "451402")
        assert await asyncio.wait_for(heard.get(), 10) == f"{topic}:451402"
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await other.close()


async def test_a_page_lives_no_longer_than_its_lifetime_by_the_clock(client, server, frozen):
    applicant = await login_applicant(client)
    reviewer = await create_staff(client, "reviewer-jz", "reviewer", "451402")
    first = await waiting(server, applicant["applicant"]["id"])
    assert await ids(client, reviewer) == [str(first.id)]
    # Made behind the service's back (no transition): only the lifetime brings it in.
    second = await waiting(server, applicant["applicant"]["id"], name="崇左云帆贸易有限公司")
    frozen.advance(timedelta(seconds=queue.PAGE_SECONDS - 0.5))
    assert await ids(client, reviewer) == [str(first.id)]
    frozen.advance(timedelta(seconds=0.5))
    assert await ids(client, reviewer) == [str(first.id), str(second.id)]


async def test_a_page_lives_no_longer_when_the_wall_clock_is_set_back(client, server, frozen):
    applicant = await login_applicant(client)
    reviewer = await create_staff(client, "reviewer-jz", "reviewer", "451402")
    first = await waiting(server, applicant["applicant"]["id"])
    assert await ids(client, reviewer) == [str(first.id)]
    second = await waiting(server, applicant["applicant"]["id"], name="崇左云帆贸易有限公司")
    # The machine's time is corrected an hour back (NTP): the page's lifetime runs on all the same.
    frozen.set(frozen.now() - timedelta(hours=1))
    frozen.advance(timedelta(seconds=queue.PAGE_SECONDS))
    assert await ids(client, reviewer) == [str(first.id), str(second.id)]


async def test_a_page_is_never_served_to_staff_of_another_scope(client, server, frozen):
    applicant = await login_applicant(client)
    jiangzhou = await create_staff(client, "reviewer-jz", "reviewer", "451402")
    fusui = await create_staff(client, "reviewer-fs", "reviewer", "451421")
    city = await create_staff(client, "reviewer-cz", "helper", "451400")
    in_jiangzhou = await waiting(server, applicant["applicant"]["id"])
    in_fusui = await waiting(server, applicant["applicant"]["id"], authority="451421", name="扶绥云帆科技有限公司")
    assert await ids(client, jiangzhou) == [str(in_jiangzhou.id)]
    assert await ids(client, jiangzhou, "?authority=451402") == [str(in_jiangzhou.id)]
    assert await ids(client, fusui) == [str(in_fusui.id)]
    assert (await client.get(QUEUE + "?authority=451402", headers=fusui["headers"])).status_code == 404
    assert set(await ids(client, city)) == {str(in_jiangzhou.id), str(in_fusui.id)}
    # A change in 扶绥 forgets the county's and the city's pages, and leaves 江州's as it is.
    before = len(queue._pages._entries)
    response = await client.post(f"/api/v1/review/applications/{in_fusui.id}/approve", headers=fusui["headers"])
    assert response.status_code == 200, response.text
    assert len(queue._pages._entries) == before - 2
    assert await ids(client, city) == [str(in_jiangzhou.id)]


async def test_the_kept_pages_hold_no_personal_data_unmasked(client, server):
    applicant = await login_applicant(client)
    code = (await client.post("/_mock/wx/phone-code", json={"phone": "13712345678"})).json()["code"]
    assert (await client.post("/api/v1/mp/phone", json={"code": code}, headers=applicant["headers"])).status_code == 200
    reviewer = await create_staff(client, "reviewer-jz", "reviewer", "451402")
    for name in ("崇左云帆科技有限公司", "崇左云帆贸易有限公司"):
        await waiting(server, applicant["applicant"]["id"], name=name)
    first = (await client.get(QUEUE + "?page_size=1", headers=reviewer["headers"])).json()
    await client.get(QUEUE + f"?page_size=1&cursor={first['next_cursor']}", headers=reviewer["headers"])
    kept = repr(queue._pages._entries)
    assert len(queue._pages._entries) == 2
    # The legal representative's ID number and phone, the applicant's phone (helpers.create_review_application),
    # and nothing naming the staff member who asked.
    for personal in (resident_id("19900307", "123"), "13800001111", "13712345678", "reviewer-jz", reviewer["token"]):
        assert personal not in kept
    assert "138****1111" in kept

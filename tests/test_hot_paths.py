"""What the hot paths keep in each worker's memory stays right: one render per expiry, and logout and edits
reach every worker (a second `python -m server serve` on the same PostgreSQL + Redis)."""
import asyncio
import os

import httpx
import pytest

from server.services.guides import page_cache
from tests.conftest import serve_in_child
from tests.helpers import create_draft, create_point, create_staff, login_applicant


async def test_one_render_for_many_requests_arriving_together():
    renders = 0
    release = asyncio.Event()

    async def render():
        nonlocal renders
        renders += 1
        await release.wait()
        return (1, "<p>page</p>")

    waiting = [asyncio.create_task(page_cache.get_or_render("SINGLEFLIGHT1", render, 60)) for _ in range(20)]
    await asyncio.sleep(0)
    release.set()
    assert {page for page in await asyncio.gather(*waiting)} == {(1, "<p>page</p>")}
    assert renders == 1
    assert await page_cache.get_or_render("SINGLEFLIGHT1", render, 60) == (1, "<p>page</p>") and renders == 1


async def test_a_page_rendered_across_an_edit_is_not_kept():
    started, release = asyncio.Event(), asyncio.Event()

    async def render():
        started.set()
        await release.wait()
        return (1, "old")

    rendering = asyncio.create_task(page_cache.get_or_render("EDITEDMID1", render, 60))
    await started.wait()
    await page_cache.forget("EDITEDMID1")
    release.set()
    assert await rendering == (1, "old")  # the request that asked gets its answer ...
    assert page_cache.get("EDITEDMID1") is None  # ... but the next one renders again


async def _eventually(check, attempts: int = 200):
    for _ in range(attempts):
        if await check():
            return True
        await asyncio.sleep(0.05)
    return False


@pytest.fixture
async def second_worker(server, tmp_path):
    if not server.settings.cache.url.startswith("redis://"):
        pytest.skip("several workers share Redis; the in-process cache serves one")
    env = {**os.environ, "YCT_DATABASE__URL": server.settings.database.url, "YCT_CACHE__URL": server.settings.cache.url,
           "YCT_OUTBOX__ENABLED": "false", "YCT_UPLOADS__DIR": str(tmp_path / "up"),
           "YCT_QRCODE_DIR": str(tmp_path / "qr"), "YCT_SECRET_KEY": server.settings.secret_key}
    process, base_url = await serve_in_child(env, tmp_path / "second-worker.log")
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as other:
        try:
            yield other
        finally:
            process.terminate()
            await process.wait()


async def test_logout_reaches_every_worker(client, second_worker):
    applicant = await login_applicant(client)
    assert (await second_worker.get("/api/v1/applications", headers=applicant["headers"])).status_code == 200
    assert (await client.post("/api/v1/mp/logout", headers=applicant["headers"])).status_code == 200

    async def refused():
        return (await second_worker.get("/api/v1/applications", headers=applicant["headers"])).status_code == 401

    assert await _eventually(refused)


async def test_point_edits_reach_every_workers_landing_page(client, second_worker):
    admin = await create_staff(client, "admin1", "admin", "451400")
    point = await create_point(client, admin, name="崇左市旧名称网点")
    assert "崇左市旧名称网点" in (await second_worker.get(f"/g/{point['code']}")).text
    renamed = await client.patch(f"/api/v1/admin/points/{point['id']}", headers=admin["headers"],
                                 json={"name": "崇左市新名称网点"})
    assert renamed.status_code == 200

    async def shows_new_name():
        return "崇左市新名称网点" in (await second_worker.get(f"/g/{point['code']}")).text

    assert await _eventually(shows_new_name)


async def test_revoking_a_staff_members_sessions_forgets_the_staff_member_this_worker_remembers(client, server):
    from server.services.accounts import sessions

    reviewer = await create_staff(client, "reviewer1", "reviewer", "451400")
    assert (await client.get("/api/v1/staff/me", headers=reviewer["headers"])).status_code == 200
    assert sessions.remembered_staff(reviewer["token"]) is not None
    await sessions.revoke_all_for_staff(server.app.ctx.cache, reviewer["staff"]["id"])
    assert sessions.remembered_staff(reviewer["token"]) is None
    assert (await client.get("/api/v1/staff/me", headers=reviewer["headers"])).status_code == 401


async def test_a_list_read_inside_a_transaction_reads_through_it_and_is_not_kept_after_a_rollback(client):
    """The compiled lists run on the pool directly; inside a transaction they must stay on its connection, or what
    the transaction wrote before would be missing (PostgreSQL; SQLite has the one connection). What was read there
    is forgotten when the transaction ends, rolled back too: on SQLite other requests read it as well."""
    from tortoise.transactions import in_transaction

    from server.models.applications import Application
    from server.services.applications import lifecycle
    from server.services.applications import service as applications

    applicant = await login_applicant(client)
    draft = await create_draft(client, applicant["headers"], name="崇左市事务前科技有限公司")
    application = await Application.get(id=draft["id"])

    class RolledBack(Exception):
        pass

    with pytest.raises(RolledBack):
        async with in_transaction() as conn:
            await lifecycle.claim_materials_write(application, conn)
            await Application.filter(id=draft["id"]).using_db(conn).update(name="崇左市事务中科技有限公司")
            assert [row["name"] for row in await applications.list_for_applicant(application.applicant_id)] == \
                ["崇左市事务中科技有限公司"]
            raise RolledBack
    assert [row["name"] for row in await applications.list_for_applicant(application.applicant_id)] == \
        ["崇左市事务前科技有限公司"]
    listed = await client.get("/api/v1/applications", headers=applicant["headers"])
    assert [row["name"] for row in listed.json()] == ["崇左市事务前科技有限公司"]


async def test_no_header_value_can_break_into_another_header(server):
    """Header values go through a cheaper sanitizer than Sanic's own (server/api/http.py): CR, LF and NUL are still
    removed from every name and value, and a plain value is sent unchanged."""
    from sanic.response import HTTPResponse

    response = HTTPResponse("", content_type="text/plain", headers={
        "X-Forged": "a\r\nSet-Cookie: session=x\x00", "Cache-Control\r\n": "private, max-age=60"})
    assert list(response.processed_headers) == [
        (b"X-Forged", b"aSet-Cookie: session=x"), (b"Cache-Control", b"private, max-age=60"),
        (b"content-type", b"text/plain")]

"""The console in a real headless Chromium (log in, open, return with two comments, read the timeline), and its
CSRF and session rules over plain HTTP."""
import re
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from playwright.async_api import async_playwright

from server.models.applications import Application, TimelineEntry
from tests.helpers import STAFF_PASSWORD, create_review_application, create_staff, login_applicant

CHROMIUM = {"executable_path": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]}


@pytest.fixture
async def browser():
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(**CHROMIUM)
        yield chromium
        await chromium.close()


async def waiting_application(client, server, authority="451402", **fields):
    applicant = await login_applicant(client)
    return await create_review_application(applicant["applicant"]["id"], authority, status="cloud_review",
                                    due_at=datetime.now(timezone.utc) + timedelta(hours=2),
                                    uploads_dir=server.settings.uploads.dir, **fields)


async def test_reviewer_returns_an_application_with_two_comments_in_the_browser(client, server, browser):
    await create_staff(client, "console-reviewer", "reviewer", "451400")
    application = await waiting_application(client, server)
    page = await browser.new_page(base_url=server.base_url)
    await page.goto("/console/queue")
    assert page.url.endswith("/console/login")
    await page.get_by_label("用户名").fill("console-reviewer")
    await page.get_by_label("密码").fill(STAFF_PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/console/queue$"))
    await page.get_by_role("link", name=application.name).click()
    await page.wait_for_url(re.compile(f"/console/applications/{application.id}$"))
    # 住所证明, 身份证件, 章程, 任职文件: every uploaded image (the 申请书 is generated, not uploaded).
    assert await page.locator(".previews img").count() == 4
    await page.get_by_label("住所（经营场所）", exact=True).fill("住所请写到门牌号")
    await page.get_by_label("附件 相关人员身份证件", exact=True).fill("身份证照片反光看不清")
    await page.get_by_role("button", name="退回修改").click()
    await page.wait_for_url(re.compile(r"done=return"))
    timeline = page.locator("#timeline")
    await timeline.get_by_text("住所请写到门牌号").wait_for()
    assert "身份证照片反光看不清" in await timeline.inner_text()
    assert "已退回修改" in await page.locator("#status").inner_text()
    entry = await TimelineEntry.get(application_id=application.id, action="return")
    assert [c["field"] for c in entry.comments] == ["entity.address", None]
    await page.close()


async def test_reviewer_approves_and_locks_with_the_keyboard(client, server, browser, tmp_path):
    await create_staff(client, "keyboard", "reviewer", "451402")
    application = await waiting_application(client, server)
    page = await browser.new_page(base_url=server.base_url)
    await page.goto("/console/login")
    # autofocus lands a moment after "load": typing earlier would go nowhere
    await page.wait_for_function("document.activeElement && document.activeElement.name === 'username'")
    await page.keyboard.type("keyboard")
    await page.keyboard.press("Tab")
    await page.keyboard.type(STAFF_PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/console/queue$"))
    await page.goto(f"/console/applications/{application.id}")
    await page.get_by_role("button", name="云帮办通过（锁定材料）").focus()
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"done=approve-lock"))
    assert (await Application.get(id=application.id)).status == "locked_signing"
    assert "SHA-256" in await page.content()
    # 撤销锁定: the way out of the lock, with a reason.
    await page.get_by_label("撤销锁定理由").fill("申请人来电：住所门牌号填错")
    await page.screenshot(path=str(tmp_path / "console-locked.png"), full_page=True)
    await page.get_by_role("button", name="撤销锁定（退回修改，原签名作废）").click()
    await page.wait_for_url(re.compile(r"done=unlock"))
    assert "已退回修改" in await page.locator("#status").inner_text()
    assert "申请人来电：住所门牌号填错" in await page.locator("#timeline").inner_text()
    await page.close()


@asynccontextmanager
async def console_session(server, username="console-http"):
    """A console login over HTTP: the client keeps the cookies as a browser would."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        form = await http.get("/console/login")
        logged = await http.post("/console/login", data={"username": username, "password": STAFF_PASSWORD,
                                                         "csrf_token": csrf_of(form)})
        assert logged.status_code == 303, logged.text
        http.login_response = logged
        yield http


def csrf_of(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


async def test_console_session_cookie_is_strict_and_http_only(client, server):
    await create_staff(client, "console-http")
    async with console_session(server) as http:
        cookie = http.login_response.headers["set-cookie"].lower()
        assert cookie.startswith("yct_staff=") and "samesite=strict" in cookie and "httponly" in cookie
        assert (await http.get("/console/queue")).status_code == 200


async def test_action_without_the_csrf_token_is_refused(client, server):
    await create_staff(client, "console-http")
    application = await waiting_application(client, server)
    async with console_session(server) as http:
        forged = await http.post(f"/console/applications/{application.id}/approve-lock", data={})
        assert forged.status_code == 403
        wrong = await http.post(f"/console/applications/{application.id}/approve-lock", data={"csrf_token": "x"})
        assert wrong.status_code == 403
        assert (await Application.get(id=application.id)).status == "cloud_review"
        page = await http.get(f"/console/applications/{application.id}")
        token = csrf_of(page)
        done = await http.post(f"/console/applications/{application.id}/approve-lock", data={"csrf_token": token})
        assert done.status_code == 303
    assert (await Application.get(id=application.id)).status == "locked_signing"


async def test_empty_return_shows_the_reason_and_changes_nothing(client, server):
    await create_staff(client, "console-http")
    application = await waiting_application(client, server)
    async with console_session(server) as http:
        page = await http.get(f"/console/applications/{application.id}")
        token = csrf_of(page)
        refused = await http.post(f"/console/applications/{application.id}/return", data={"csrf_token": token})
        assert refused.status_code == 422 and "至少一条" in refused.text
    assert (await Application.get(id=application.id)).status == "cloud_review"


async def test_wrong_password_shows_the_form_again(client, server):
    await create_staff(client, "console-http")
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        form = await http.get("/console/login")
        token = csrf_of(form)
        response = await http.post("/console/login", data={"username": "console-http", "password": "wrong-one",
                                                           "csrf_token": token})
        assert response.status_code == 401 and "用户名或密码错误" in response.text
        assert "yct_staff" not in http.cookies


async def test_helper_sees_the_application_read_only(client, server):
    await create_staff(client, "console-helper", "helper")
    application = await waiting_application(client, server)
    async with console_session(server, "console-helper") as http:
        page = await http.get(f"/console/applications/{application.id}")
        assert page.status_code == 200 and "只读" in page.text and "云帮办通过" not in page.text


async def test_other_county_application_is_not_found_in_the_console(client, server):
    await create_staff(client, "console-http", "reviewer", "451402")
    application = await waiting_application(client, server, authority="451481")
    async with console_session(server) as http:
        assert (await http.get(f"/console/applications/{application.id}")).status_code == 404


async def test_console_accepts_with_the_all_signed_notice_then_approves(client, server):
    from server.services.applications.service import canonical_materials, materials_hash

    await create_staff(client, "console-http")
    application = await waiting_application(client, server, flow="cloud")
    snapshot = await canonical_materials(application)
    await Application.filter(id=application.id).update(status="submitted", snapshot=snapshot,
                                                       snapshot_hash=materials_hash(snapshot))
    async with console_session(server) as http:
        page = await http.get(f"/console/applications/{application.id}")
        assert "云帮办所有签名已完成" in page.text
        accepted = await http.post(f"/console/applications/{application.id}/accept", data={"csrf_token": csrf_of(page)})
        assert accepted.status_code == 303
        page = await http.get(accepted.headers["location"])
        assert "已受理" in page.text and "云帮办所有签名已完成" in page.text
        approved = await http.post(f"/console/applications/{application.id}/approve", data={"csrf_token": csrf_of(page)})
        assert approved.status_code == 303
        page = await http.get(approved.headers["location"])
    stored = await Application.get(id=application.id)
    assert stored.status == "approved" and stored.credit_code in page.text


async def test_console_unlocks_a_locked_case_with_a_reason(client, server):
    await create_staff(client, "console-http")
    application = await waiting_application(client, server)
    async with console_session(server) as http:
        page = await http.get(f"/console/applications/{application.id}")
        await http.post(f"/console/applications/{application.id}/approve-lock", data={"csrf_token": csrf_of(page)})
        page = await http.get(f"/console/applications/{application.id}")
        assert "撤销锁定" in page.text
        token = csrf_of(page)
        refused = await http.post(f"/console/applications/{application.id}/unlock", data={"csrf_token": token})
        assert refused.status_code == 422 and "撤销锁定须填写理由" in refused.text
        done = await http.post(f"/console/applications/{application.id}/unlock",
                               data={"csrf_token": token, "reason": "申请人来电：住所门牌号填错"})
        assert done.status_code == 303
    stored = await Application.get(id=application.id)
    assert stored.status == "returned" and stored.snapshot_hash is None

"""The console after approval in a real headless Chromium: the 凭祥市 window prints and hands out a license approved
by 江州区 (异地取照), and 容e查 finds the archived filing; each page rendered to PNG for a look."""
import re

import pytest
from playwright.async_api import async_playwright

from server.models.licenses import LicenseIssue
from server.models.review import AuditEntry
from tests.helpers import STAFF_PASSWORD, create_staff, resident_id
from tests.test_licenses import _approved

CHROMIUM = {"executable_path": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]}


@pytest.fixture
async def browser():
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(**CHROMIUM)
        yield chromium
        await chromium.close()


async def _login(page, username):
    await page.goto("/console/login")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(STAFF_PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/console/queue$"))


async def test_window_hands_out_a_license_from_another_authority_and_finds_the_archive(client, server, browser,
                                                                                         tmp_path):
    approver = await create_staff(client, "jz-reviewer", "reviewer", "451402")
    await create_staff(client, "px-window", "helper", "451481")
    app_id, login = await _approved(client, server, approver)
    chosen = await client.post(f"/api/v1/applications/{app_id}/license", headers=login["headers"],
                               json={"method": "window", "pickup_authority_code": "451481"})
    assert chosen.status_code == 200, chosen.text

    page = await browser.new_page(base_url=server.base_url, viewport={"width": 1280, "height": 900})
    await _login(page, "px-window")
    await page.get_by_role("link", name="发照窗口").click()
    await page.wait_for_url(re.compile(r"/console/licenses$"))
    row = page.locator("tr", has_text="崇左云帆科技有限公司")
    assert "待打印（窗口领取）" in await row.inner_text() and "凭祥市" in await row.inner_text()
    await row.get_by_label("打印的执照编号").fill("451481000009")
    await row.get_by_role("button", name="已打印，通知领取").click()
    await page.wait_for_url(re.compile(r"done=ready"))
    row = page.locator("tr", has_text="崇左云帆科技有限公司")
    await row.get_by_label("发放的执照编号").fill("451481000009")
    await row.get_by_label("领取人", exact=True).fill("李明")
    await row.get_by_label("证件号码").fill(resident_id("19900307", "123"))
    await row.get_by_role("button", name="登记领取").click()
    # Not yet: the ID check box was left empty, and the page says so.
    await page.get_by_role("alert").wait_for()
    assert "须核验领取人身份证件" in await page.get_by_role("alert").inner_text()
    await page.screenshot(path=str(tmp_path / "licenses.png"), full_page=True)
    row = page.locator("tr", has_text="崇左云帆科技有限公司")
    await row.get_by_label("发放的执照编号").fill("451481000009")
    await row.get_by_label("领取人", exact=True).fill("李明")
    await row.get_by_label("证件号码").fill(resident_id("19900307", "123"))
    await row.get_by_label("已核验领取人身份证件").check()
    await row.get_by_role("button", name="登记领取").click()
    await page.wait_for_url(re.compile(r"done=hand-over"))
    assert "本窗口没有待办的营业执照" in await page.locator("table").inner_text()
    issue = await LicenseIssue.get(application_id=app_id)
    assert (issue.status, issue.serial_number, issue.collected_by) == ("handed_over", "451481000009", "李明")

    # 容e查 from the approving authority's console.
    await page.context.clear_cookies()
    await _login(page, "jz-reviewer")
    await page.get_by_role("link", name="容e查").click()
    await page.get_by_label("名称").fill("云帆")
    await page.get_by_role("button", name="查询").click()
    await page.wait_for_url(re.compile(r"/console/archive\?"))
    table = await page.locator("table").inner_text()
    assert "崇左云帆科技有限公司" in table and "已核准" in table and "永久" in table
    await page.screenshot(path=str(tmp_path / "archive.png"), full_page=True)
    assert await AuditEntry.filter(action="archive_search", username="jz-reviewer").count() == 1
    download = page.get_by_role("link", name="下载档案包")
    async with page.expect_download() as event:
        await download.click()
    assert (await event.value).suggested_filename.endswith(".zip")
    await page.close()

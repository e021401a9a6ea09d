"""Legal-person accounts in a real headless Chromium: the legal representative signs the 授权委托书 on the phone page
behind the SMS link, and a reviewer reads the account (letter, evidence, license) in the console and rejects it."""
import os
import re

import pytest
from playwright.async_api import async_playwright

from server.models.enterprise_accounts import EnterpriseAccount
from server.models.signing import EvidenceEntry
from tests.helpers import STAFF_PASSWORD, create_registered, create_staff, login_applicant
from tests.test_enterprise_accounts import AGENT_ID, LEGAL_REP_ID, act, register, signing_links

CHROMIUM = {"executable_path": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]}


@pytest.fixture
async def browser():
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(**CHROMIUM)
        yield chromium
        await chromium.close()


async def screenshot(page, name: str) -> None:
    """Kept for a person to look at when SCREENSHOT_DIR names a folder."""
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        await page.screenshot(path=os.path.join(folder, name), full_page=True)


async def test_legal_rep_signs_on_the_phone_and_the_reviewer_reads_letter_and_evidence(client, server, browser):
    entity = await create_registered("崇左云帆科技有限公司")
    agent = await login_applicant(client, "openid-agent")
    account = await register(client, agent, entity)
    await act(client, agent, account, "submit")
    [link] = await signing_links(client, server, "13800001111")

    phone = await browser.new_page(viewport={"width": 390, "height": 844})
    await phone.goto(link)
    letter = await phone.locator(".letter").inner_text()
    assert "法定代表人授权委托书" in letter and "兹委托 王芳 为本单位代理人" in letter
    assert LEGAL_REP_ID not in await phone.content() and AGENT_ID not in await phone.content()
    await phone.locator("#face-name").fill("李明")
    await phone.locator("#face-id-number").fill(LEGAL_REP_ID)
    await phone.get_by_role("button", name="开始人脸核验").click()
    pad = phone.locator("#pad")
    await pad.wait_for(state="visible")
    box = await pad.bounding_box()
    await phone.mouse.move(box["x"] + 30, box["y"] + 100)
    await phone.mouse.down()
    for x, y in ((90, 40), (160, 120), (260, 50), (320, 110)):
        await phone.mouse.move(box["x"] + x, box["y"] + y, steps=5)
    await phone.mouse.up()
    await screenshot(phone, "authorise-phone.png")
    await phone.get_by_role("button", name="确认签署授权委托书").click()
    await phone.locator("#step-done").wait_for(state="visible")
    entry_hash = await phone.locator("#evidence-hash").inner_text()
    assert (await EvidenceEntry.filter(entry_hash=entry_hash).count()) == 1
    assert (await EnterpriseAccount.get(id=account["id"])).status == "pending_review"
    await phone.close()

    await create_staff(client, "account-reviewer", "reviewer", "451400")
    page = await browser.new_page(base_url=server.base_url)
    await page.goto("/console/login")
    await page.get_by_label("用户名").fill("account-reviewer")
    await page.get_by_label("密码").fill(STAFF_PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/console/queue$"))
    await page.get_by_role("link", name="法人注册审核").click()
    await page.wait_for_url(re.compile(r"/console/enterprise-accounts$"))
    queue = await page.locator("#accounts").inner_text()
    assert "崇左云帆科技有限公司" in queue and "李明" in queue and "13800001111" not in queue
    await page.get_by_role("link", name="崇左云帆科技有限公司").click()
    await page.wait_for_url(re.compile(f"/console/enterprise-accounts/{account['id']}$"))
    assert "兹委托 王芳 为本单位代理人" in await page.locator("#letter").inner_text()
    assert "法定代表人已确认此文书" in await page.locator("#letter-confirmed").inner_text()
    assert await page.locator("#evidence .entry-hash").inner_text() == entry_hash
    assert await page.locator("#license").evaluate("img => img.naturalWidth") == 400
    assert LEGAL_REP_ID not in await page.content()
    await screenshot(page, "console-account.png")
    await page.locator("#reject-reason").fill("营业执照照片不清晰")
    await page.get_by_role("button", name="审核不通过").click()
    await page.wait_for_url(re.compile(r"done=reject"))
    assert "审核不通过" in await page.locator("#status").inner_text()
    assert "营业执照照片不清晰" in await page.locator("#history").inner_text()
    await page.close()

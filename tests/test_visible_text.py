"""Chinese wherever a person reads: every console page and H5 page of a full 云帮办 journey, rendered in Chromium,
shows no developer identifier (snake_case) and no bare code of the vocabulary in its visible text."""
import asyncio
import re

import pytest
from playwright.async_api import async_playwright

from server.vocabulary import VOCABULARY
from tests.helpers import STAFF_PASSWORD, create_point, create_staff, delivered_sms
from tests.test_end_to_end import ENTITY, NAME, PARTIES
from wxmock.phone import PhoneClient

CHROMIUM = {"executable_path": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]}
SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
CODES = {member.value for enum_class in VOCABULARY for member in enum_class}
WORD = re.compile(r"\b[a-z_]+\b")


def identifiers_in(text: str) -> set[str]:
    return set(SNAKE_CASE.findall(text)) | {word for word in WORD.findall(text) if word in CODES}


@pytest.fixture
async def chromium():
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**CHROMIUM)
        yield browser
        await browser.close()


async def test_no_page_of_a_journey_shows_an_identifier(client, server, chromium, tmp_path):
    """Each page is also kept as a PNG under tmp_path, to look at."""
    await create_staff(client, "visible-reviewer", "reviewer", "451400", display_name="李明华")
    reviewer = await create_staff(client, "visible-api", "reviewer", "451402", display_name="张伟")
    admin = await create_staff(client, "visible-admin", "admin", "451400")
    point = await create_point(client, admin)
    phone = PhoneClient(server.base_url, "openid-visible")
    run = asyncio.to_thread
    await run(phone.login)
    await run(phone.bind_phone, "13800138010")
    filled = await run(phone.fill_application, "establish", "llc", "451402", name=NAME, entity=ENTITY, parties=PARTIES)
    app_id = filled["id"]
    review = f"/api/v1/review/applications/{app_id}"

    console = await chromium.new_page(base_url=server.base_url, viewport={"width": 1280, "height": 900})
    mobile = await (await chromium.new_context(base_url=server.base_url, viewport={"width": 375, "height": 667},
                                               locale="zh-CN")).new_page()
    seen: dict[str, set[str]] = {}

    async def look(page, url: str, shot: str):
        await page.goto(url)
        text = await page.evaluate("document.body.innerText")
        found = identifiers_in(text)
        if found:
            seen[url] = found
        await page.screenshot(path=str(tmp_path / f"{shot}.png"), full_page=True)

    await console.goto("/console/login")
    await look(console, "/console/login", "login")
    await console.get_by_label("用户名").fill("visible-reviewer")
    await console.get_by_label("密码").fill(STAFF_PASSWORD)
    await console.keyboard.press("Enter")
    await console.wait_for_url(re.compile(r"/console/queue$"))

    # Returned with comments, resubmitted, locked, one signature of two, the second, accepted, approved.
    await run(phone.submit, app_id, "cloud")
    await look(console, "/console/queue", "queue")
    await look(console, f"/console/applications/{app_id}", "cloud-review")
    attachment = filled["attachments"][0]
    returned = await client.post(f"{review}/return", headers=reviewer["headers"], json={"comments": [
        {"field": "entity.address", "message": "住所请写到门牌号"},
        {"field": "parties[1].phone", "message": "联络员手机号请核对"},
        {"attachment_id": attachment["id"], "message": "照片模糊"}]})
    assert returned.status_code == 200, returned.text
    await look(console, f"/console/applications/{app_id}", "returned")
    await run(phone.save_form, app_id, entity={**ENTITY, "address": "崇左市江州区新民路1号201室"})
    await run(phone.submit, app_id, "cloud")
    assert (await client.post(f"{review}/approve-lock", headers=reviewer["headers"])).status_code == 200
    links = [m["params"]["link"] for m in await delivered_sms(client, server) if m["template"] == "signing_link"]
    await look(mobile, links[0], "signing-page")
    signer = PhoneClient(server.base_url, "openid-visible-signer")
    await run(signer.sign_link, links[0])
    await look(console, f"/console/applications/{app_id}", "locked-one-signed")
    await run(signer.sign_link, links[1])
    await look(console, f"/console/applications/{app_id}", "submitted")
    assert (await client.post(f"{review}/accept", headers=reviewer["headers"])).status_code == 200
    assert (await client.post(f"{review}/approve", headers=reviewer["headers"])).status_code == 200
    await look(console, f"/console/applications/{app_id}", "approved")
    for url in ("/console/licenses", "/console/archive", "/console/stats", "/console/enterprise-accounts"):
        await look(console, url, url.rsplit("/", 1)[1])
    for url in (f"/g/{point['code']}", f"/g/{point['code']}/notices/establish",
                f"/g/{point['code']}/notices/establish/llc", "/points", f"/points/{point['code']}", "/verify"):
        await look(mobile, url, "h5" + url.replace("/", "-"))
    signer.close()
    phone.close()
    assert seen == {}, seen

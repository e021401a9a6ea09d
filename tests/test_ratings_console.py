"""The console's 好差评 page in a real headless Chromium: ratings per point and per helper (worst first), and a
bad rating answered in writing through the page, which the applicant then reads."""
import re
from datetime import datetime
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from tests.appointment_helpers import admin_login, book, create_point, helper_at
from tests.helpers import STAFF_PASSWORD, create_staff, login_applicant

CHROMIUM = {"executable_path": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]}
SCREENSHOTS = Path(__file__).resolve().parent.parent / "data" / "test-screenshots"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00")


@pytest.fixture
async def browser():
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(**CHROMIUM)
        yield chromium
        await chromium.close()


async def rated_visit(client, clock, point, helper, openid, score, comment=""):
    """Book, check in, serve and rate one visit on 29 September 2026."""
    clock.set(at("2026-09-28T08:00"))
    applicant = await login_applicant(client, openid)
    appointment = (await book(client, applicant, point, "2026-09-29T09:00:00+08:00")).json()
    clock.set(at("2026-09-29T09:05"))
    url = f"/api/v1/helper/appointments/{appointment['id']}"
    assert (await client.post(f"{url}/check-in", headers=helper["headers"],
                              json={"checkin_code": appointment["checkin_code"]})).status_code == 200
    assert (await client.post(f"{url}/serve", headers=helper["headers"])).status_code == 200
    rated = await client.post("/api/v1/ratings", headers=applicant["headers"], json={
        "subject_type": "appointment", "subject_id": str(appointment["id"]), "score": score, "comment": comment})
    assert rated.status_code == 201, rated.text
    return applicant


async def test_ratings_per_point_and_helper_and_a_written_answer_in_chromium(client, server, clock, browser):
    admin = await admin_login(client)
    bank = await create_point(client, admin)
    mall = await create_point(client, admin, name="万达广场帮办点", type="mall", slot_capacity=3)
    huang = await helper_at(client, bank)
    lu = await helper_at(client, mall, "helper2", "陆明", "0771-7825678")
    unhappy = await rated_visit(client, clock, bank, huang, "openid-r1", 2, "等了一个小时")
    await rated_visit(client, clock, bank, huang, "openid-r2", 4)
    await rated_visit(client, clock, mall, lu, "openid-r3", 5)
    await create_staff(client, "ratings-console", "admin", "451400")

    page = await browser.new_page(base_url=server.base_url, viewport={"width": 1366, "height": 900})
    await page.goto("/console/login")
    await page.get_by_label("用户名").fill("ratings-console")
    await page.get_by_label("密码").fill(STAFF_PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/console/queue$"))
    await page.get_by_role("link", name="好差评").click()
    await page.wait_for_url(re.compile(r"/console/ratings$"))

    # Worst average first: the bank (2 and 4 → 3.00, one bad, one open) before the mall (5.00).
    points = [await row.locator("td").all_inner_texts() for row in await page.locator("#by-points tbody tr").all()]
    assert points == [["中国银行崇左江州支行帮办点", "2", "3.00", "1", "1"], ["万达广场帮办点", "1", "5.00", "0", "0"]]
    helpers = [await row.locator("td").all_inner_texts() for row in await page.locator("#by-helpers tbody tr").all()]
    assert helpers == [["黄丽", "2", "3.00", "1", "1"], ["陆明", "1", "5.00", "0", "0"]]
    item = page.locator("#follow-ups article")
    assert await item.count() == 1
    assert "等了一个小时" in await item.inner_text() and "2026-10-09 17:30" in await item.inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "console-ratings.png"), full_page=True)

    answer = "已在午间增派帮办员值守，向您致歉。"
    await item.get_by_label("整改回复").fill(answer)
    await item.get_by_role("button", name="回复").click()
    await page.wait_for_url(re.compile(r"done=responded"))
    assert "已回复" in await page.get_by_role("status").inner_text()
    assert "没有待回复的差评" in await page.locator("#follow-ups").inner_text()
    mine = (await client.get("/api/v1/ratings", headers=unhappy["headers"])).json()
    assert mine[0]["follow_up"]["response"] == answer

    # A reviewer has no business here.
    await create_staff(client, "ratings-reviewer", "reviewer", "451400")
    other = await browser.new_page(base_url=server.base_url)
    await other.goto("/console/login")
    await other.get_by_label("用户名").fill("ratings-reviewer")
    await other.get_by_label("密码").fill(STAFF_PASSWORD)
    await other.keyboard.press("Enter")
    await other.wait_for_url(re.compile(r"/console/queue$"))
    response = await other.goto("/console/ratings")
    assert response.status == 403 and "无权" in await other.get_by_role("alert").inner_text()

"""The public directory of help points (no login) and the phone pages a citizen sees: /points and a point's
booking page, in headless Chromium at 375×667."""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from server.models.appointments import Appointment
from tests.appointment_helpers import admin_login, create_point, helper_at
from tests.helpers import login_applicant

PHONE = {"width": 375, "height": 667}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Screenshots for a person to look at; kept when SCREENSHOT_DIR is set.
SHOTS = os.environ.get("SCREENSHOT_DIR")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00")


@pytest.fixture
async def phone():
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
        yield await context.new_page()
        await browser.close()


async def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


async def three_points(client):
    admin = await admin_login(client)
    everything = {key: True for key in ("has_sign", "has_computer", "has_staff", "has_guide", "has_hotline",
                                        "has_public_notice")}
    near = await create_point(client, admin, name="江州区政务服务中心登记窗口", type="registration_window",
                              latitude=22.4040, longitude=107.3530, **everything)
    far = await create_point(client, admin, name="凭祥市农业银行帮办点", authority_code="451481",
                             latitude=22.1000, longitude=106.7600)
    unplaced = await create_point(client, admin, name="太平社区帮办点", type="community")
    return admin, near, far, unplaced


async def test_directory_lists_points_nearest_first_with_published_helpers_only(client):
    _, near, far, unplaced = await three_points(client)
    await helper_at(client, near, "helper-near", "黄丽", "0771-7821234")
    response = await client.get("/api/v1/points", params={"near": "22.10,106.76"})  # no login
    assert response.status_code == 200
    rows = response.json()
    assert [row["code"] for row in rows] == [far["code"], near["code"], unplaced["code"]]
    assert rows[0]["distance_km"] == 0 and 60 < rows[1]["distance_km"] < 75 and rows[2]["distance_km"] is None
    assert rows[1]["helpers"] == [{"name": "黄丽", "landline": "0771-7821234"}]  # name and landline only
    assert all(item["present"] for item in rows[1]["six_has"]) and len(rows[1]["six_has"]) == 6
    assert {row["code"] for row in (await client.get("/api/v1/points", params={"authority": "451481"})).json()} \
        == {far["code"]}
    assert [row["code"] for row in (await client.get("/api/v1/points", params={"type": "community"})).json()] \
        == [unplaced["code"]]
    for params, field in [({"near": "north"}, "near"), ({"near": "95,10"}, "near"), ({"type": "bar"}, "type"),
                          ({"authority": "45"}, "authority")]:
        bad = await client.get("/api/v1/points", params=params)
        assert bad.status_code == 422 and bad.json()["error"]["field"] == field


async def test_directory_page_on_a_phone_shows_points_helpers_and_booking_links(client, server, phone):
    _, near, far, _ = await three_points(client)
    await helper_at(client, near, "helper-near", "黄丽", "0771-7821234")
    await phone.goto(f"{server.base_url}/points?near=22.40,107.35")
    assert await phone.title() == "帮办网点 · 一窗通"
    names = await phone.locator("section.point h2").all_inner_texts()
    assert names[0] == "江州区政务服务中心登记窗口" and "凭祥市农业银行帮办点" in names
    first = phone.locator("section.point").first
    assert "黄丽" in await first.inner_text() and "0771-7821234" in await first.inner_text()
    assert "✓ 有明显帮办代办标识" in await first.inner_text()
    # Nothing overflows the phone's width.
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await shot(phone, "points-directory")
    await first.locator("a.book").click()
    await phone.wait_for_url(f"**/points/{near['code']}")
    assert "预约到网点办理" in await phone.locator("h1").inner_text()


async def test_booking_on_a_phone_books_shows_the_code_and_cancels(client, server, phone, clock):
    clock.set(at("2026-11-30T08:00"))
    _, near, _, _ = await three_points(client)
    applicant = await login_applicant(client, "openid-phone-booker")
    await phone.goto(f"{server.base_url}/points/{near['code']}#token={applicant['token']}")
    days = await phone.locator("button.day").all_inner_texts()
    assert days[:3] == ["11月30日 周一", "12月1日 周二", "12月2日 周三"]
    await phone.locator("button.day", has_text="12月1日").click()
    await phone.locator("button.slot", has_text="14:30–15:00").click()
    await phone.select_option("#business", "change")
    await shot(phone, "booking-choose")
    await phone.locator("#submit").click()
    code = phone.locator("#checkin-code")
    await code.wait_for()
    appointment = await Appointment.get(applicant__openid="openid-phone-booker")
    assert appointment.business_type == "change" and appointment.starts_at == at("2026-12-01T14:30")
    listed = (await client.get("/api/v1/appointments", headers=applicant["headers"])).json()["items"]
    assert await code.inner_text() == listed[0]["checkin_code"]
    await phone.locator(".appointment", has_text="已预约").wait_for()
    assert "余1" in await phone.locator("button.slot", has_text="14:30–15:00").inner_text()  # 2 places, 1 left
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await shot(phone, "booking-done")
    await phone.locator("button.cancel").click()
    await phone.locator(".appointment", has_text="已取消").wait_for()
    assert (await Appointment.get(id=appointment.id)).status == "cancelled"
    assert "余2" in await phone.locator("button.slot", has_text="14:30–15:00").inner_text()


async def test_booking_page_without_a_session_says_to_open_it_in_the_mini_program(client, server, phone, clock):
    clock.set(at("2026-11-30T08:00"))
    _, near, _, _ = await three_points(client)
    await phone.goto(f"{server.base_url}/points/{near['code']}")
    await phone.locator("button.day").first.click()
    await phone.locator("button.slot").first.click()
    assert "请在一窗通小程序中打开本页完成预约" in await phone.locator("#message").inner_text()
    assert await phone.locator("#submit").is_disabled()


async def test_every_landing_page_links_to_the_directory(client, server, phone):
    _, near, _, _ = await three_points(client)
    await phone.goto(near["landing_url"])
    await phone.locator("#directory").click()
    await phone.wait_for_url("**/points")
    assert await phone.locator("section.point").count() == 3

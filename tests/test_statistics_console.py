"""The statistics dashboard in a real headless Chromium, and the Friday weekly report (XLSX and PDF) on the clock."""
import io
import re
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.async_api import async_playwright
from pypdf import PdfReader

from server.models.notifications import OutboxMessage
from server.models.statistics import WeeklyReport
from server.services.statistics import weekly
from tests import stats_records
from tests.helpers import STAFF_PASSWORD, create_staff

CHROMIUM = {"executable_path": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]}
SCREENSHOTS = Path(__file__).resolve().parent.parent / "data" / "test-screenshots"


@pytest.fixture
async def browser():
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(**CHROMIUM)
        yield chromium
        await chromium.close()


async def test_dashboard_in_chromium(client, server, browser):
    await stats_records.seed()
    await stats_records.seed_point_visits()
    await create_staff(client, "stats-console", "admin", "451400")
    page = await browser.new_page(base_url=server.base_url, viewport={"width": 1366, "height": 900})
    await page.goto("/console/login")
    await page.get_by_label("用户名").fill("stats-console")
    await page.get_by_label("密码").fill(STAFF_PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/console/queue$"))
    await page.get_by_role("link", name="统计").click()
    await page.wait_for_url(re.compile(r"/console/stats$"))
    await page.get_by_label("统计期间").select_option("custom")
    await page.get_by_label("开始日期").fill("2026-01-01")
    await page.get_by_label("结束日期").fill("2026-01-31")
    await page.get_by_role("button", name="统计").click()
    await page.wait_for_url(re.compile(r"from=2026-01-01"))

    cards = page.locator("#cards")
    # Counted by hand in tests/stats_records.py: 6 submitted, 4 returned (66.67%), last year 60% → ▲ 11.11%.
    submitted = await cards.locator("[data-figure=submitted]").inner_text()
    assert "6" in submitted and "去年同期 5" in submitted
    rate = cards.locator("[data-figure=return_rate]")
    assert "66.67%" in await rate.inner_text() and "▲ 11.11%" in await rate.inner_text()
    assert await rate.locator(".up-bad").count() == 1  # more returns than last year is bad news
    assert (await rate.locator(".info").get_attribute("title")).startswith("退件数 ÷ 提交审核件数")
    assert "按每人次电子签名约 3 分钟估算" in await cards.locator("[data-figure=hours_saved]").inner_text()
    assert await page.locator(".charts svg").count() == 3
    assert "月度退件率" in await page.locator("#chart-trend").inner_text()
    jiangzhou = page.locator("#by-authority tr[data-authority='451402']")
    assert (await jiangzhou.locator("td").all_inner_texts())[:4] == ["江州区", "3", "1", "33.33%"]
    # Counted by hand in stats_records.seed_point_visits: January at 江州区's point.
    service = await page.locator("#service-points").inner_text()
    assert "预约 3 次" in service and "已办结 1 次" in service and "未到场 2 次" in service
    assert "评价 2 条（网点服务 1，登记办理 1），平均 3.00 分" in service and "差评 1 条" in service
    assert (await page.locator("#by-point tbody tr").first.locator("td").all_inner_texts()) == [
        "江州区政务服务中心登记窗口", "7", "5", "3", "1", "2", "1", "5.00", "0"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "console-stats.png"
    await page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")

    await page.get_by_label("登记机关").select_option("451421")
    await page.get_by_role("button", name="统计").click()
    await page.wait_for_url(re.compile(r"authority=451421"))
    assert "2" in await cards.locator("[data-figure=submitted]").inner_text()
    assert await page.locator("#by-authority tbody tr").count() == 1
    assert "没有预约记录" in await page.locator("[data-note=appointments]").inner_text()  # 扶绥县 has no point

    async with page.expect_download() as download:
        await page.get_by_role("link", name="Excel 工作簿（全部表格）").click()
    saved = Path(await (await download.value).path())  # Playwright saves it without the .xlsx extension
    book = load_workbook(io.BytesIO(saved.read_bytes()))
    rows = {row[0]: row for row in book["汇总"].iter_rows(min_row=3, values_only=True)}
    assert rows["提交审核件数"][1:3] == (2, 3)  # 扶绥县: A3 A5; last year L3 L4 L5
    await page.close()


async def test_dashboard_refuses_an_authority_outside_scope(client, server):
    await create_staff(client, "stats-county", "reviewer", "451421")
    response = await client.get("/console/stats", params={"authority": "451400"})
    assert response.status_code == 404 and "管辖范围" in response.text


async def test_weekly_report_on_friday_at_the_configured_hour(client, server, clock):
    await stats_records.seed()
    city = await create_staff(client, "stats-weekly", "admin", "451400")
    settings = server.settings
    clock.set(datetime.fromisoformat("2026-01-16T10:59:00+08:00"))  # Friday, a minute before 11:00
    made = await weekly.generate_due(settings)
    # Only the report due last Friday (the week 2 to 8 January) can be made before 11:00.
    assert [(r.authority_id, r.period_from.isoformat(), r.period_to.isoformat()) for r in made] == [
        ("451400", "2026-01-02", "2026-01-08")]
    clock.set(datetime.fromisoformat("2026-01-16T11:00:00+08:00"))
    made = await weekly.generate_due(settings)
    assert [(r.period_from.isoformat(), r.period_to.isoformat()) for r in made] == [("2026-01-09", "2026-01-15")]
    assert await weekly.generate_due(settings) == []  # once per authority and week
    assert await WeeklyReport.all().count() == 2

    listed = (await client.get("/api/v1/stats/reports", headers=city["headers"])).json()
    assert [r["period_from"] for r in listed] == ["2026-01-09", "2026-01-02"]
    # 9–15 January: A2 (12th) and A3 (14th) entered review; A3 was returned on the 14th.
    assert (listed[0]["headline"]["submitted"], listed[0]["headline"]["return_rate"]) == (2, 50.0)
    xlsx = await client.get(listed[0]["xlsx"], headers=city["headers"])
    assert xlsx.status_code == 200, xlsx.text[:300]
    book = load_workbook(io.BytesIO(xlsx.content))
    rows = {row[0]: row for row in book["汇总"].iter_rows(min_row=3, values_only=True)}
    assert rows["提交审核件数"][1] == 2 and rows["退件率"][1] == 50.0
    assert len(list(book["月度退件率"].iter_rows(min_row=3))) == 7  # one row a day
    pdf = await client.get(listed[0]["pdf"], headers=city["headers"])
    assert pdf.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    assert len(reader.pages) >= 1 and "2026-01-09" in reader.pages[0].extract_text()

    county = await create_staff(client, "stats-weekly-county", "helper", "451421")
    assert (await client.get(listed[0]["pdf"], headers=county["headers"])).status_code == 404


async def test_the_weekly_report_is_emailed_through_the_outbox_to_the_configured_recipients(client, server, clock,
                                                                                          paused_outbox):
    await stats_records.seed()
    await create_staff(client, "stats-mail", "admin", "451400")
    await create_staff(client, "stats-mail-county", "reviewer", "451421")
    settings = server.settings
    address = "tongji@chongzuo.example.gov.cn"
    settings.statistics.weekly_report_recipients = {"451400": [address]}
    try:
        clock.set(datetime.fromisoformat("2026-01-16T11:00:00+08:00"))
        made = await weekly.generate_due(settings, "2026-01-16")
    finally:
        settings.statistics.weekly_report_recipients = {}
    assert sorted(report.authority_id for report in made) == ["451400", "451421"]
    # 扶绥县 has no recipients configured: its report is only listed.
    assert await OutboxMessage.filter(template="weekly_report").values_list("channel", "recipient") == [
        ("email", address)]
    await paused_outbox.deliver_due()
    mails = server.app.ctx.mail_state.to(address)
    assert len(mails) == 1 and mails[0].subject == "登记业务统计周报"
    # 9–15 January in 崇左市: A2 and A3 entered review, A3 was returned (50%); A2 云帮办 (50%); no signature saved.
    assert "崇左市登记业务统计周报（2026-01-09至2026-01-15）：提交审核2件，退件1件，退件率50.0%，云帮办占比50.0%，" \
           "减少电子签名0人次。" in mails[0].text
    city_report = next(report for report in made if report.authority_id == "451400")
    assert f"/api/v1/stats/reports/{city_report.id}/pdf" in mails[0].text


def test_weekly_report_recipients_are_checked_at_start():
    from pydantic import ValidationError

    from server.config import StatisticsSettings

    with pytest.raises(ValidationError, match="6位数字"):
        StatisticsSettings(weekly_report_recipients={"4514": ["a@example.com"]})
    with pytest.raises(ValidationError, match="不是电子邮件地址"):
        StatisticsSettings(weekly_report_recipients={"451400": ["tongji"]})

"""The public landing page of a QR code, in headless Chromium at a phone's size, and over plain HTTP."""
import pytest
from playwright.async_api import async_playwright

from server.services.guides import page_cache
from tests.helpers import create_guide, create_point, create_staff
from tests.test_guides import MP4, PDF

PHONE = {"width": 375, "height": 667}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
async def phone():
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
        yield await context.new_page()
        await browser.close()


async def point_with_content(client):
    admin = await create_staff(client, "admin1", "admin", "451400")
    point = await create_point(client, admin, authority="451402", name="江州区工商银行帮办网点")
    await create_guide(client, admin, "video", "设立登记操作演示", file=("establish.mp4", MP4))
    await create_guide(client, admin, "video", "简易注销怎么办", external_url="https://v.example.cn/deregister")
    await create_guide(client, admin, "form", "公司登记（备案）申请书", file=("公司登记（备案）申请书.pdf", PDF))
    await create_guide(client, admin, "guide", "个体工商户设立办事指南", body="携带身份证到网点，\n由帮办员全程帮办。")
    retired = await create_guide(client, admin, "guide", "旧指南", authority="451400", body="停用的内容")
    await client.patch(f"/api/v1/admin/guides/{retired['id']}", headers=admin["headers"], json={"active": False})
    nanning = await create_staff(client, "nanning", "admin", "450100")
    await create_guide(client, nanning, "form", "南宁市专用表格", authority="450100", file=("n.pdf", PDF))
    return admin, point


async def test_phone_sees_the_points_videos_forms_guides_and_hotline(client, server, phone):
    _, point = await point_with_content(client)
    response = await phone.goto(point["landing_url"])
    assert response.status == 200
    assert "max-age" in response.headers["cache-control"]
    videos = phone.locator("#videos li")
    assert await videos.count() == 2
    assert await phone.locator("#videos video").get_attribute("src") is not None
    assert "简易注销怎么办" in await phone.locator("#videos").inner_text()
    forms = phone.locator("#forms a")
    assert await forms.all_inner_texts() == ["公司登记（备案）申请书"]
    assert "南宁市专用表格" not in await phone.content()
    assert "停用的内容" not in await phone.content()
    await phone.locator("#guides summary").first.click()
    assert "由帮办员全程帮办" in await phone.locator("#guides").inner_text()
    assert await phone.locator("#contact a[href^='tel:']").inner_text() == "0771-7831234"
    # Fits a phone: nothing wider than the screen.
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    download = await client.get(await forms.first.get_attribute("href"))
    assert download.status_code == 200 and download.content == PDF


async def test_page_links_open_the_mini_program_and_its_booking_page(client, server, phone):
    _, point = await point_with_content(client)
    await phone.goto(point["landing_url"])
    open_link = await phone.locator("#open-mini-program").get_attribute("href")
    book_link = await phone.locator("#book").get_attribute("href")
    assert open_link.startswith("https://wxaurl.cn/") and book_link.startswith("https://wxaurl.cn/")
    asked = {(link["path"], link["query"]) for link in server.wx.url_links}
    assert asked == {(server.settings.guides.miniprogram_home_path, f"point={point['code']}"),
                     (server.settings.guides.miniprogram_booking_path, f"point={point['code']}")}
    await page_cache.forget()
    await phone.goto(point["landing_url"])
    assert await phone.locator("#book").get_attribute("href") == book_link
    assert len(server.wx.url_links) == 2  # the links are cached, not asked of WeChat on every render


async def test_unknown_code_gets_a_friendly_404_page(client, phone):
    response = await phone.goto(f"{client.base_url}/g/NOSUCHCODE")
    assert response.status == 404
    assert "没有找到这个二维码对应的网点" in await phone.locator("main").inner_text()
    plain = await client.get("/g/<script>")
    assert plain.status_code == 404 and "text/html" in plain.headers["content-type"]


async def test_retired_point_is_404_and_edits_show_at_once(client):
    admin = await create_staff(client, "admin1", "admin", "451400")
    point = await create_point(client, admin)
    assert (await client.get(f"/g/{point['code']}")).status_code == 200
    await client.patch(f"/api/v1/admin/points/{point['id']}", headers=admin["headers"], json={"hotline": "0771-5550000"})
    assert "0771-5550000" in (await client.get(f"/g/{point['code']}")).text
    await client.patch(f"/api/v1/admin/points/{point['id']}", headers=admin["headers"], json={"active": False})
    assert (await client.get(f"/g/{point['code']}")).status_code == 404


async def test_page_still_works_when_wechat_is_down(client, server):
    admin = await create_staff(client, "admin1", "admin", "451400")
    point = await create_point(client, admin)
    server.wx.appid = "broken"  # the stand-in now refuses our credentials
    server.wx.access_tokens.clear()
    page = await client.get(f"/g/{point['code']}")
    assert page.status_code == 200
    assert "wxaurl.cn" not in page.text and "一窗通" in page.text and point["hotline"] in page.text


async def test_notice_sheet_opens_from_the_page_with_every_material_and_prints_on_a4(client, server, phone):
    from server.services.applications import materials

    _, point = await point_with_content(client)
    await phone.goto(point["landing_url"])
    assert await phone.locator("#notices a").all_inner_texts() == ["设立登记", "变更登记", "一般注销登记", "简易注销登记"]
    await phone.locator("#notices a", has_text="设立登记").click()
    await phone.wait_for_load_state()
    assert await phone.locator("#sheets a").count() == 7
    await phone.locator("#sheets a", has_text="有限责任公司").click()
    await phone.wait_for_load_state()
    assert phone.url.endswith(f"/g/{point['code']}/notices/establish/llc")
    assert await phone.locator("h1").inner_text() == "有限责任公司设立登记一次性告知单"
    rows = await phone.locator("#materials tbody tr").all_inner_texts()
    expected = materials.required_materials("establish", "llc")
    assert len(rows) == len(expected)
    for row, item in zip(rows, expected):
        assert item["name"] in row and item["signer"] in row
    # The 申请书 is generated from the form and signed online; the 章程 may be generated from the model text.
    assert "由系统根据填报内容自动生成，签字人在线签名，无需上传" in rows[0] and "登记申请书" in rows[0]
    assert any("公司章程" in row and "可选用章程范本由系统根据填报内容生成" in row for row in rows)
    terms = await phone.locator("#terms").inner_text()
    assert "3个工作日" in terms and "免费" in terms and materials.business_info("establish")["basis"] in terms
    assert point["name"] in await phone.locator("#where").inner_text()
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    png = await client.get(await phone.locator("#notice-png").get_attribute("href"))
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    from io import BytesIO

    from PIL import Image

    assert Image.open(BytesIO(png.content)).size == (2480, 3508)
    pdf = await client.get(await phone.locator("#notice-pdf").get_attribute("href"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


async def test_unknown_notice_sheet_is_404(client):
    admin = await create_staff(client, "admin1", "admin", "451400")
    point = await create_point(client, admin)
    assert (await client.get(f"/g/{point['code']}/notices/establish/llc")).status_code == 200
    for url in (f"/g/{point['code']}/notices/adopt/llc", f"/g/{point['code']}/notices/adopt", f"/g/{point['code']}/notices/establish/nation",
                "/g/NOSUCHCODE/notices/establish/llc", f"/g/{point['code']}/notices/establish/llc/a4.gif"):
        assert (await client.get(url)).status_code == 404, url


async def test_a_printable_sheet_without_a_cjk_font_is_503_not_500(client, server, monkeypatch, tmp_path):
    admin = await create_staff(client, "admin1", "admin", "451400")
    point = await create_point(client, admin)
    monkeypatch.setattr(server.app.ctx.settings.guides, "font_path", str(tmp_path / "no-such-font.ttc"))
    response = await client.get(f"/g/{point['code']}/notices/establish/llc/a4.png")
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "unavailable"


async def test_every_answer_forbids_sniffing_and_pages_refuse_other_sites_frames(client, phone):
    """A signing page framed by a stranger's site could be overlaid and clicked through (clickjacking): no page of
    ours may be framed by another site, and no answer may be sniffed into another type."""
    _, point = await point_with_content(client)
    page = await client.get(f"/g/{point['code']}")
    again = await client.get(f"/g/{point['code']}")  # the worker's cached copy, too
    signing_page = await client.get("/s/not-a-real-token")
    api_answer = await client.get("/healthz")
    for answer in (page, again, signing_page):
        assert "text/html" in answer.headers["content-type"]
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert api_answer.headers["x-content-type-options"] == "nosniff"
    assert "x-frame-options" not in api_answer.headers
    # A browser refuses to show the landing page inside a frame of another origin.
    await phone.set_content(f'<iframe id="f" src="{client.base_url}/g/{point["code"]}"></iframe>')
    frame = phone.frames[-1]
    assert "江州区工商银行帮办网点" not in await frame.content()

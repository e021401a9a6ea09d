"""The mobile signing page in a real headless Chromium on a phone-sized screen: open, face, draw, confirm."""
import pytest
from playwright.async_api import async_playwright

from server.models.signing import Signature
from tests.test_signing import _locked

CHROMIUM = {"executable_path": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]}


@pytest.fixture
async def phone_page():
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**CHROMIUM)
        context = await browser.new_context(viewport={"width": 375, "height": 667}, device_scale_factor=2,
                                            has_touch=True, locale="zh-CN")
        page = await context.new_page()
        yield page
        await browser.close()


async def _open_application_form(page):
    """Tap the 申请书 link: it opens in a new tab, and its download is what the server records."""
    async with page.context.expect_event("requestfinished",
                                         predicate=lambda r: r.url.endswith("/application_form.pdf")):
        await page.click(".doc-link[data-kind=application_form]")


async def _draw_signature(page):
    pad = await page.query_selector("#pad")
    await pad.scroll_into_view_if_needed()
    box = await pad.bounding_box()
    await page.mouse.move(box["x"] + 30, box["y"] + 120)
    await page.mouse.down()
    for x, y in ((80, 40), (140, 140), (200, 50), (280, 130)):
        await page.mouse.move(box["x"] + x, box["y"] + y, steps=5)
    await page.mouse.up()


async def test_signer_opens_link_passes_face_draws_and_confirms(client, phone_page):
    application, _, links = await _locked(client)
    page = phone_page
    response = await page.goto(links["张三"]["link"])
    assert response.status == 200
    assert application.snapshot_hash in await page.inner_text("#snapshot-hash")
    assert "张三" in await page.inner_text("#signer")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    await page.click("#face-button")
    await page.wait_for_selector("#step-sign.active")
    # The 申请书 must be opened before the sign button is enabled; the server records the opening.
    assert await page.is_disabled("#sign-button") and await page.is_visible(".read-first")
    await _open_application_form(page)
    assert await page.is_enabled("#sign-button")
    await page.click("#sign-button")
    assert "请先在签名框内手写签名" in await page.inner_text("#sign-error")
    await _draw_signature(page)
    await page.click("#sign-button")
    await page.wait_for_selector("#step-done.active")
    assert "签名完成" in await page.inner_text("#step-done")
    assert await Signature.filter(party_id=links["张三"]["party_id"]).exists()
    again = await page.goto(links["张三"]["link"])
    assert again.status == 410 and "已失效" in await page.inner_text("#title")


async def test_enterprise_signer_confirms_with_e_seal(client, phone_page):
    _, _, links = await _locked(client)
    page = phone_page
    await page.goto(links["崇左甲贸易有限公司"]["link"])
    assert await page.query_selector("#face-button") is None
    assert await page.is_disabled("#sign-button")
    await _open_application_form(page)
    await page.click("#sign-button")
    await page.wait_for_selector("#step-done.active")


async def test_unknown_link_shows_a_404_page(server, phone_page):
    response = await phone_page.goto(server.base_url + "/s/not-a-real-token")
    assert response.status == 404 and "无效" in await phone_page.inner_text("#title")


async def test_signer_in_a_plain_browser_passes_face_by_faceid_h5_and_signs(client, server, phone_page, tmp_path):
    """As from the SMS in the phone's browser, in production (no WeChat stand-in): only the H5 path is offered; it
    goes to Tencent's page and back, then the signer draws and confirms."""
    application, _, links = await _locked(client)
    page = phone_page
    server.settings.wechat.mount_mock = False
    try:
        await page.goto(links["张三"]["link"])
    finally:
        server.settings.wechat.mount_mock = True
    assert not await page.is_visible("#face-button")
    assert await page.inner_text("#face-h5-button") == "开始人脸核验"
    await page.screenshot(path=str(tmp_path / "h5-1-link.png"), full_page=True)
    await page.click("#face-h5-button")
    await page.wait_for_selector("text=开始刷脸")
    assert "张*" in await page.content()
    await page.screenshot(path=str(tmp_path / "h5-2-tencent.png"), full_page=True)
    await page.click("text=开始刷脸")
    await page.wait_for_selector("#step-sign.active")
    assert "?token=" not in page.url
    await _open_application_form(page)
    await _draw_signature(page)
    await page.click("#sign-button")
    await page.wait_for_selector("#step-done.active")
    await page.screenshot(path=str(tmp_path / "h5-3-done.png"), full_page=True)
    signature = await Signature.get(party_id=links["张三"]["party_id"])
    assert (await signature.request).status == "signed"


async def test_home_province_enterprise_may_choose_its_e_license(client, phone_page, tmp_path):
    _, _, links = await _locked(client)
    page = phone_page
    await page.goto(links["崇左甲贸易有限公司"]["link"])
    labels = await page.inner_text("fieldset.methods")
    assert "企业电子印章" in labels and "电子营业执照" in labels
    await page.check("input[name=method][value=e_license]")
    await page.screenshot(path=str(tmp_path / "enterprise.png"), full_page=True)
    await _open_application_form(page)
    await page.click("#sign-button")
    await page.wait_for_selector("#step-done.active")
    assert (await Signature.get(party_id=links["崇左甲贸易有限公司"]["party_id"])).method == "e_license"

"""The public verification page in a real headless Chromium on a phone-sized screen."""
import hashlib
import json

from tests.test_documents import NAME, _signed_filing
from tests.test_signing_page import phone_page  # noqa: F401 (the 375×667 Chromium page fixture)


async def test_verify_page_hashes_the_file_in_the_browser_and_sends_only_the_hash(client, server, phone_page,
                                                                                 tmp_path):
    _, _, _, _, data = await _signed_filing(client, server)
    (tmp_path / "signed.pdf").write_bytes(data)
    changed = bytearray(data)
    changed[200] ^= 0x01
    (tmp_path / "changed.pdf").write_bytes(bytes(changed))
    page = phone_page
    sent = []
    page.on("request", lambda r: sent.append((r.headers.get("content-type", ""), r.post_data_buffer))
            if r.url.endswith("/api/v1/verify") else None)
    await page.goto(server.base_url + "/verify")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    await page.set_input_files("#file", str(tmp_path / "signed.pdf"))
    await page.wait_for_selector("#result.ok")
    result = await page.inner_text("#result")
    assert "已找到" in result and NAME in result and "有效" in result and "李*" in result and "完整" in result
    content_type, body = sent[-1]
    assert content_type.startswith("application/json") and len(body) < 200
    assert json.loads(body) == {"sha256": hashlib.sha256(data).hexdigest()}

    await page.set_input_files("#file", str(tmp_path / "changed.pdf"))
    await page.wait_for_selector("#result.bad")
    assert "未找到" in await page.inner_text("#result")

    await page.check("#upload")
    await page.set_input_files("#file", str(tmp_path / "signed.pdf"))
    await page.wait_for_selector("#result.ok")
    assert sent[-1][0].startswith("multipart/form-data")

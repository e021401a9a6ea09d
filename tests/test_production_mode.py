"""Production mode: the default; it refuses every stand-in and unsafe default with one line naming the key, and a
production configuration with real (test-credential) providers starts without any /dev or /_mock route."""
import asyncio
import base64
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from server.config import ConfigError, load_settings
from server.safety import REFUSALS
from server.services.documents.pades import DEV_PASSWORD, ensure_development_chain
from tests.conftest import serve_in_child

ROOT = Path(__file__).resolve().parent.parent
KEY = base64.b64encode(bytes(range(32))).decode()
INDEX_KEY = base64.b64encode(bytes(range(32, 64))).decode()


def production_env(tmp_path: Path) -> dict[str, str]:
    """Every provider real (with test credentials): nothing here is reached until a message or a face is due."""
    chain = ensure_development_chain(str(tmp_path / "certificate"))
    return {
        "YCT_MODE": "production",
        "YCT_SECRET_KEY": "a-real-secret-nobody-ships-3f9c1d",
        "YCT_PUBLIC_BASE_URL": "https://yct.example.gov.cn",
        "YCT_CRYPTO__CURRENT_KEY_ID": "k2026a",
        "YCT_CRYPTO__KEYS__K2026A": KEY,
        "YCT_CRYPTO__INDEX_KEY": INDEX_KEY,
        "YCT_WECHAT__MOUNT_MOCK": "false",
        "YCT_WECHAT__API_BASE_URL": "https://api.weixin.qq.com",
        "YCT_SMS__PROVIDER": "tencent",
        "YCT_SMS__ACCESS_KEY_ID": "test-secret-id",
        "YCT_SMS__ACCESS_KEY_SECRET": "test-secret-key",
        "YCT_SMS__SDK_APP_ID": "1400000000",
        "YCT_FACEID__MOUNT_MOCK": "false",
        "YCT_FACEID__ENDPOINT": "https://faceid.tencentcloudapi.com",
        "YCT_SIGNING__ENTERPRISE_PROVIDER": "none",
        "YCT_DOCUMENTS__PKCS12": str(Path(chain) / "platform.p12"),
        "YCT_DOCUMENTS__PKCS12_PASSWORD": DEV_PASSWORD.decode(),
        "YCT_NOTARY__MOUNT_MOCK": "false",
        "YCT_NOTARY__URL": "https://notary.example.gov.cn/evidence",
        "YCT_EMAIL__MOUNT_MOCK": "false",
        "YCT_EMAIL__HOST": "smtp.example.gov.cn",
    }


# For each refused key, a setting that makes it unsafe (the same keys as server/safety.py's table).
UNSAFE = {
    "secret_key": {"YCT_SECRET_KEY": "dev-only-change-me"},
    "public_base_url": {"YCT_PUBLIC_BASE_URL": "http://yct.example.gov.cn"},
    "crypto.keys": {"YCT_CRYPTO__CURRENT_KEY_ID": "", "YCT_CRYPTO__KEYS__K2026A": None},
    "crypto.index_key": {"YCT_CRYPTO__INDEX_KEY": None},
    "wechat.mount_mock": {"YCT_WECHAT__MOUNT_MOCK": "true"},
    "wechat.api_base_url": {"YCT_WECHAT__API_BASE_URL": ""},
    "sms.provider": {"YCT_SMS__PROVIDER": "dev_sink"},
    "faceid.mount_mock": {"YCT_FACEID__MOUNT_MOCK": "true"},
    "faceid.endpoint": {"YCT_FACEID__ENDPOINT": ""},
    "signing.enterprise_provider": {"YCT_SIGNING__ENTERPRISE_PROVIDER": "development"},
    "documents.pkcs12": {"YCT_DOCUMENTS__PKCS12": ""},
    "documents.mount_mock_tsa": {"YCT_DOCUMENTS__MOUNT_MOCK_TSA": "true"},
    "notary.mount_mock": {"YCT_NOTARY__MOUNT_MOCK": "true"},
    "notary.url": {"YCT_NOTARY__URL": ""},
    "email.mount_mock": {"YCT_EMAIL__MOUNT_MOCK": "true"},
    "email.host": {"YCT_EMAIL__HOST": ""},
}


def _with(env: dict[str, str], changes: dict[str, str | None]) -> dict[str, str]:
    merged = {**env, **changes}
    return {key: value for key, value in merged.items() if value is not None}


def test_every_refusal_has_an_unsafe_example():
    assert set(UNSAFE) == {refusal.key for refusal in REFUSALS}


@pytest.mark.parametrize("key", list(UNSAFE))
def test_production_names_the_offending_key(tmp_path, key):
    env = production_env(tmp_path)
    assert load_settings(environ=env).mode == "production"
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=_with(env, UNSAFE[key]))
    message = str(caught.value)
    assert message.startswith(f"config key {key!r}:") and "\n" not in message


def test_production_is_the_default():
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={})
    assert "'secret_key'" in str(caught.value)
    assert load_settings(environ={"YCT_MODE": "development"}).mode == "development"


@pytest.mark.parametrize("command", ["serve", "worker", "seed-demo"])
def test_the_demo_configuration_in_production_exits_naming_the_first_key(command):
    """config.yaml as shipped (stand-ins everywhere) under YCT_MODE=production."""
    result = subprocess.run([sys.executable, "-m", "server", command], capture_output=True, text=True, timeout=60,
                            cwd=ROOT, env={"PATH": os.environ["PATH"], "YCT_MODE": "production"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: config key 'secret_key':"), result.stderr


async def test_a_production_configuration_starts_without_dev_or_mock_routes(tmp_path):
    env = {**production_env(tmp_path), "PATH": os.environ["PATH"],
           "YCT_DATABASE__URL": f"sqlite://{tmp_path / 'prod.sqlite3'}", "YCT_CACHE__URL": "memory://",
           "YCT_UPLOADS__DIR": str(tmp_path / "uploads"), "YCT_QRCODE_DIR": str(tmp_path / "qrcodes"),
           "YCT_SIGNING__EVIDENCE_DIR": str(tmp_path / "evidence"),
           "YCT_DOCUMENTS__FONT_CACHE_DIR": os.environ.get("YCT_DOCUMENTS__FONT_CACHE_DIR", "data/fonts")}
    migrated = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "server", "migrate"], cwd=ROOT,
                                       env=env, capture_output=True, text=True, timeout=120)
    assert migrated.returncode == 0, migrated.stderr
    process, base_url = await serve_in_child(env, tmp_path / "serve.log")
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
            ready = await http.get("/readyz")
            assert ready.status_code == 200, ready.text
            for method, path in [("GET", "/dev/sms"), ("GET", "/dev/sms?phone=13800000001"),
                                 ("POST", "/_mock/wx/face"), ("POST", "/_mock/wx/phone-code"),
                                 ("GET", "/_mock/notary/evidence"), ("POST", "/_mock/tsa"), ("GET", "/_mock/mail")]:
                response = await http.request(method, path, json={} if method == "POST" else None)
                assert response.status_code == 404, (path, response.text)
                assert response.json()["error"]["code"] == "not_found"
    finally:
        process.terminate()
        await process.wait()


async def test_the_development_sink_says_what_it_is_on_every_page(client):
    listed = await client.get("/dev/sms")
    assert listed.status_code == 200 and isinstance(listed.json(), list)
    assert "development SMS sink" in listed.headers["X-Development-Sink"]
    page = await client.get("/dev/sms", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.text.count("开发用短信接收器：这里的短信没有发给任何手机") == 2

"""What production refuses to start with: one table of (config key, unsafe condition, reason).

Every command that loads the settings in production (serve, worker, and any that builds the app) stops with one
line naming the first offending key. Development runs with all of these, on purpose.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# The secret_key the repository ships with: fine for development, refused in production.
DEFAULT_SECRET_KEY = "dev-only-change-me"


@dataclass(frozen=True)
class Refusal:
    key: str
    unsafe: Callable  # (Settings) -> bool
    reason: str       # 中文 / English, for the operator who reads the one line


REFUSALS: tuple[Refusal, ...] = (
    Refusal("secret_key", lambda s: not s.secret_key.strip() or s.secret_key == DEFAULT_SECRET_KEY,
            "生产环境须设置自己的密钥 / production needs its own secret key, not the empty or shipped one"),
    Refusal("public_base_url", lambda s: not s.public_base_url.startswith("https://"),
            "生产环境对外地址须为 https / the public address must be https"),
    Refusal("crypto.keys", lambda s: not s.crypto.keys,
            "生产环境须配置个人信息加密密钥 / production needs explicit data keys for personal data at rest"),
    Refusal("crypto.index_key", lambda s: not s.crypto.index_key,
            "生产环境须配置盲索引密钥 / production needs an explicit blind-index key"),
    Refusal("wechat.mount_mock", lambda s: s.wechat.mount_mock,
            "生产环境不挂载微信替身 / the stand-in WeChat server is refused"),
    Refusal("wechat.api_base_url", lambda s: not s.wechat.api_base_url.startswith("https://"),
            "生产环境须连接微信接口（https）/ production calls the real WeChat API over https"),
    Refusal("sms.provider", lambda s: s.sms.provider == "dev_sink",
            "生产环境不使用开发用短信接收器 / the development SMS sink is refused"),
    Refusal("faceid.mount_mock", lambda s: s.faceid.enabled and s.faceid.mount_mock,
            "生产环境不启动人脸核身替身 / the stand-in face verification is refused"),
    Refusal("faceid.endpoint", lambda s: s.faceid.enabled and not s.faceid.endpoint.startswith("https://"),
            "生产环境须连接腾讯云慧眼（https）/ production verifies faces at Tencent Cloud FaceID over https"),
    Refusal("signing.enterprise_provider", lambda s: s.signing.enterprise_provider == "development",
            "生产环境不使用电子印章/电子营业执照替身 / the stand-in e-seal / e-license provider is refused"),
    Refusal("documents.pkcs12", lambda s: not s.documents.pkcs12,
            "生产环境须配置平台签名证书 / production needs the platform's signing certificate (PKCS#12)"),
    Refusal("documents.mount_mock_tsa", lambda s: s.documents.mount_mock_tsa,
            "生产环境不挂载时间戳替身 / the stand-in time-stamping authority is refused"),
    Refusal("notary.mount_mock", lambda s: s.notary.enabled and s.notary.mount_mock,
            "生产环境不挂载公证处替身 / the stand-in notary is refused"),
    Refusal("notary.url", lambda s: s.notary.enabled and not s.notary.url.startswith("https://"),
            "生产环境须推送至公证处（https）/ production pushes evidence to the real notary over https"),
    Refusal("email.mount_mock", lambda s: s.email.enabled and s.email.mount_mock,
            "生产环境不启动邮件替身 / the stand-in SMTP server is refused"),
    Refusal("email.host", lambda s: s.email.enabled and not s.email.host,
            "生产环境须配置 SMTP 服务器 / production sends e-mail through a real SMTP server"),
)


def production_refusal(settings) -> str | None:
    """In production, one line naming the first stand-in or unsafe default; None when it may start."""
    if settings.mode != "production":
        return None
    for refusal in REFUSALS:
        if refusal.unsafe(settings):
            return f"config key {refusal.key!r}: {refusal.reason}"
    return None

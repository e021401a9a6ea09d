"""SMS providers behind one small interface: the development sink, Aliyun SMS and Tencent Cloud SMS.

Every send carries the outbox message id (Aliyun OutId, Tencent SessionContext, the sink's out_id), so a message
whose outcome is unknown can be looked up at the provider before it is sent again.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime

from server.config import ConfigError, Settings


class DeliveryError(Exception):
    """A provider refused or failed a message; `code` is the provider's own error code."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class TemporaryFailure(DeliveryError):
    """Worth retrying later (provider busy, unreachable, account or quota trouble)."""


class PermanentFailure(DeliveryError):
    """Retrying cannot help (invalid number, template not approved, parameters rejected)."""


class Throttled(DeliveryError):
    """The provider's own per-phone limit: hold the message until the window frees, without using up an attempt."""

    def __init__(self, code: str, message: str, retry_after: float):
        super().__init__(code, message)
        self.retry_after = retry_after


@dataclass
class SmsMessage:
    id: str  # the outbox message id, passed to the provider as its idempotency / session context
    phone: str
    template: str  # our template name
    params: dict[str, str]
    text: str  # the rendered text (what the phone shows; real providers render it from their template)
    param_order: list[str] = field(default_factory=list)  # placeholders in text order (positional templates)
    created_at: datetime | None = None


@dataclass
class Accepted:
    """The provider has the message: its own id for it when it tells us one."""

    provider_id: str | None


class SmsProvider(ABC):
    name: str

    @abstractmethod
    async def send(self, message: SmsMessage) -> Accepted:
        """Send once. Raises a DeliveryError subclass when the provider refuses or cannot be reached."""

    @abstractmethod
    async def find(self, message: SmsMessage) -> Accepted | None:
        """Whether the provider already accepted this message (looked up by message.id), asked before a resend."""

    async def close(self) -> None:
        return None


def template_code(settings: Settings, template: str) -> str:
    code = settings.sms.templates.get(template)
    if not code:
        raise PermanentFailure("template_not_configured", f"sms.templates 未配置模板 {template} 的模板编号")
    return code


def make_sms_provider(settings: Settings) -> SmsProvider:
    sms = settings.sms
    if sms.provider == "dev_sink":
        from server.sms.dev_sink import DevSinkProvider

        return DevSinkProvider()
    if not sms.access_key_id or not sms.access_key_secret:
        raise ConfigError(f"config key 'sms.access_key_id': required when sms.provider is {sms.provider}")
    if sms.provider == "aliyun":
        from server.sms.aliyun import AliyunSmsProvider

        return AliyunSmsProvider(settings)
    if not sms.sdk_app_id:
        raise ConfigError("config key 'sms.sdk_app_id': required when sms.provider is tencent")
    from server.sms.tencent import TencentSmsProvider

    return TencentSmsProvider(settings)


def classify(code: str, message: str, permanent: set[str], throttled: dict[str, float]) -> DeliveryError:
    """A provider's error code as retry-later, hold-for-the-window or give-up; unknown codes are retried."""
    if code in permanent:
        return PermanentFailure(code, message)
    if code in throttled:
        return Throttled(code, message, throttled[code])
    return TemporaryFailure(code, message)


def split_endpoint(endpoint: str, default_host: str) -> tuple[str, str]:
    """'http://127.0.0.1:9000' → ('http', '127.0.0.1:9000'); an empty endpoint is the provider's own host over HTTPS."""
    if not endpoint:
        return "https", default_host
    scheme, sep, host = endpoint.partition("://")
    if not sep:
        return "https", endpoint.rstrip("/")
    return scheme.lower(), host.rstrip("/")

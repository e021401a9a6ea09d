"""Applicant accounts: WeChat login (jscode2session), phone binding, logout."""
from __future__ import annotations

from server import clock
from server.cache import Cache
from server.config import Settings
from server.errors import Invalid, RateLimited, Unavailable
from server.models.accounts import Applicant
from server.services.accounts import sessions
from server.services.ratelimit import hit_window
from server.wechat import CODE_USED, INVALID_CODE, RATE_LIMITED, WeChatError, WeChatGateway


def _wechat_error(exc: WeChatError, field: str = "code"):
    if exc.errcode in (INVALID_CODE, CODE_USED):
        return Invalid(field, "微信登录凭证无效或已使用，请重新打开小程序登录", code="invalid_wechat_code")
    if exc.errcode == RATE_LIMITED:
        return RateLimited(60, "微信接口调用过于频繁，请一分钟后再试")
    return Unavailable("微信服务暂不可用，请稍后再试")


async def login(settings: Settings, cache: Cache, wechat: WeChatGateway, code: str, client_ip: str) -> dict:
    await hit_window(cache, f"login-ip:{client_ip}", limit=settings.auth.login_attempts_per_minute, window=60,
                     message="登录尝试过于频繁，请稍后再试")
    try:
        info = await wechat.code_to_session(code)
    except WeChatError as exc:
        raise _wechat_error(exc) from None
    applicant, _ = await Applicant.get_or_create(openid=info.openid, defaults={"unionid": info.unionid})
    applicant.last_login_at = clock.now()
    await applicant.save(update_fields=["last_login_at"])
    token, expires_in = await sessions.issue(applicant=applicant, ttl_hours=settings.auth.session_ttl_hours)
    return {"token": token, "expires_in": expires_in, "applicant": applicant_view(applicant)}


async def bind_phone_from_wechat(wechat: WeChatGateway, applicant_id: int, code: str) -> dict:
    try:
        phone = await wechat.phone_number(code)
    except WeChatError as exc:
        raise _wechat_error(exc) from None
    return await _set_phone(applicant_id, phone)


async def _set_phone(applicant_id: int, phone: str) -> dict:
    applicant = await Applicant.get(id=applicant_id)
    applicant.phone = phone
    await applicant.save(update_fields=["phone", "phone_index"])
    return applicant_view(applicant)


async def bind_verified_phone(applicant_id: int, phone: str) -> dict:
    """The phone was proven by an SMS code (see the notifications service)."""
    return await _set_phone(applicant_id, phone)


def applicant_view(applicant: Applicant) -> dict:
    return {"id": applicant.id, "phone": applicant.phone}

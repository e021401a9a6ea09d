"""Face verification of a signatory through WeChat (wx.startFacialRecognitionVerify → getinfo).

A verify_result passes only when WeChat says the liveness check passed (identify_ret 0), it is fresh, it was never
used before, and it was made for this signatory: the MD5 of their ID number (uppercase X) and of their UTF-8 name.
"""
from __future__ import annotations

import hashlib
import time

from tortoise.exceptions import IntegrityError

from server.cache import Cache
from server.config import Settings
from server.errors import Conflict, Invalid, Unavailable
from server.models.signing import FaceVerification, SigningRequest
from server.clock import now
from server.services.ratelimit import hit_window
from server.wechat import WeChatError

# WeChat's answers for an unknown or expired verify_result.
_INVALID_IDENTIFY_ID = 84001
_USER_DATA_EXPIRED = 84002
# A phone's clock may run a little ahead of WeChat's.
_CLOCK_SKEW_SECONDS = 60

REASONS = {
    "face_failed": "人脸核验未通过（活体检测失败），请在光线充足处重新核验",
    "face_stale": "人脸核验结果已过期，请重新进行人脸核验",
    "face_replayed": "该人脸核验结果已使用过，请重新进行人脸核验",
    "face_mismatch": "人脸核验的身份与签字人不符：须由签字人本人核验",
    "face_invalid": "人脸核验结果无效，请重新进行人脸核验",
}


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def judge(info: dict, request: SigningRequest, max_age_seconds: int, at: float | None = None) -> str | None:
    """None when the getinfo answer proves this signatory just passed, else the reason code."""
    if info.get("identify_ret") != 0:
        return "face_failed"
    try:
        identified_at = int(info.get("identify_time"))
    except (TypeError, ValueError):
        return "face_invalid"
    age = (at if at is not None else time.time()) - identified_at
    if age > max_age_seconds or age < -_CLOCK_SKEW_SECONDS:
        return "face_stale"
    if info.get("id_card_number_md5") != md5_hex((request.id_number or "").upper()):
        return "face_mismatch"
    if info.get("name_utf8_md5") != md5_hex(request.signer_name):
        return "face_mismatch"
    return None


async def verify_face(request: SigningRequest, verify_result: str, settings: Settings, cache: Cache,
                      wechat) -> FaceVerification:
    """Check the result with WeChat and record it; Invalid(verify_result) with the reason when it does not pass."""
    if request.method != "face":
        raise Conflict("企业签字人使用电子印章或电子营业执照签署，无需人脸核验")
    await hit_window(cache, f"face:{request.id}", limit=settings.signing.face_attempts_per_hour, window=3600,
                     message="人脸核验尝试次数过多，请一小时后再试")
    result_hash = hashlib.sha256(verify_result.encode("utf-8")).hexdigest()
    if await FaceVerification.exists(verify_result_hash=result_hash):
        raise Invalid("verify_result", REASONS["face_replayed"], code="face_replayed")
    try:
        info = await wechat.face_identify(verify_result)
    except WeChatError as exc:
        if exc.errcode in (_INVALID_IDENTIFY_ID, _USER_DATA_EXPIRED):
            code = "face_invalid" if exc.errcode == _INVALID_IDENTIFY_ID else "face_stale"
            raise Invalid("verify_result", REASONS[code], code=code) from None
        raise Unavailable("微信人脸核验服务暂不可用，请稍后再试") from None
    reason = judge(info, request, settings.wechat.face_result_max_age_seconds)
    try:
        verification = await FaceVerification.create(
            request_id=request.id, verify_result_hash=result_hash, passed=reason is None, reason=reason,
            identify_ret=info.get("identify_ret"), identify_time=_int_or_none(info.get("identify_time")),
            openid=(str(info.get("openid") or "") or None), user_id_key=(str(info.get("user_id_key") or "") or None))
    except IntegrityError:
        raise Invalid("verify_result", REASONS["face_replayed"], code="face_replayed") from None
    if reason is not None:
        raise Invalid("verify_result", REASONS[reason], code=reason)
    return verification


async def passed_verification(request: SigningRequest, max_age_seconds: int) -> FaceVerification | None:
    """The latest passed verification for this request, if recent enough to sign on."""
    verification = await FaceVerification.filter(request_id=request.id, passed=True).order_by("-created_at").first()
    if verification is None or (now() - verification.created_at).total_seconds() > max_age_seconds:
        return None
    return verification


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

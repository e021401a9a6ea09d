"""Face verification of a signatory, by one of two providers:

- WeChat (inside the mini-program: wx.startFacialRecognitionVerify → getinfo). A verify_result passes only when
  WeChat says the liveness check passed (identify_ret 0), it is fresh, it was never used before, and it was made
  for this signatory: the MD5 of their ID number (uppercase X) and of their UTF-8 name.
- Tencent Cloud FaceID H5 (慧眼, from a plain phone browser: DetectAuth → the H5 page → back with the BizToken →
  GetDetectInfoEnhanced). A BizToken passes only when we started it for this link less than
  wechat.face_result_max_age_seconds ago, Tencent says the check passed (ErrCode 0), the name and ID number it
  verified are exactly the signatory's, and it was never used before.
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
from server.faceid import FaceIdError
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
    "face_unfinished": "人脸核验尚未完成，请按页面提示完成刷脸",
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


async def wechat_result(wechat, verify_result: str) -> dict:
    """WeChat's answer for a verify_result; an unknown or expired one is Invalid(verify_result), WeChat down Unavailable."""
    try:
        return await wechat.face_identify(verify_result)
    except WeChatError as exc:
        if exc.errcode in (_INVALID_IDENTIFY_ID, _USER_DATA_EXPIRED):
            code = "face_invalid" if exc.errcode == _INVALID_IDENTIFY_ID else "face_stale"
            raise Invalid("verify_result", REASONS[code], code=code) from None
        raise Unavailable("微信人脸核验服务暂不可用，请稍后再试") from None


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
    info = await wechat_result(wechat, verify_result)
    reason = judge(info, request, settings.wechat.face_result_max_age_seconds)
    try:
        verification = await FaceVerification.create(
            request_id=request.id, verify_result_hash=result_hash, passed=reason is None, reason=reason,
            identify_ret=info.get("identify_ret"), identify_time=int_or_none(info.get("identify_time")),
            openid=(str(info.get("openid") or "") or None), user_id_key=(str(info.get("user_id_key") or "") or None))
    except IntegrityError:
        raise Invalid("verify_result", REASONS["face_replayed"], code="face_replayed") from None
    if reason is not None:
        raise Invalid("verify_result", REASONS[reason], code=reason)
    return verification


H5_PREFIX = "face-h5:"


def _h5_key(biz_token: str) -> str:
    return H5_PREFIX + hashlib.sha256(biz_token.encode("utf-8")).hexdigest()


async def start_h5(request: SigningRequest, token: str, settings: Settings, cache: Cache, faceid) -> dict:
    """Start a Tencent FaceID H5 check for this signatory; → {url}: the page the browser goes to next."""
    if request.method != "face":
        raise Conflict("企业签字人使用电子印章或电子营业执照签署，无需人脸核验")
    if faceid is None:
        raise Unavailable("未开通手机浏览器人脸核验，请在一窗通小程序中打开此链接")
    await hit_window(cache, f"face:{request.id}", limit=settings.signing.face_attempts_per_hour, window=3600,
                     message="人脸核验尝试次数过多，请一小时后再试")
    try:
        url, biz_token = await faceid.start(name=request.signer_name, id_number=(request.id_number or "").upper(),
                                            redirect_url=f"{settings.base_url}/s/{token}", extra=str(request.id))
    except FaceIdError:
        raise Unavailable("腾讯云人脸核验服务暂不可用，请稍后再试") from None
    # What binds the BizToken to this link, and when it started: kept no longer than a result may be used.
    await cache.set(_h5_key(biz_token), f"{request.id}|{now().timestamp()}",
                    ttl=settings.wechat.face_result_max_age_seconds)
    return {"url": url}


async def verify_h5(request: SigningRequest, biz_token: str, settings: Settings, cache: Cache,
                    faceid) -> FaceVerification:
    """Read the H5 check's result and record it; Invalid(biz_token) with the reason when it does not pass."""
    if request.method != "face":
        raise Conflict("企业签字人使用电子印章或电子营业执照签署，无需人脸核验")
    if faceid is None:
        raise Unavailable("未开通手机浏览器人脸核验，请在一窗通小程序中打开此链接")
    field = "biz_token"
    result_hash = hashlib.sha256(f"tencent_h5:{biz_token}".encode("utf-8")).hexdigest()
    if await FaceVerification.exists(verify_result_hash=result_hash):
        raise Invalid(field, REASONS["face_replayed"], code="face_replayed")
    started = await _h5_started(cache, request, biz_token)
    try:
        result = await faceid.result(biz_token)
    except FaceIdError as exc:
        if exc.code.startswith("InvalidParameter"):
            raise Invalid(field, REASONS["face_invalid"], code="face_invalid") from None
        raise Unavailable("腾讯云人脸核验服务暂不可用，请稍后再试") from None
    reason = judge_h5(result, request, started, settings.wechat.face_result_max_age_seconds)
    try:
        verification = await FaceVerification.create(
            request_id=request.id, provider="tencent_h5", verify_result_hash=result_hash, passed=reason is None,
            reason=reason, identify_ret=result.err_code, identify_time=int(started),
            user_id_key=f"tencent_h5:{result_hash[:16]}")
    except IntegrityError:
        raise Invalid(field, REASONS["face_replayed"], code="face_replayed") from None
    if reason is not None:
        raise Invalid(field, REASONS[reason], code=reason)
    return verification


async def _h5_started(cache: Cache, request: SigningRequest, biz_token: str) -> float:
    """When we started this BizToken for this link; a token we did not start here, or too long ago, fails."""
    stored = await cache.get(_h5_key(biz_token))
    if stored is None:
        raise Invalid("biz_token", REASONS["face_stale"], code="face_stale")
    request_id, _, started = stored.partition("|")
    if request_id != str(request.id):
        raise Invalid("biz_token", REASONS["face_invalid"], code="face_invalid")
    return float(started)


def judge_h5(result, request: SigningRequest, started: float, max_age_seconds: int) -> str | None:
    """None when Tencent's answer proves this signatory passed the check we started for this link."""
    if result.err_code is None:
        return "face_unfinished"
    if result.err_code != 0:
        return "face_failed"
    if result.extra != str(request.id):
        return "face_invalid"
    if now().timestamp() - started > max_age_seconds:
        return "face_stale"
    if result.id_card.upper() != (request.id_number or "").upper() or result.name != request.signer_name:
        return "face_mismatch"
    return None


async def passed_verification(request: SigningRequest, max_age_seconds: int) -> FaceVerification | None:
    """The latest passed verification for this request, if recent enough to sign on."""
    verification = await FaceVerification.filter(request_id=request.id, passed=True).order_by("-created_at").first()
    if verification is None or (now() - verification.created_at).total_seconds() > max_age_seconds:
        return None
    return verification


def int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

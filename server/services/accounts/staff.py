"""Registrar staff accounts: argon2 passwords, login with lockout, roles, and the authority they serve."""
from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from server import clock
from server.cache import Cache
from server.config import Settings
from server.errors import Conflict, Forbidden, Invalid, Unauthorized
from server.models.accounts import Staff
from server.services.accounts import sessions
from server.models.guides import ServicePoint
from server.services.authorities import get_authority, scope_prefix
from server.services.ratelimit import hit_window
from server.vocabulary import StaffRole

_hasher = PasswordHasher()
# Verifying against this keeps a login for an unknown user as slow as for a known one.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


async def add_staff(username: str, password: str, role: str, authority_code: str, display_name: str = "",
                    point_code: str = "", landline: str = "") -> Staff:
    """A helper (帮办员) may be tied to a point of their authority; the directory publishes their name and landline."""
    username = (username or "").strip()
    if not username or len(username) > 64:
        raise Invalid("username", "用户名不能为空且不超过64个字符")
    if role not in StaffRole.values():
        raise Invalid("role", "角色应为 reviewer（审核员）、helper（帮办员）或 admin（管理员）")
    if len(password or "") < 8:
        raise Invalid("password", "密码至少8位")
    authority = await get_authority(authority_code, field="authority")
    point = None
    if point_code:
        if role != "helper":
            raise Invalid("point", "只有帮办员（helper）归属网点")
        point = await ServicePoint.get_or_none(code=point_code, authority_id__startswith=scope_prefix(authority))
        if point is None:
            raise Invalid("point", "本登记机关辖区内没有该网点")
    if len(landline or "") > 40:
        raise Invalid("landline", "座机号码不超过40个字符")
    if await Staff.exists(username=username):
        raise Conflict("用户名已存在", field="username")
    return await Staff.create(username=username, display_name=display_name or username, role=role,
                              authority=authority, password_hash=_hasher.hash(password), point=point,
                              landline=landline or "")


async def login(settings: Settings, cache: Cache, username: str, password: str, client_ip: str) -> dict:
    await hit_window(cache, f"staff-login-ip:{client_ip}", limit=settings.auth.login_attempts_per_minute, window=60,
                     message="登录尝试过于频繁，请稍后再试")
    staff = await Staff.get_or_none(username=username, active=True)
    if staff is None:
        _verify(_DUMMY_HASH, password)
        raise Unauthorized("用户名或密码错误")
    if staff.locked_until and staff.locked_until > clock.now():
        raise Forbidden("登录失败次数过多，账号已暂时锁定，请稍后再试")
    if not _verify(staff.password_hash, password):
        failed = staff.failed_logins + 1
        locked_until = None
        if failed >= settings.auth.staff_max_failed_logins:
            locked_until = clock.now() + timedelta(minutes=settings.auth.staff_lockout_minutes)
            failed = 0
        await Staff.filter(id=staff.id).update(failed_logins=failed, locked_until=locked_until)
        raise Unauthorized("用户名或密码错误")
    await Staff.filter(id=staff.id).update(failed_logins=0, locked_until=None)
    token, expires_in = await sessions.issue(staff=staff, ttl_hours=settings.auth.session_ttl_hours)
    await staff.fetch_related("authority")
    return {"token": token, "expires_in": expires_in, "staff": staff_view(staff)}


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def staff_view(staff: Staff) -> dict:
    return {
        "id": staff.id, "username": staff.username, "display_name": staff.display_name, "role": staff.role,
        "authority": {"code": staff.authority.code, "name": staff.authority.name},
    }


def require_role(staff: Staff, *roles: str) -> None:
    if staff.role not in roles:
        raise Forbidden("当前角色无权执行此操作")

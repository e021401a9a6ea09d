"""Registrar staff accounts: argon2 passwords, login with lockout, roles, and the authority they serve."""
from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from tortoise.expressions import Q

from server import clock
from server.cache import Cache
from server.config import Settings
from server.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from server.models.accounts import Staff
from server.models.guides import ServicePoint
from server.models.review import AuditEntry
from server.services.accounts import sessions
from server.services.authorities import get_authority, scope_prefix
from server.services.ratelimit import hit_window
from server.services.statistics.queries import fetch
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


_LOGIN_REFUSED = "用户名或密码错误，或账号已暂时锁定"

# One guarded statement counts the failure, so concurrent wrong passwords cannot overwrite each other's count: a
# row still locked is not counted and an expired lock starts the count afresh. RETURNING gives the count this
# failure made (PostgreSQL, and SQLite since 3.35).
_COUNT_FAILURE = """
UPDATE staff SET failed_logins = CASE WHEN locked_until IS NULL THEN failed_logins + 1 ELSE 1 END, locked_until = NULL
WHERE id = :id AND (locked_until IS NULL OR locked_until <= :now)
RETURNING failed_logins
"""


async def login(settings: Settings, cache: Cache, username: str, password: str, client_ip: str) -> dict:
    """Unknown user, wrong password and locked account get the same 401 after the same argon2 work, so the answer
    tells nobody which accounts exist or are locked."""
    await hit_window(cache, f"staff-login-ip:{client_ip}", limit=settings.auth.login_attempts_per_minute, window=60,
                     message="登录尝试过于频繁，请稍后再试")
    staff = await Staff.get_or_none(username=username, active=True)
    password_ok = _verify(staff.password_hash if staff else _DUMMY_HASH, password)
    if staff is None:
        raise Unauthorized(_LOGIN_REFUSED)
    now = clock.now()
    unlocked = Q(locked_until__isnull=True) | Q(locked_until__lte=now)
    if not password_ok:
        await _count_failure(settings, staff, now, client_ip)
        raise Unauthorized(_LOGIN_REFUSED)
    if not await Staff.filter(unlocked, id=staff.id).update(failed_logins=0, locked_until=None):
        raise Unauthorized(_LOGIN_REFUSED)
    token, expires_in = await sessions.issue(staff=staff, ttl_hours=settings.auth.session_ttl_hours)
    await staff.fetch_related("authority")
    return {"token": token, "expires_in": expires_in, "staff": staff_view(staff)}


async def _count_failure(settings: Settings, staff: Staff, now, client_ip: str) -> None:
    limit = settings.auth.staff_max_failed_logins
    rows = await fetch(_COUNT_FAILURE, {"id": staff.id, "now": now})
    if not rows or rows[0]["failed_logins"] < limit:
        return
    # The lock is set once, by whichever failure gets there first; that one records it.
    until = now + timedelta(minutes=settings.auth.staff_lockout_minutes)
    if await Staff.filter(id=staff.id, failed_logins__gte=limit, locked_until__isnull=True).update(locked_until=until):
        await staff.fetch_related("authority")
        await AuditEntry.create(staff_id=staff.id, username=staff.username, role=staff.role,
                                authority_code=staff.authority.code, action="staff_locked",
                                detail={"failed_logins": limit, "minutes": settings.auth.staff_lockout_minutes},
                                ip=client_ip[:64])


async def unlock(admin: Staff, staff_id: int, client_ip: str, user_agent: str) -> dict:
    """An administrator lifts a lockout of staff within their authority's scope (recorded in the audit log)."""
    require_role(admin, "admin")
    staff = await Staff.get_or_none(id=staff_id, authority_id__startswith=scope_prefix(admin.authority))
    if staff is None:
        raise NotFound("未找到该工作人员")
    await Staff.filter(id=staff.id).update(failed_logins=0, locked_until=None)
    await AuditEntry.create(staff_id=admin.id, username=admin.username, role=admin.role,
                            authority_code=admin.authority.code, action="staff_unlocked",
                            detail={"staff_id": staff.id, "username": staff.username},
                            ip=client_ip[:64], user_agent=(user_agent or "")[:255])
    await staff.fetch_related("authority")
    return {**staff_view(staff), "locked": False}


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

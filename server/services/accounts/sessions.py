"""Bearer sessions for applicants and staff: random tokens, stored hashed, expiring, revocable."""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from server import clock
from server.cache import Cache, invalidation
from server.errors import Unauthorized
from server.models.accounts import Applicant, AuthSession, Staff

# A verified token is remembered briefly so authenticated reads skip the database: in this worker's memory
# first (no I/O at all), then in the shared cache. Logout forgets it in every worker (cache.invalidation).
_CACHE_SECONDS = 60
_LOCAL_MAX = 100_000
# token hash -> (principal, session expiry as a timestamp, remembered until on the monotonic clock)
_local: dict[str, tuple[Principal, float, float]] = {}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Principal:
    kind: str  # applicant | staff
    id: int


async def issue(*, applicant: Applicant | None = None, staff: Staff | None = None, ttl_hours: int) -> tuple[str, int]:
    token = secrets.token_urlsafe(32)
    ttl = timedelta(hours=ttl_hours)
    await AuthSession.create(token_hash=hash_token(token), applicant=applicant, staff=staff, expires_at=clock.now() + ttl)
    return token, int(ttl.total_seconds())


# token hash -> (the signed-in staff member with their authority, remembered until on the monotonic clock). A
# change to a staff account that must take effect at once (deactivation, a new role) goes through
# revoke_all_for_staff, which forgets these in every worker.
_staff: dict[str, tuple[Staff, float]] = {}


def _forget_local(token_hash: str | None) -> None:
    if token_hash is None:
        _local.clear()
        _staff.clear()
    else:
        _local.pop(token_hash, None)
        _staff.pop(token_hash, None)


def remembered_staff(token: str) -> Staff | None:
    """The staff member behind an authenticated token, if this worker loaded them in the last minute."""
    entry = _staff.get(hash_token(token)) if invalidation.hearing() else None
    return entry[0] if entry is not None and entry[1] > time.monotonic() else None


def remember_staff(token: str, staff: Staff) -> None:
    if not invalidation.hearing():
        return
    if len(_staff) >= _LOCAL_MAX:
        _staff.clear()
    _staff[hash_token(token)] = (staff, time.monotonic() + _CACHE_SECONDS)


invalidation.topic("session", _forget_local)


def _remember_local(token_hash: str, principal: Principal, expires_at: float) -> None:
    if not invalidation.hearing():
        return
    if len(_local) >= _LOCAL_MAX:
        _local.clear()
    _local[token_hash] = (principal, expires_at, time.monotonic() + _CACHE_SECONDS)


async def authenticate(cache: Cache, token: str, kind: str) -> Principal:
    token_hash = hash_token(token)
    local = _local.get(token_hash) if invalidation.hearing() else None
    if local is not None:
        principal, expires_at, remembered_until = local
        # The expiry travels with the entry so the clock, not a cache's own timer, ends a session.
        if remembered_until > time.monotonic() and expires_at > clock.now().timestamp():
            if principal.kind != kind:
                raise Unauthorized()
            return principal
        del _local[token_hash]
    cached = await cache.get(f"session:{token_hash}")
    if cached:
        cached_kind, subject_id, expires_at = cached.split(":", 2)
        if cached_kind != kind:
            raise Unauthorized()
        if float(expires_at) > clock.now().timestamp():
            principal = Principal(kind, int(subject_id))
            _remember_local(token_hash, principal, float(expires_at))
            return principal
    session = await AuthSession.get_or_none(token_hash=token_hash, revoked_at=None)
    if session is None or session.expires_at <= clock.now():
        raise Unauthorized("登录已失效，请重新登录")
    subject_kind, subject_id = ("applicant", session.applicant_id) if session.applicant_id else ("staff", session.staff_id)
    if subject_kind != kind:
        raise Unauthorized()
    remaining = (session.expires_at - clock.now()).total_seconds()
    await cache.set(f"session:{token_hash}", f"{subject_kind}:{subject_id}:{session.expires_at.timestamp()}",
                    ttl=min(_CACHE_SECONDS, remaining))
    principal = Principal(subject_kind, subject_id)
    _remember_local(token_hash, principal, session.expires_at.timestamp())
    return principal


async def revoke(cache: Cache, token: str) -> None:
    token_hash = hash_token(token)
    await AuthSession.filter(token_hash=token_hash, revoked_at=None).update(revoked_at=clock.now())
    await cache.delete(f"session:{token_hash}")
    await invalidation.announce("session", token_hash)


async def revoke_all_for_staff(cache: Cache, staff_id: int) -> None:
    hashes = await AuthSession.filter(staff_id=staff_id, revoked_at=None).values_list("token_hash", flat=True)
    await AuthSession.filter(staff_id=staff_id, revoked_at=None).update(revoked_at=clock.now())
    for token_hash in hashes:
        await cache.delete(f"session:{token_hash}")
        await invalidation.announce("session", token_hash)

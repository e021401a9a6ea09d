"""Bearer sessions for applicants and staff: random tokens, stored hashed, expiring, revocable."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from server import clock
from server.cache import Cache
from server.errors import Unauthorized
from server.models.accounts import Applicant, AuthSession, Staff

# A verified token is remembered briefly so authenticated reads skip the database; logout clears it.
_CACHE_SECONDS = 60


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


async def authenticate(cache: Cache, token: str, kind: str) -> Principal:
    token_hash = hash_token(token)
    cached = await cache.get(f"session:{token_hash}")
    if cached:
        # The expiry travels with the cached entry so the clock, not the cache's own timer, ends a session.
        cached_kind, subject_id, expires_at = cached.split(":", 2)
        if cached_kind != kind:
            raise Unauthorized()
        if float(expires_at) > clock.now().timestamp():
            return Principal(kind, int(subject_id))
    session = await AuthSession.get_or_none(token_hash=token_hash, revoked_at=None)
    if session is None or session.expires_at <= clock.now():
        raise Unauthorized("登录已失效，请重新登录")
    subject_kind, subject_id = ("applicant", session.applicant_id) if session.applicant_id else ("staff", session.staff_id)
    if subject_kind != kind:
        raise Unauthorized()
    remaining = (session.expires_at - clock.now()).total_seconds()
    await cache.set(f"session:{token_hash}", f"{subject_kind}:{subject_id}:{session.expires_at.timestamp()}",
                    ttl=min(_CACHE_SECONDS, remaining))
    return Principal(subject_kind, subject_id)


async def revoke(cache: Cache, token: str) -> None:
    token_hash = hash_token(token)
    await AuthSession.filter(token_hash=token_hash, revoked_at=None).update(revoked_at=clock.now())
    await cache.delete(f"session:{token_hash}")


async def revoke_all_for_staff(cache: Cache, staff_id: int) -> None:
    hashes = await AuthSession.filter(staff_id=staff_id, revoked_at=None).values_list("token_hash", flat=True)
    await AuthSession.filter(staff_id=staff_id, revoked_at=None).update(revoked_at=clock.now())
    for token_hash in hashes:
        await cache.delete(f"session:{token_hash}")

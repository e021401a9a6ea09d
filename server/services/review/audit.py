"""The append-only audit log: every staff action with who, what, when and from where."""
from __future__ import annotations

from dataclasses import dataclass

from server.errors import Invalid
from server.models.accounts import Staff
from server.models.applications import Application
from server.models.review import AuditEntry
from server.services.accounts.staff import require_role
from server.services.authorities import scope_prefix
from server.services.pagination import decode_cursor, encode_cursor, total_of


@dataclass(frozen=True)
class Origin:
    """Where a request came from, as the audit log records it."""

    ip: str
    user_agent: str


async def record(staff: Staff, origin: Origin, action: str, application: Application | None = None, *,
                 from_status: str | None = None, to_status: str | None = None, detail: dict | None = None,
                 connection=None) -> AuditEntry:
    return await AuditEntry.create(
        staff_id=staff.id, username=staff.username, role=staff.role, authority_code=staff.authority.code,
        action=action, application_id=application.id if application else None, from_status=from_status,
        to_status=to_status, detail=detail or {}, ip=origin.ip[:64], user_agent=(origin.user_agent or "")[:255],
        using_db=connection,
    )


def entry_view(entry: AuditEntry) -> dict:
    return {
        "id": entry.id, "at": entry.at.isoformat(), "staff_id": entry.staff_id, "username": entry.username,
        "role": entry.role, "authority_code": entry.authority_code, "action": entry.action,
        "application_id": str(entry.application_id) if entry.application_id else None,
        "from_status": entry.from_status, "to_status": entry.to_status, "detail": entry.detail,
        "ip": entry.ip, "user_agent": entry.user_agent,
    }


async def entries_for(application: Application) -> list[dict]:
    return [entry_view(entry) for entry in await AuditEntry.filter(application_id=application.id).order_by("id")]


async def search(staff: Staff, *, application_id=None, cursor: str | None = None, page_size: int = 50) -> dict:
    """The audit log of the administrator's scope, newest first (administrators only), by keyset on the id."""
    require_role(staff, "admin")
    if not 1 <= page_size <= 200:
        raise Invalid("page_size", "每页条数应为1至200")
    after = decode_cursor(cursor, 1)
    if after and not isinstance(after[0], int):
        raise Invalid("cursor", "翻页标记无效，请从第一页重新浏览")
    query = AuditEntry.filter(authority_code__startswith=scope_prefix(staff.authority))
    if application_id is not None:
        query = query.filter(application_id=application_id)
    page = query.filter(id__lt=after[0]) if after else query
    rows = await page.order_by("-id").limit(page_size + 1)
    next_cursor = encode_cursor([rows[page_size - 1].id]) if len(rows) > page_size else None
    total, exact = await total_of(query)
    return {"items": [entry_view(row) for row in rows[:page_size]], "total": total, "total_exact": exact,
            "page_size": page_size, "next_cursor": next_cursor}

"""The append-only audit log: every staff action with who, what, when and from where."""
from __future__ import annotations

from dataclasses import dataclass

from server.errors import Invalid
from server.models.accounts import Staff
from server.models.applications import Application
from server.models.review import AuditEntry
from server.services.accounts.staff import require_role
from server.services.authorities import scope_prefix


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


async def search(staff: Staff, *, application_id=None, page: int = 1, page_size: int = 50) -> dict:
    """The audit log of the administrator's scope, newest first (administrators only)."""
    require_role(staff, "admin")
    if page < 1:
        raise Invalid("page", "页码应从1开始")
    if not 1 <= page_size <= 200:
        raise Invalid("page_size", "每页条数应为1至200")
    query = AuditEntry.filter(authority_code__startswith=scope_prefix(staff.authority))
    if application_id is not None:
        query = query.filter(application_id=application_id)
    rows = await query.order_by("-id").offset((page - 1) * page_size).limit(page_size)
    return {"items": [entry_view(row) for row in rows], "total": await query.count(), "page": page,
            "page_size": page_size}

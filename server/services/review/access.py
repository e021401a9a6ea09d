"""Who may see and act on which application: a staff member's scope is their authority and the ones under it."""
from __future__ import annotations

import uuid

from server.errors import Conflict, NotFound
from server.models.accounts import Staff
from server.models.applications import Application
from server.services.accounts.staff import require_role
from server.services.applications.identifiers import mask_name
from server.vocabulary import StaffRole
from server.services.authorities import scope_prefix

# Reviewers (审核员) decide; helpers (帮办员) and administrators may look.
ACTING_ROLES = ("reviewer",)
VIEWING_ROLES = ("reviewer", "helper", "admin")


def as_uuid(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def in_scope(staff: Staff):
    """The applications this staff member may see, as a queryset."""
    return Application.filter(authority_id__startswith=scope_prefix(staff.authority))


async def application_for_staff(staff: Staff, application_id, *, connection=None, for_update: bool = False,
                                acting: bool = False) -> Application:
    """One application in the staff member's scope; outside it, as missing as an unknown id."""
    require_role(staff, *(ACTING_ROLES if acting else VIEWING_ROLES))
    query = in_scope(staff).filter(id=as_uuid(application_id))
    if connection is not None:
        query = query.using_db(connection)
    if for_update:
        query = query.select_for_update()
    application = await query.first() if as_uuid(application_id) else None
    if application is None:
        raise NotFound("申请不存在或不在您的管辖范围内")
    return application


def staff_actor(staff: Staff) -> str:
    """How a staff member appears on the timeline: the role and the masked name (审核员 李**), never the username."""
    return " ".join(filter(None, (StaffRole.label_of(staff.role), mask_name(staff.display_name))))[:64]


def conflict(code: str, message: str, **extra) -> Conflict:
    """A 409 whose code tells the client which rule refused (signature_required, snapshot_mismatch, …)."""
    error = Conflict(message, **extra)
    error.code = code
    return error

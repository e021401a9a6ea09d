"""The 待办 queue: what waits for the registrar, overdue first, then resubmissions, then by due time."""
from __future__ import annotations

from tortoise.expressions import Case, When

from server.errors import Invalid, NotFound
from server.models.accounts import Applicant, Staff
from server.models.applications import BUSINESS_TYPES, STATUSES, Party
from server.clock import now
from server.services.authorities import scope_prefix
from server.services.review import access, views

# The states in which the registrar has the next move: 云帮办 review, 受理, 核准.
WAITING_STATUSES = ("cloud_review", "submitted", "accepted")
MAX_PAGE_SIZE = 100
# A list row needs these; the materials and the snapshot (large JSON) stay in the database.
LIST_COLUMNS = ("id", "applicant_id", "authority_id", "business_type", "entity_type", "name", "status", "flow",
                "resubmission", "submitted_at", "due_at")


async def queue(staff: Staff, *, status: str | None = None, business_type: str | None = None,
                authority: str | None = None, page: int = 1, page_size: int = 20) -> dict:
    if status and status not in STATUSES:
        raise Invalid("status", "状态取值不在允许范围内")
    if business_type and business_type not in BUSINESS_TYPES:
        raise Invalid("business_type", "业务类型取值不在允许范围内")
    if page < 1:
        raise Invalid("page", "页码应从1开始")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise Invalid("page_size", f"每页条数应为1至{MAX_PAGE_SIZE}")
    query = access.in_scope(staff)
    if authority:
        if not (len(authority) == 6 and authority.isdigit() and authority.startswith(scope_prefix(staff.authority))):
            raise NotFound("登记机关不存在或不在您的管辖范围内", field="authority")
        query = query.filter(authority_id__startswith=scope_prefix(authority))
    query = query.filter(status=status) if status else query.filter(status__in=WAITING_STATUSES)
    if business_type:
        query = query.filter(business_type=business_type)

    moment = now()
    total = await query.count()
    rows = await (
        query.annotate(overdue_first=Case(When(due_at__lt=moment, then="0"), default="1"))
        .order_by("overdue_first", "-resubmission", "due_at", "submitted_at")
        .offset((page - 1) * page_size).limit(page_size)
        .only(*LIST_COLUMNS)
    )
    ids = [row.id for row in rows]
    legal_reps = {p.application_id: p for p in await Party.filter(application_id__in=ids, role="legal_rep")
                  .order_by("-position")} if ids else {}
    phones = dict(await Applicant.filter(id__in={row.applicant_id for row in rows}).values_list("id", "phone")) \
        if rows else {}
    return {
        "items": [views.queue_row(row, moment, legal_reps.get(row.id), phones.get(row.applicant_id)) for row in rows],
        "total": total, "page": page, "page_size": page_size,
    }

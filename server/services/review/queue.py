"""The 待办 queue: what waits for the registrar, overdue first, then resubmissions, then by due time."""
from __future__ import annotations

from datetime import datetime

from tortoise.expressions import Q

from server.errors import Invalid, NotFound
from server.models.accounts import Applicant, Staff
from server.models.applications import BUSINESS_TYPES, STATUSES, Party
from server.models.authorities import Authority
from server.clock import now
from server.services.applications import lifecycle
from server.services.authorities import scope_prefix
from server.services.pagination import decode_cursor, encode_cursor, total_of
from server.services.review import access, views

# The states in which the registrar has the next move: 云帮办 review, 受理, 核准.
WAITING_STATUSES = lifecycle.WAITING_STATUSES
MAX_PAGE_SIZE = 100
# A list row needs these; the materials and the snapshot (large JSON) stay in the database.
LIST_COLUMNS = ("id", "applicant_id", "authority_id", "business_type", "entity_type", "name", "status", "flow",
                "resubmission", "submitted_at", "due_at")


# The queue's order, kept by the partial index application_queue_order (resubmission DESC, due_at, id) over
# WAITING_STATUSES: within each segment resubmissions first, then by due time, then by id.
SEGMENTS = ("overdue", "due_later", "no_due_time")


def _segment(query, segment: int, moment):
    if segment == 0:
        return query.filter(due_at__lt=moment)
    if segment == 1:
        return query.filter(due_at__gte=moment)
    return query.filter(due_at__isnull=True)


def _after(query, segment: int, resubmission: bool, due_at, last_id: str):
    """The rows after the cursor's within its segment, in the order (-resubmission, due_at, id)."""
    same = Q(resubmission=resubmission) & (Q(id__gt=last_id) if segment == 2 else
                                           Q(due_at__gt=due_at) | Q(due_at=due_at, id__gt=last_id))
    return query.filter(same | Q(resubmission=False) if resubmission else same)


async def queue(staff: Staff, *, status: str | None = None, business_type: str | None = None,
                authority: str | None = None, cursor: str | None = None, page_size: int = 20) -> dict:
    """Overdue first, then those due later, then any without a due time; `next_cursor` continues the list."""
    if status and status not in STATUSES:
        raise Invalid("status", "状态取值不在允许范围内")
    if business_type and business_type not in BUSINESS_TYPES:
        raise Invalid("business_type", "业务类型取值不在允许范围内")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise Invalid("page_size", f"每页条数应为1至{MAX_PAGE_SIZE}")
    after = decode_cursor(cursor, 5)
    query = access.in_scope(staff)
    if authority:
        if not (len(authority) == 6 and authority.isdigit() and authority.startswith(scope_prefix(staff.authority))):
            raise NotFound("登记机关不存在或不在您的管辖范围内", field="authority")
        query = query.filter(authority_id__startswith=scope_prefix(authority))
    query = query.filter(status=status) if status else query.filter(status__in=WAITING_STATUSES)
    if business_type:
        query = query.filter(business_type=business_type)

    try:
        # One moment for the whole walk through the pages, so no row moves between segments under the reader.
        moment = datetime.fromisoformat(after[0]) if after else now()
        first_segment = int(after[1]) if after else 0
        after_due = datetime.fromisoformat(after[3]) if after and after[3] else None
        if not 0 <= first_segment < len(SEGMENTS) or (after and not isinstance(after[2], bool)):
            raise ValueError
    except (TypeError, ValueError):
        raise Invalid("cursor", "翻页标记无效，请从第一页重新浏览") from None
    rows: list[tuple[int, object]] = []
    for segment in range(first_segment, len(SEGMENTS)):
        page = _segment(query, segment, moment)
        if after and segment == first_segment:
            page = _after(page, segment, after[2], after_due, after[4])
        found = await page.order_by("-resubmission", "due_at", "id").limit(page_size + 1 - len(rows)) \
            .only(*LIST_COLUMNS)
        rows += [(segment, row) for row in found]
        if len(rows) > page_size:
            break
    more = len(rows) > page_size
    rows = rows[:page_size]
    next_cursor = None
    if more:
        segment, last = rows[-1]
        next_cursor = encode_cursor([moment.isoformat(), segment, last.resubmission,
                                     last.due_at.isoformat() if last.due_at else None, str(last.id)])
    applications = [row for _, row in rows]
    ids = [row.id for row in applications]
    legal_reps = {p.application_id: p for p in await Party.filter(application_id__in=ids, role="legal_rep")
                  .order_by("-position")} if ids else {}
    phones = dict(await Applicant.filter(id__in={row.applicant_id for row in applications}).values_list("id", "phone")) \
        if applications else {}
    authorities = dict(await Authority.filter(code__in={row.authority_id for row in applications})
                       .values_list("code", "name")) if applications else {}
    total, exact = await total_of(query)
    return {
        "items": [views.queue_row(row, moment, legal_reps.get(row.id), phones.get(row.applicant_id),
                                  authorities.get(row.authority_id)) for row in applications],
        "total": total, "total_exact": exact, "page_size": page_size, "next_cursor": next_cursor,
    }

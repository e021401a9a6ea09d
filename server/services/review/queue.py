"""The 待办 queue: what waits for the registrar, overdue first, then resubmissions, then by due time."""
from __future__ import annotations

from datetime import datetime

from tortoise.expressions import Q

from server import clock
from server.cache import invalidation
from server.cache.local import LocalCache
from server.clock import now
from server.db import compiled
from server.errors import Invalid, NotFound
from server.models.accounts import Applicant, Staff
from server.models.applications import BUSINESS_TYPES, STATUSES, Application, Party
from server.services.applications import lifecycle
from server.services.authorities import authority_names, scope_prefix
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


def _page_query(shape: tuple, params: list):
    """The queue page's query of one shape, binding `params` in their order (see _page)."""
    has_authority, has_status, has_business_type, segment, after = shape
    params = iter(params)
    query = Application.filter(authority_id__gte=next(params), authority_id__lte=next(params))
    if has_authority:
        query = query.filter(authority_id__gte=next(params), authority_id__lte=next(params))
    # The waiting states are vocabulary members, written into the SQL as literals: the planner matches them to
    # the partial index application_queue_order even in a generic plan.
    query = query.filter(status=next(params)) if has_status else query.filter(status__in=WAITING_STATUSES)
    if has_business_type:
        query = query.filter(business_type=next(params))
    if segment == 0:
        query = query.filter(due_at__lt=next(params))
    elif segment == 1:
        query = query.filter(due_at__gte=next(params))
    else:
        query = query.filter(due_at__isnull=True)
    if after is not None:
        # The rows after the cursor's within its segment, in the order (-resubmission, due_at, id).
        resubmission = next(params)
        same = Q(resubmission=resubmission) & (Q(id__gt=next(params)) if segment == 2 else
                                               Q(due_at__gt=next(params)) | Q(due_at=next(params), id__gt=next(params)))
        query = query.filter(same | Q(resubmission=next(params)) if after else same)
    return query.order_by("-resubmission", "due_at", "id").limit(next(params)).only(*LIST_COLUMNS)


def _code_range(prefix: str) -> list[str]:
    """Authority codes (six digits) that start with `prefix`, as a range the query can bind as it is."""
    return [prefix.ljust(6, "0"), prefix.ljust(6, "9")]


async def _page(scope: list[str], authority: list[str] | None, status: str | None, business_type: str | None,
                segment: int, moment: datetime, after: list | None, after_due, limit: int) -> list[Application]:
    """One segment's rows, by a query compiled once per shape (the ORM's query building cost more than the
    database's answer); the filters are the ones of `access.in_scope`, the scope prefix bound as a code range."""
    params = [*scope, *(authority or ()), *((status,) if status else ()), *((business_type,) if business_type else ())]
    if segment < 2:
        params.append(moment)
    resubmission = None
    if after is not None:
        resubmission = after[2]
        params += [resubmission, after[4]] if segment == 2 else [resubmission, after_due, after_due, after[4]]
        if resubmission:
            params.append(False)
    params.append(limit)
    shape = ("review_queue", authority is not None, status is not None, business_type is not None, segment,
             resubmission)
    return await compiled(shape, lambda *bound: _page_query(shape[1:], list(bound))).fetch(*params)


# What a row shows of the legal representative: the rest of the party (encrypted at rest) is not read.
_LEGAL_REP_COLUMNS = ("id", "application_id", "position", "name", "id_number", "phone")


def _total_query(staff: Staff, authority: str | None, status: str | None, business_type: str | None):
    query = access.in_scope(staff)
    if authority:
        query = query.filter(authority_id__startswith=scope_prefix(authority))
    query = query.filter(status=status) if status else query.filter(status__in=WAITING_STATUSES)
    return query.filter(business_type=business_type) if business_type else query


async def _legal_reps(application_ids: list[str]) -> dict:
    """Each application's legal representative (the last one listed, as the staff view shows)."""
    if not application_ids:
        return {}
    shape = ("review_queue_legal_reps", len(application_ids))
    parties = await compiled(shape, lambda *bound: Party.filter(application_id__in=list(bound[:-1]), role=bound[-1])
                             .order_by("-position").only(*_LEGAL_REP_COLUMNS)).fetch(*application_ids, "legal_rep")
    return {party.application_id: party for party in parties}


async def _applicant_phones(applicant_ids: list[int]) -> dict[int, str]:
    if not applicant_ids:
        return {}
    shape = ("review_queue_phones", len(applicant_ids))
    applicants = await compiled(shape, lambda *bound: Applicant.filter(id__in=list(bound)).only("id", "phone")) \
        .fetch(*applicant_ids)
    return {applicant.id: applicant.phone for applicant in applicants}


# How long a worker answers a page from memory. Every committed change of a waiting application forgets the pages
# that show it at once (invalidation.REVIEW_QUEUE), so this bounds only what time itself changes: a row turning
# overdue, the segments of page 1 (read at `now()`), and what is changed without a transition (an applicant's new
# phone, a renamed authority). Two seconds keeps a busy queue at one rendering per page every two seconds per worker.
PAGE_SECONDS = 2.0
# A page is known by its scope, filters, cursor and size: a few per registrar browsing. A kept page of 20 rows is
# about 20 KB of Python objects, so the bound keeps a worker's pages under about 20 MB.
MAX_PAGES = 1000
# The lifetime is counted on the one clock's monotonic seconds: a page expires when tests move time forward, as its
# overdue flags would, and lives no longer when the wall clock is set back.
_pages = LocalCache(MAX_PAGES, timer=clock.monotonic)


def _forget_local(authority: str | None) -> None:
    if authority is None:
        _pages.forget()
    else:
        # A page's scope prefix (key[0]) covers the authority: a county's change reaches its city and province.
        _pages.forget_where(lambda key: authority.startswith(key[0]))


# Every committed transition announces its authority (applications.lifecycle), on every worker.
invalidation.topic(invalidation.REVIEW_QUEUE, _forget_local)


async def queue(staff: Staff, *, status: str | None = None, business_type: str | None = None,
                authority: str | None = None, cursor: str | None = None, page_size: int = 20) -> dict:
    """Overdue first, then those due later, then any without a due time; `next_cursor` continues the list.

    The answer depends on the staff member only through their scope (any role may look; nothing here is per
    person), so staff of one scope share the page kept in memory. The answer is shared: read it, never change it."""
    key = (scope_prefix(staff.authority), authority, status, business_type, cursor, page_size)
    return await _pages.get_or_render(key, lambda: _render(staff, status, business_type, authority, cursor, page_size),
                                      PAGE_SECONDS)


async def _render(staff: Staff, status: str | None, business_type: str | None, authority: str | None,
                  cursor: str | None, page_size: int) -> dict:
    if status and status not in STATUSES:
        raise Invalid("status", "状态取值不在允许范围内")
    if business_type and business_type not in BUSINESS_TYPES:
        raise Invalid("business_type", "业务类型取值不在允许范围内")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise Invalid("page_size", f"每页条数应为1至{MAX_PAGE_SIZE}")
    after = decode_cursor(cursor, 5)
    if authority and not (len(authority) == 6 and authority.isdigit()
                          and authority.startswith(scope_prefix(staff.authority))):
        raise NotFound("登记机关不存在或不在您的管辖范围内", field="authority")

    try:
        # One moment for the whole walk through the pages, so no row moves between segments under the reader.
        moment = datetime.fromisoformat(after[0]) if after else now()
        first_segment = int(after[1]) if after else 0
        after_due = datetime.fromisoformat(after[3]) if after and after[3] else None
        if not 0 <= first_segment < len(SEGMENTS) or (after and not isinstance(after[2], bool)):
            raise ValueError
    except (TypeError, ValueError):
        raise Invalid("cursor", "翻页标记无效，请从第一页重新浏览") from None
    scope = _code_range(scope_prefix(staff.authority))
    within = _code_range(scope_prefix(authority)) if authority else None
    rows: list[tuple[int, object]] = []
    for segment in range(first_segment, len(SEGMENTS)):
        found = await _page(scope, within, status, business_type, segment, moment,
                            after if segment == first_segment else None, after_due, page_size + 1 - len(rows))
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
    legal_reps = await _legal_reps([str(row.id) for row in applications])
    phones = await _applicant_phones(sorted({row.applicant_id for row in applications}))
    authorities = await authority_names({row.authority_id for row in applications})
    total, exact = await total_of(lambda: _total_query(staff, authority, status, business_type),
                                  key=("review_queue", scope_prefix(staff.authority), authority, status, business_type))
    return {
        "items": [views.queue_row(row, moment, legal_reps.get(row.id), phones.get(row.applicant_id),
                                  authorities.get(row.authority_id)) for row in applications],
        "total": total, "total_exact": exact, "page_size": page_size, "next_cursor": next_cursor,
    }

"""Coverage of legal-person accounts (seed 001's 注册账号专项行动): per authority, the share of registered entities
with an approved account, against the campaign's dated targets, and the weekly table reported every Friday.

The denominator is the registry as it stands (存续 entities); the registry keeps no registration dates, so the
weekly table divides each Friday's accounts by today's registered entities.
"""
from __future__ import annotations

import csv
import io
from bisect import bisect_left
from datetime import date, datetime, time, timedelta

from tortoise.expressions import Subquery
from tortoise.functions import Count

from server import clock
from server.config import Settings
from server.errors import Invalid, NotFound
from server.models.accounts import Staff
from server.models.authorities import Authority
from server.models.enterprise_accounts import EnterpriseAccount
from server.models.names import RegisteredEntity
from server.services.authorities import scope_prefix

MAX_WEEKS = 53
FRIDAY = 4


async def _areas(staff: Staff, authority_code: str | None) -> tuple[Authority, list[Authority]]:
    """The authority asked about (within the staff member's scope) and the rows of its table: its children, or itself."""
    code = authority_code or staff.authority.code
    if not code.startswith(scope_prefix(staff.authority)):
        raise NotFound("登记机关不在本机关辖区内")
    root = await Authority.get_or_none(code=code)
    if root is None:
        raise Invalid("authority", f"登记机关 {code} 不存在")
    children = await Authority.filter(parent_id=root.code).order_by("code")
    return root, children or [root]


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _target(settings: Settings, today: date) -> dict | None:
    targets = sorted(settings.enterprise_accounts.coverage_targets, key=lambda t: t.by)
    if not targets:
        return None
    upcoming = next((t for t in targets if t.by >= today), targets[-1])
    return {"by": upcoming.by.isoformat(), "share": upcoming.share}


async def _registered_by_authority(prefix: str) -> dict[str, int]:
    rows = await (RegisteredEntity.filter(status="registered", authority_code__startswith=prefix)
                  .annotate(n=Count("id")).group_by("authority_code").values_list("authority_code", "n"))
    return dict(rows)


def _sum_under(counts: dict[str, int], area: Authority) -> int:
    prefix = scope_prefix(area)
    return sum(n for code, n in counts.items() if code.startswith(prefix))


async def coverage(staff: Staff, authority_code: str | None, settings: Settings) -> dict:
    root, areas = await _areas(staff, authority_code)
    prefix = scope_prefix(root)
    registered = await _registered_by_authority(prefix)
    live_codes = Subquery(RegisteredEntity.filter(status="registered").values("credit_code"))
    approved = dict(await (EnterpriseAccount.filter(status="approved", authority_id__startswith=prefix,
                                                    credit_code__in=live_codes)
                           .annotate(n=Count("id")).group_by("authority_id").values_list("authority_id", "n")))
    target = _target(settings, clock.today())
    rows = []
    for area in areas:
        whole, part = _sum_under(registered, area), _sum_under(approved, area)
        share = _share(part, whole)
        rows.append({"code": area.code, "name": area.name, "registered": whole, "with_account": part, "share": share,
                     "target": target and {**target, "met": share is not None and share >= target["share"]}})
    whole, part = _sum_under(registered, root), _sum_under(approved, root)
    return {"authority": {"code": root.code, "name": root.name}, "as_of": clock.now().isoformat(),
            "targets": [{"by": t.by.isoformat(), "share": t.share} for t in settings.enterprise_accounts.coverage_targets],
            "total": {"registered": whole, "with_account": part, "share": _share(part, whole), "target": target},
            "authorities": rows}


def fridays(start: date, end: date) -> list[date]:
    first = start + timedelta(days=(FRIDAY - start.weekday()) % 7)
    days = []
    while first <= end:
        days.append(first)
        first += timedelta(days=7)
    return days


async def weekly(staff: Staff, authority_code: str | None, start: date | None, end: date | None) -> dict:
    """每周五统计: for each Friday in [start, end] (default the last eight weeks) and each authority."""
    end = end or clock.today()
    start = start or end - timedelta(weeks=8)
    if start > end:
        raise Invalid("from", "开始日期不能晚于结束日期")
    if (end - start).days > MAX_WEEKS * 7:
        raise Invalid("from", f"一次最多统计{MAX_WEEKS}周")
    root, areas = await _areas(staff, authority_code)
    prefix = scope_prefix(root)
    registered = await _registered_by_authority(prefix)
    accounts = await (EnterpriseAccount.filter(authority_id__startswith=prefix, approved_at__not_isnull=True)
                      .values_list("authority_id", "approved_at", "revoked_at"))
    # Per area, the sorted approval and revocation times: each Friday's counts are then two binary searches.
    approvals: dict[str, list] = {area.code: [] for area in areas}
    revocations: dict[str, list] = {area.code: [] for area in areas}
    for code, approved, revoked in accounts:
        area = next((a.code for a in areas if code.startswith(scope_prefix(a))), None)
        if area is not None:
            approvals[area].append(approved)
            if revoked is not None:
                revocations[area].append(revoked)
    for times in (*approvals.values(), *revocations.values()):
        times.sort()
    days = fridays(start, end)
    rows = []
    for friday in days:
        # The week closes at midnight after Friday, China time (the report is due Friday; it counts the whole day).
        cutoff = datetime.combine(friday + timedelta(days=1), time(), tzinfo=clock.CHINA)
        week_start = cutoff - timedelta(days=7)
        for area in areas:
            approved, revoked = approvals[area.code], revocations[area.code]
            held = bisect_left(approved, cutoff) - bisect_left(revoked, cutoff)
            new = bisect_left(approved, cutoff) - bisect_left(approved, week_start)
            whole = _sum_under(registered, area)
            rows.append({"friday": friday.isoformat(), "code": area.code, "name": area.name, "registered": whole,
                         "with_account": held, "new_this_week": new, "share": _share(held, whole)})
    return {"authority": {"code": root.code, "name": root.name}, "fridays": [d.isoformat() for d in days],
            "rows": rows}


CSV_HEADER = ("统计日（周五）", "登记机关代码", "登记机关", "存续市场主体数", "已注册法人账号数", "本周新增", "注册率")


def weekly_csv(table: dict) -> str:
    """The Friday table as the office receives it (附件 2 统计表): UTF-8 with BOM so spreadsheet programs read the Chinese."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in table["rows"]:
        share = "" if row["share"] is None else f"{row['share'] * 100:.2f}%"
        writer.writerow((row["friday"], row["code"], row["name"], row["registered"], row["with_account"],
                         row["new_this_week"], share))
    return "\ufeff" + buffer.getvalue()

"""Which entity reported for which year: the import from the national system, and the 年报公示率 per authority."""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from tortoise.expressions import Subquery
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from server import clock
from server.errors import Invalid
from server.models.accounts import Staff
from server.models.annual_reports import AnnualReport
from server.models.authorities import Authority
from server.models.names import RegisteredEntity
from server.services.accounts.staff import require_role
from server.services.applications.identifiers import credit_code_problem
from server.services.authorities import scope_prefix

IMPORT_BATCH = 2000
COLUMNS = ("credit_code", "year", "reported_on")
# 年报 covers the previous year and is filed 1 January – 30 June (企业信息公示暂行条例 第八条).
FIRST_YEAR = 2013


@dataclass
class ImportReport:
    read: int = 0
    imported: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def _row(values: dict) -> AnnualReport:
    code = (values.get("credit_code") or "").strip().upper()
    problem = credit_code_problem(code)
    if problem:
        raise Invalid("credit_code", problem)
    try:
        year = int((values.get("year") or "").strip())
    except ValueError:
        raise Invalid("year", "年度应为四位数字年份") from None
    if not FIRST_YEAR <= year < clock.today().year:
        raise Invalid("year", f"年度应在 {FIRST_YEAR} 至 {clock.today().year - 1} 之间")
    reported_on = None
    if (values.get("reported_on") or "").strip():
        try:
            reported_on = date.fromisoformat(values["reported_on"].strip())
        except ValueError:
            raise Invalid("reported_on", "报送日期格式应为 YYYY-MM-DD") from None
        if reported_on.year <= year:
            raise Invalid("reported_on", "年报应在所属年度之后报送")
    return AnnualReport(credit_code=code, year=year, reported_on=reported_on)


async def import_file(path: str | Path) -> ImportReport:
    """CSV (UTF-8, header credit_code,year[,reported_on]) of reports filed on the national system; idempotent (one row
    per code and year); a bad line is reported with its number and the good ones kept."""
    report = ImportReport()
    batch: dict[tuple[str, int], AnnualReport] = {}
    with open(path, encoding="utf-8-sig", newline="") as source:
        reader = csv.reader(source)
        header = [name.strip() for name in next(reader, [])]
        if "credit_code" not in header or "year" not in header or set(header) - set(COLUMNS):
            report.errors.append((1, f"表头应为 {','.join(COLUMNS)}（reported_on 可省略）"))
            return report
        for values in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in values):
                continue
            report.read += 1
            if len(values) != len(header):
                report.errors.append((number, f"应有 {len(header)} 列，实有 {len(values)} 列"))
                continue
            try:
                row = _row(dict(zip(header, values)))
            except Invalid as exc:
                report.errors.append((number, f"{exc.field}：{exc.message}"))
                continue
            batch[(row.credit_code, row.year)] = row
            report.imported += 1
            if len(batch) >= IMPORT_BATCH:
                await _write(list(batch.values()))
                batch = {}
    if batch:
        await _write(list(batch.values()))
    return report


async def _write(rows: list[AnnualReport]) -> None:
    async with in_transaction() as conn:
        await AnnualReport.bulk_create(rows, on_conflict=["credit_code", "year"], update_fields=["reported_on"],
                                       using_db=conn)


async def publication_rates(year: int, prefix: str = "") -> list[dict]:
    """年报公示率 per authority: active (registered) entities that reported for `year`, over all active ones.

    For the statistics dashboard (seed 003 积极提升市场主体年报公示率).
    """
    active = RegisteredEntity.filter(status="registered", authority_code__startswith=prefix)
    totals = {row["authority_code"]: row["n"] for row in await active.annotate(n=Count("id"))
              .group_by("authority_code").values("authority_code", "n")}
    reported_codes = Subquery(AnnualReport.filter(year=year).values("credit_code"))
    reported = {row["authority_code"]: row["n"] for row in await active.filter(credit_code__in=reported_codes)
                .annotate(n=Count("id")).group_by("authority_code").values("authority_code", "n")}
    names = {a.code: a.name for a in await Authority.filter(code__in=list(totals))}
    return [{"authority_code": code, "authority_name": names.get(code, code), "year": year, "active": total,
             "reported": reported.get(code, 0), "rate": round(reported.get(code, 0) / total, 4)}
            for code, total in sorted(totals.items())]


async def rates_for_staff(staff: Staff, year: int | None) -> dict:
    require_role(staff, "reviewer", "helper", "admin")
    year = year or clock.today().year - 1
    if not FIRST_YEAR <= year < clock.today().year:
        raise Invalid("year", f"年度应在 {FIRST_YEAR} 至 {clock.today().year - 1} 之间")
    rows = await publication_rates(year, scope_prefix(staff.authority))
    active, reported = sum(r["active"] for r in rows), sum(r["reported"] for r in rows)
    return {"year": year, "authorities": rows, "active": active, "reported": reported,
            "rate": round(reported / active, 4) if active else None}

"""Offline (counter) filings per authority and month, imported from a CSV, for 网办率.

The file is checked whole before anything is written: a half-imported month would skew the rate.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from tortoise.transactions import in_transaction

from server import clock
from server.models.authorities import Authority
from server.models.statistics import OfflineFiling

# Either header works: the English field names or the Chinese column titles of the template.
COLUMNS = {"authority_code": "authority_code", "登记机关代码": "authority_code", "month": "month", "月份": "month",
           "filings": "filings", "线下办件数": "filings"}
MAX_FILINGS = 10_000_000


@dataclass
class ImportReport:
    read: int = 0
    imported: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def _month(raw: str) -> date | None:
    parts = raw.strip().split("-")
    if len(parts) != 2 or not all(part.isdigit() for part in parts) or len(parts[0]) != 4:
        return None
    year, month = int(parts[0]), int(parts[1])
    return date(year, month, 1) if 1 <= month <= 12 and year >= 2000 else None


async def import_offline(path: str | Path) -> ImportReport:
    report = ImportReport()
    known = set(await Authority.all().values_list("code", flat=True))
    rows: dict[tuple[str, date], tuple[int, int]] = {}
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        names = [COLUMNS.get((name or "").strip()) for name in header or []]
        if sorted(filter(None, names)) != ["authority_code", "filings", "month"]:
            report.errors.append((1, "表头应为 authority_code,month,filings（或 登记机关代码,月份,线下办件数）"))
            return report
        for number, values in enumerate(reader, start=2):
            if not any(value.strip() for value in values):
                continue
            report.read += 1
            record = {name: value.strip() for name, value in zip(names, values) if name}
            code, month, filings = record.get("authority_code", ""), _month(record.get("month", "")), record.get("filings", "")
            if code not in known:
                report.errors.append((number, f"登记机关代码 {code!r} 不存在"))
            elif month is None:
                report.errors.append((number, f"月份 {record.get('month', '')!r} 应为 YYYY-MM"))
            elif month > clock.today():
                report.errors.append((number, f"月份 {record['month']} 尚未开始"))
            elif not filings.isdigit() or int(filings) > MAX_FILINGS:
                report.errors.append((number, f"线下办件数 {filings!r} 应为不大于 {MAX_FILINGS} 的非负整数"))
            elif (code, month) in rows:
                report.errors.append((number, f"与第 {rows[(code, month)][0]} 行重复（{code} {record['month']}）"))
            else:
                rows[(code, month)] = (number, int(filings))
    if report.errors:
        return report
    moment = clock.now()
    async with in_transaction() as conn:
        for (code, month), (_, filings) in rows.items():
            updated = await OfflineFiling.filter(authority_id=code, month=month).using_db(conn).update(
                filings=filings, imported_at=moment)
            if not updated:
                await OfflineFiling.create(authority_id=code, month=month, filings=filings, imported_at=moment,
                                           using_db=conn)
    report.imported = len(rows)
    return report

"""The registry of existing entities (已登记主体): one upsert for approvals, a batched import for operators."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path

from tortoise.transactions import in_transaction

from server import clock
from server.cache import invalidation
from server.errors import Invalid
from server.models.applications import ENTITY_TYPES
from server.models.names import REGISTRY_STATUSES, RegisteredEntity, RetiredName
from server.services import authorities
from server.services.applications import divisions, names
from server.services.applications.identifiers import credit_code_problem, mobile_problem

IMPORT_BATCH = 2000
_UPDATED_COLUMNS = ("name", "trade_name", "trade_pinyin", "industry", "org_form", "authority_code", "city_code",
                    "entity_type", "status", "status_date", "investors", "liaison_phone", "updated_at")
_LINE_FIELDS = {"name", "credit_code", "authority_code", "entity_type", "status", "status_date", "investors",
                "liaison_phone"}


def _status_date(value, status: str, field_name: str = "status_date") -> datetime | None:
    if value is None:
        # Without a date, an exit is taken as today's: the name stays protected for the full year.
        return None if status == "registered" else clock.now()
    try:
        day = date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        day = None
    if day is None:
        raise Invalid(field_name, "日期格式应为 YYYY-MM-DD")
    return datetime.combine(day, time(), tzinfo=timezone.utc)


def _investors(value) -> list[dict] | None:
    """[{name, credit_code?}] as given (规定第十七条 投资关系); None when the line says nothing of investors."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise Invalid("investors", "投资人应为列表：[{\"name\": 名称, \"credit_code\": 统一社会信用代码（可省略）}]")
    investors = []
    for index, item in enumerate(value):
        field_name = f"investors[{index}]"
        if not isinstance(item, dict) or set(item) - {"name", "credit_code"}:
            raise Invalid(field_name, "每个投资人应为 {\"name\", \"credit_code\"}")
        name = item.get("name")
        if not isinstance(name, str) or not names.normalise(name) or len(names.normalise(name)) > 128:
            raise Invalid(f"{field_name}.name", "投资人名称应为1至128个字的文本")
        code = item.get("credit_code")
        if code is not None:
            problem = credit_code_problem(code)
            if problem:
                raise Invalid(f"{field_name}.credit_code", problem)
        investors.append({"name": names.normalise(name), "credit_code": code})
    return investors


def entity_row(name, credit_code, authority_code, entity_type, status, status_date=None,
               investors=None, liaison_phone=None) -> RegisteredEntity:
    """A validated, parsed registry row (not saved); Invalid names the bad field."""
    if not isinstance(name, str) or not names.normalise(name) or len(names.normalise(name)) > 128:
        raise Invalid("name", "名称应为1至128个字的文本")
    problem = credit_code_problem(credit_code)
    if problem:
        raise Invalid("credit_code", problem)
    if not (isinstance(authority_code, str) and len(authority_code) == 6 and authority_code.isdigit()):
        raise Invalid("authority_code", "登记机关代码应为6位行政区划代码")
    if divisions.division(authority_code) is None:
        raise Invalid("authority_code", f"登记机关 {authority_code} 不是行政区划代码")
    if entity_type not in ENTITY_TYPES:
        raise Invalid("entity_type", f"主体类型应为 {'、'.join(ENTITY_TYPES)} 之一")
    if status not in REGISTRY_STATUSES:
        raise Invalid("status", f"状态应为 {'、'.join(REGISTRY_STATUSES)} 之一")
    if liaison_phone is not None and (not isinstance(liaison_phone, str) or mobile_problem(liaison_phone)):
        raise Invalid("liaison_phone", "联络员手机号应为11位手机号码")
    name = names.normalise(name)
    row = RegisteredEntity(
        name=name, credit_code=credit_code, authority_code=authority_code,
        city_code=authorities.city_code(authority_code), entity_type=entity_type, status=status,
        status_date=_status_date(status_date, status), investors=_investors(investors), liaison_phone=liaison_phone,
        updated_at=clock.now(), **names.parsed_for_registry(name, entity_type, authority_code),
    )
    row.status_date_given = status_date is not None
    return row


def _keep_known(row: RegisteredEntity, existing: RegisteredEntity) -> None:
    """Re-importing an exit without a date keeps the date first recorded, so a repeat import changes nothing;
    a line without investors (or without a liaison phone) keeps what is already known."""
    if not row.status_date_given and existing.status == row.status and existing.status_date is not None:
        row.status_date = existing.status_date
    if row.investors is None:
        row.investors = existing.investors
    if row.liaison_phone is None:
        row.liaison_phone = existing.liaison_phone


async def upsert_entity(name: str, credit_code: str, authority_code: str, entity_type: str, status: str,
                        connection=None, status_date: str | None = None,
                        investors: list[dict] | None = None, liaison_phone: str | None = None) -> RegisteredEntity:
    """Insert or update one entity by its credit code (approvals call this after 核准).

    A registered entity whose name changes keeps its old name protected for a year (RetiredName). `investors`
    ([{name, credit_code}], None for unknown) replaces what the registry knows of them.
    """
    row = entity_row(name, credit_code, authority_code, entity_type, status, status_date, investors, liaison_phone)
    async with _maybe_transaction(connection) as conn:
        _forget_lists_when_ended(conn)
        existing = await RegisteredEntity.filter(credit_code=credit_code).using_db(conn).select_for_update().first()
        if existing is None:
            await row.save(using_db=conn)
            return row
        if existing.name != row.name and existing.status == "registered":
            await _retire(existing, conn)
        _keep_known(row, existing)
        for column in _UPDATED_COLUMNS:
            setattr(existing, column, getattr(row, column))
        await existing.save(using_db=conn)
        return existing


def _forget_lists_when_ended(conn) -> None:
    # Any applicant's list may check a name against what the register holds.
    invalidation.announce_when_ended(conn, invalidation.APPLICANT_APPLICATIONS)


async def _retire(existing: RegisteredEntity, conn) -> None:
    await RetiredName.create(credit_code=existing.credit_code, name=existing.name, trade_name=existing.trade_name,
                             trade_pinyin=existing.trade_pinyin, industry=existing.industry,
                             city_code=existing.city_code, retired_at=clock.now(), using_db=conn)


@dataclass
class ImportReport:
    read: int = 0
    imported: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def _line_row(number: int, line: str) -> RegisteredEntity:
    try:
        data = json.loads(line)
    except ValueError:
        raise Invalid(None, "不是合法的 JSON") from None
    if not isinstance(data, dict):
        raise Invalid(None, "每行应为一个 JSON 对象")
    unknown = set(data) - _LINE_FIELDS
    if unknown:
        raise Invalid(sorted(unknown)[0], "不认识的字段")
    return entity_row(data.get("name"), data.get("credit_code"), data.get("authority_code"),
                      data.get("entity_type"), data.get("status"), data.get("status_date"), data.get("investors"),
                      data.get("liaison_phone"))


async def import_file(path: str | Path) -> ImportReport:
    """Load a JSON Lines file of {name, credit_code, authority_code, entity_type, status[, status_date][, investors]}.

    Idempotent (an upsert by credit code); a bad line is reported with its number and the good lines are kept.
    """
    report = ImportReport()
    batch: dict[str, RegisteredEntity] = {}
    with open(path, encoding="utf-8") as source:
        for number, line in enumerate(source, start=1):
            if not line.strip():
                continue
            report.read += 1
            try:
                row = _line_row(number, line)
            except Invalid as exc:
                report.errors.append((number, f"{exc.field + '：' if exc.field else ''}{exc.message}"))
                continue
            batch[row.credit_code] = row
            if len(batch) >= IMPORT_BATCH:
                report.imported += await _write_batch(list(batch.values()))
                batch = {}
    if batch:
        report.imported += await _write_batch(list(batch.values()))
    return report


async def _write_batch(rows: list[RegisteredEntity]) -> int:
    async with in_transaction() as conn:
        _forget_lists_when_ended(conn)
        by_code = {row.credit_code: row for row in rows}
        for existing in await RegisteredEntity.filter(credit_code__in=list(by_code)).using_db(conn):
            row = by_code[existing.credit_code]
            if existing.status == "registered" and existing.name != row.name:
                await _retire(existing, conn)
            _keep_known(row, existing)
        await RegisteredEntity.bulk_create(rows, on_conflict=["credit_code"], update_fields=list(_UPDATED_COLUMNS),
                                           using_db=conn)
    return len(rows)


class _maybe_transaction:
    def __init__(self, connection):
        self.connection = connection
        self.context = None

    async def __aenter__(self):
        if self.connection is not None:
            return self.connection
        self.context = in_transaction()
        return await self.context.__aenter__()

    async def __aexit__(self, *exc):
        if self.context is not None:
            return await self.context.__aexit__(*exc)
        return False

"""年报 reminders: on each configured date, one SMS to the liaison of every active entity that has not reported for
the previous year, spread evenly over the working day per city, at most once per entity and date.

Entities are read in keyset batches (archive.batch_size), so memory stays bounded however many there are; a
reminder row per entity and date (unique) is written with its outbox message in the same transaction.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, time, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from tortoise.expressions import Subquery
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from server import clock
from server.cache import Cache
from server.config import Settings
from server.errors import Conflict, Invalid
from server.models.accounts import Staff
from server.models.annual_reports import AnnualReport, AnnualReportReminder
from server.models.applications import Application
from server.models.names import RegisteredEntity
from server.models.notifications import OutboxMessage
from server.services.accounts.staff import require_role
from server.services.applications.identifiers import mask_phone
from server.services.authorities import scope_prefix
from server.services.notifications.messages import sms_row
from server.services.review.worktime import calendar_for

log = logging.getLogger(__name__)
TEMPLATE = "annual_report_reminder"
DEADLINE = "6月30日"
LOCK = "annual-report-reminders"


def _window(settings: Settings, day: date) -> tuple[datetime, datetime]:
    """The part of the working day still ahead (the next day's if this one is over): when SMS may go out."""
    calendar = calendar_for(settings)  # working hours come from the one working calendar
    start = datetime.combine(day, calendar.periods[0][0], tzinfo=calendar.zone)
    end = datetime.combine(day, calendar.periods[-1][1], tzinfo=calendar.zone)
    moment = clock.now()
    if moment >= end:
        start, end = start + timedelta(days=1), end + timedelta(days=1)
    # Stored in UTC like every other instant (SQLite compares the text).
    return max(start, moment).astimezone(timezone.utc), end.astimezone(timezone.utc)


def _active():
    return RegisteredEntity.filter(status="registered", liaison_phone__not_isnull=True)


async def schedule(settings: Settings, cache: Cache, day: date | None = None) -> dict:
    """Schedule `day`'s reminders (today by default); nothing unless it is a configured reminder date."""
    zone = ZoneInfo(settings.review.timezone)
    day = day or clock.today(zone)
    if f"{day:%m-%d}" not in settings.annual_reports.reminder_dates:
        return {"date": day.isoformat(), "year": day.year - 1, "scheduled": 0, "reason": "不是年报提醒日"}
    async with cache.lock(LOCK, ttl=3600, wait=5):
        scheduled = await _schedule(settings, day)
    return {"date": day.isoformat(), "year": day.year - 1, "scheduled": scheduled}


async def _schedule(settings: Settings, day: date) -> int:
    year = day.year - 1
    start, end = _window(settings, day)
    span = (end - start).total_seconds()
    # Per city: how many could be reminded, and how many are placed so far: each city's share is spread evenly.
    per_city = {row["city_code"]: row["n"] for row in await _active().annotate(n=Count("id")).group_by("city_code")
                .values("city_code", "n")}
    placed = dict.fromkeys(per_city, 0)
    year_start = datetime.combine(date(day.year, 1, 1), time(),
                                  tzinfo=ZoneInfo(settings.review.timezone)).astimezone(timezone.utc)
    last_id, scheduled, batch = 0, 0, settings.annual_reports.batch_size
    while True:
        rows = await (_active().filter(id__gt=last_id).order_by("id").limit(batch)
                      .values_list("id", "credit_code", "name", "city_code", "liaison_phone"))
        if not rows:
            return scheduled
        last_id = rows[-1][0]
        codes = [row[1] for row in rows]
        skip = set(await AnnualReport.filter(year=year, credit_code__in=codes).values_list("credit_code", flat=True))
        skip |= set(await AnnualReportReminder.filter(year=year, reminder_date=day, credit_code__in=codes)
                    .values_list("credit_code", flat=True))
        # Established this year: nothing to report for last year.
        skip |= set(await Application.filter(credit_code__in=codes, business_type="establish", status="approved",
                                             decided_at__gte=year_start).values_list("credit_code", flat=True))
        reminders, messages = [], []
        created_at = clock.now()
        for _, code, name, city, phone in rows:
            if code in skip:
                continue
            total = max(per_city.get(city, 1), 1)
            position = placed.get(city, 0)
            placed[city] = position + 1
            send_at = start + timedelta(seconds=span * position / total)
            reminders.append({"credit_code": code, "year": year, "reminder_date": day, "city_code": city,
                              "send_at": send_at, "created_at": created_at})
            messages.append(sms_row(phone, TEMPLATE, {"name": name, "year": year, "deadline": DEADLINE},
                                    not_before=send_at, created_at=created_at))
        if reminders:
            async with in_transaction() as conn:
                await _insert(conn, AnnualReportReminder, reminders)
                await _insert(conn, OutboxMessage, messages)
            scheduled += len(reminders)


async def _insert(connection, model, rows: list[dict]) -> None:
    """A bulk INSERT of plain rows through tortoise's own statement and field conversions, without building a model
    instance per row (which costs more than the insert itself at a million rows)."""
    executor = connection.executor_class(model=model, db=connection)
    fields_map = model._meta.fields_map
    # A database-generated key is left out of the statement; a UUID key is given with the row.
    generated = model._meta.pk.generated
    wanted = list(executor.regular_columns if generated else executor.regular_columns_all)
    query = executor.insert_query if generated else executor.insert_query_all
    columns = [column for column in wanted if column in rows[0]]
    if columns != wanted:
        raise ValueError(f"{model.__name__} rows must give every column: {wanted}")
    values = []
    for row in rows:
        holder = SimpleNamespace(**row)
        values.append([fields_map[column].to_db_value(row[column], holder) for column in columns])
    await connection.execute_many(query, values)


async def run_daily(app) -> None:
    """The server's background check: each `check_minutes`, schedule today's reminders if today is a reminder date
    (idempotent, so every worker may run it; the cache lock keeps them in single file)."""
    settings = app.ctx.settings
    while True:
        try:
            await schedule(settings, app.ctx.cache)
        except asyncio.CancelledError:
            raise
        except Conflict:
            pass  # another worker is scheduling them right now
        except Exception:
            log.exception("annual-report reminders could not be scheduled now; retrying later")
        await asyncio.sleep(settings.annual_reports.check_minutes * 60)


def install_scheduler(app) -> None:
    if not app.ctx.settings.annual_reports.scheduler_enabled:
        return

    @app.after_server_start
    async def _start(app):
        app.ctx.annual_report_task = asyncio.create_task(run_daily(app))

    @app.before_server_stop
    async def _stop(app):
        task = getattr(app.ctx, "annual_report_task", None)
        if task is not None:
            task.cancel()
            # Waited for, so the task ends here and not after its loop has closed (the weekly reports do the same).
            await asyncio.gather(task, return_exceptions=True)


async def unreported(staff: Staff, *, authority: str | None = None, year: int | None = None, page: int = 1,
                     page_size: int = 50) -> dict:
    """The follow-up list for helpers (seed 003 及时进行年报提醒, 提供后续的年报指导服务): active entities of their scope
    that have not reported, with the reminders already sent; the liaison's phone masked."""
    require_role(staff, "reviewer", "helper", "admin")
    year = year or clock.today().year - 1
    prefix = scope_prefix(staff.authority)
    if authority:
        if not authority.startswith(prefix):
            raise Invalid("authority", "登记机关应在您的管辖范围内")
        prefix = authority
    if page < 1:
        raise Invalid("page", "页码应从1开始")
    if not 1 <= page_size <= 200:
        raise Invalid("page_size", "每页条数应为1至200")
    query = RegisteredEntity.filter(status="registered", authority_code__startswith=prefix).exclude(
        credit_code__in=Subquery(AnnualReport.filter(year=year).values("credit_code")))
    total = await query.count()
    rows = await query.order_by("id").offset((page - 1) * page_size).limit(page_size)
    sent: dict[str, list[str]] = {}
    for code, day in await AnnualReportReminder.filter(year=year, credit_code__in=[r.credit_code for r in rows]) \
            .order_by("reminder_date").values_list("credit_code", "reminder_date"):
        sent.setdefault(code, []).append(day.isoformat())
    return {"year": year, "total": total, "page": page, "page_size": page_size, "items": [
        {"credit_code": row.credit_code, "name": row.name, "authority_code": row.authority_code,
         "liaison_phone_masked": mask_phone(row.liaison_phone), "reminders_sent": sent.get(row.credit_code, [])}
        for row in rows]}

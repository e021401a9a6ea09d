"""The weekly report (seed 001: 每周五 统计): every `statistics.weekly_report_weekday` at `weekly_report_hour` (local), an
XLSX and a PDF per authority that has staff, covering the seven local days before the report's day.

Each server worker runs the check; the (authority, period_from) unique key lets exactly one of them write a report.
"""
from __future__ import annotations

import asyncio
import io
import logging
from datetime import date, datetime, time, timedelta

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sanic import Sanic
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server import clock, storage
from server.config import Settings
from server.errors import Invalid, NotFound
from server.models.accounts import Staff
from server.models.authorities import Authority
from server.models.statistics import WeeklyReport
from server.services.accounts.staff import require_role
from server.services.authorities import scope_prefix
from server.services.documents.fonts import ensure_base_font
from server.services.notifications.messages import enqueue_email
from server.services.review.access import VIEWING_ROLES
from server.services.statistics import exports
from server.services.statistics import summary as stats
from server.services.statistics.definitions import ZONE
from server.services.statistics.periods import Period
from server.vocabulary import StatisticsTable

log = logging.getLogger(__name__)


def due_week(settings: Settings, moment: datetime) -> Period:
    """The week of the latest report time at or before `moment`: the seven days before that report's day."""
    local = moment.astimezone(ZONE)
    day = local.date() - timedelta(days=(local.weekday() - settings.statistics.weekly_report_weekday) % 7)
    if datetime.combine(day, time(settings.statistics.weekly_report_hour), ZONE) > local:
        day -= timedelta(days=7)
    return week_before(day)


def week_before(report_day: date) -> Period:
    return Period(report_day - timedelta(days=7), report_day - timedelta(days=1), ZONE)


async def generate_due(settings: Settings, force_week: str | None = None) -> list[WeeklyReport]:
    """Write the reports of the due week (or of the week before `force_week`) that do not exist yet."""
    if force_week:
        try:
            period = week_before(date.fromisoformat(force_week))
        except ValueError:
            raise Invalid("week", "week：日期格式应为 YYYY-MM-DD") from None
    else:
        period = due_week(settings, clock.now())
    codes = set(await Staff.filter(active=True).values_list("authority_id", flat=True))
    done = set(await WeeklyReport.filter(period_from=period.first).values_list("authority_id", flat=True))
    made = []
    for authority in await Authority.filter(code__in=codes - done).order_by("code"):
        report = await _generate(settings, authority, period)
        if report is not None:
            made.append(report)
    return made


async def _generate(settings: Settings, authority: Authority, period: Period) -> WeeklyReport | None:
    query = stats.Query(authority, period)
    summary = await stats.summary(settings, query)
    daily = await stats.series(settings, query, "return_rate", "day")
    key = f"weekly/{authority.code}/{period.first:%Y%m%d}"
    xlsx = exports.workbook(summary, daily)
    pdf = await asyncio.to_thread(render_pdf, settings, summary)
    headline = {name: entry["value"] for name, entry in summary["figures"].items()}
    try:
        async with in_transaction() as conn:
            report = await WeeklyReport.create(authority=authority, period_from=period.first, period_to=period.last,
                                               generated_at=clock.now(), xlsx_key=f"{key}.xlsx",
                                               pdf_key=f"{key}.pdf", headline=headline, using_db=conn)
            for address in settings.statistics.weekly_report_recipients.get(authority.code, []):
                await enqueue_email(address, "weekly_report", _mail_params(settings, authority, period, report),
                                    connection=conn)
    except IntegrityError:  # another worker wrote it first
        return None
    await storage.put(settings, storage.GENERATED, report.xlsx_key, xlsx)
    await storage.put(settings, storage.GENERATED, report.pdf_key, pdf)
    return report


def _mail_params(settings: Settings, authority: Authority, period: Period, report: WeeklyReport) -> dict:
    def rate(value) -> str:
        return "—" if value is None else f"{value}%"

    figures = report.headline
    return {"authority": authority.name, "period": f"{period.first.isoformat()}至{period.last.isoformat()}",
            "submitted": figures["submitted"], "returned": figures["returned"],
            "return_rate": rate(figures["return_rate"]), "cloud_share": rate(figures["cloud_share"]),
            "signatures_saved": figures["signatures_saved"],
            "xlsx": f"{settings.base_url}/api/v1/stats/reports/{report.id}/xlsx",
            "pdf": f"{settings.base_url}/api/v1/stats/reports/{report.id}/pdf"}


def render_pdf(settings: Settings, summary: dict) -> bytes:
    font = ensure_base_font(settings.documents.font_cache_dir)
    title = ParagraphStyle("title", fontName=font, fontSize=16, leading=22)
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=13)
    cell = ParagraphStyle("cell", fontName=font, fontSize=8, leading=11, wordWrap="CJK")
    out = io.BytesIO()
    document = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                                 topMargin=12 * mm, bottomMargin=12 * mm, title=exports.title_of(summary),
                                 invariant=True)
    story = [Paragraph(f"{exports.title_of(summary)}（周报）", title),
             Paragraph(f"对比去年同期 {summary['last_year_period']['from']} 至 {summary['last_year_period']['to']}。"
                       f"{summary['period_note']}{summary['hours_saved_assumption']}。", body), Spacer(1, 4 * mm)]
    for key, (columns, rows) in exports.tables(summary, None).items():
        story.append(Paragraph(StatisticsTable(key).label, ParagraphStyle("h", parent=title, fontSize=12, leading=18)))
        data = [[Paragraph(title_, cell) for title_, _ in columns]]
        data += [[Paragraph("—" if value is None else str(value), cell) for value in row] for row in rows]
        table = Table(data, repeatRows=1)
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#B0B7C3")),
                                   ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEF1F5")),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story += [table, Spacer(1, 4 * mm)]
    document.build(story)
    return out.getvalue()


async def reports_for(staff: Staff, authority: Authority, limit: int = 20) -> list[dict]:
    """The latest reports of the authority and the ones under it."""
    require_role(staff, *VIEWING_ROLES)
    rows = await WeeklyReport.filter(authority_id__startswith=scope_prefix(authority.code)) \
        .order_by("-period_from", "authority_id").limit(limit).prefetch_related("authority")
    return [{"id": r.id, "authority": r.authority_id, "authority_name": r.authority.name,
             "period_from": r.period_from.isoformat(), "period_to": r.period_to.isoformat(),
             "generated_at": r.generated_at.isoformat(), "headline": r.headline,
             "xlsx": f"/api/v1/stats/reports/{r.id}/xlsx", "pdf": f"/api/v1/stats/reports/{r.id}/pdf"} for r in rows]


async def report_file(settings: Settings, staff: Staff, report_id: int, kind: str) -> tuple[WeeklyReport, bytes]:
    require_role(staff, *VIEWING_ROLES)
    report = await WeeklyReport.get_or_none(id=report_id, authority_id__startswith=scope_prefix(staff.authority_id))
    data = await storage.get(settings, storage.GENERATED, report.xlsx_key if kind == "xlsx" else report.pdf_key) if report else None
    if data is None:
        raise NotFound("周报不存在或不在您的管辖范围内")
    return report, data


def install_weekly_reports(app: Sanic) -> None:
    """Each worker checks every `weekly_report_poll_seconds` whether a report is due."""
    settings: Settings = app.ctx.settings

    async def loop():
        while True:
            try:
                await generate_due(settings)
            except Exception:  # a failed round is logged and retried at the next poll
                log.exception("weekly report generation failed")
            await asyncio.sleep(settings.statistics.weekly_report_poll_seconds)

    @app.after_server_start
    async def start_weekly_reports(app: Sanic):
        app.ctx.weekly_reports = asyncio.create_task(loop()) if settings.statistics.weekly_report_enabled else None

    @app.before_server_stop
    async def stop_weekly_reports(app: Sanic):
        task = app.ctx.weekly_reports
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

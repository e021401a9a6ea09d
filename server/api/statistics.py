"""Statistics routes (staff, scoped by authority): summary, series, service points, exports, weekly reports."""
from __future__ import annotations

from urllib.parse import quote

from sanic import Blueprint, Request, json, raw
from sanic_ext import openapi

from server.api.http import current_staff
from server.errors import Invalid
from server.services.statistics import exports, weekly
from server.services.statistics import summary as stats
from server.services.statistics.definitions import ZONE
from server.services.statistics.periods import parse_period
from server.vocabulary import StatisticsTable

bp = Blueprint("statistics", url_prefix="/api/v1/stats")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

QUERY_PARAMETERS = ("authority", "from", "to", "period", "business_type", "entity_type")


def _described(handler):
    for name in QUERY_PARAMETERS:
        handler = openapi.parameter(name, str, location="query")(handler)
    return openapi.secured("bearer")(handler)


async def query_of(request: Request) -> stats.Query:
    staff = await current_staff(request)
    return await stats.build_query(staff, request.args, parse_period(request.args, ZONE))


@bp.get("/summary")
@openapi.summary("Headline figures with 同比, durations, 网办率, per business type and per subordinate authority")
@_described
async def summary(request: Request):
    return json(await stats.summary(request.app.ctx.settings, await query_of(request)))


@bp.get("/series")
@openapi.summary("One figure per day, week or month of the period, beside the same bucket a year earlier")
@openapi.parameter("metric", str, location="query")
@openapi.parameter("interval", str, location="query")
@_described
async def series(request: Request):
    query = await query_of(request)
    return json(await stats.series(request.app.ctx.settings, query, request.args.get("metric") or "return_rate",
                                   request.args.get("interval") or "month"))


@bp.get("/points")
@openapi.summary("Service-point figures of the authority's points in the period: scans, unique visitors, appointments, ratings")
@_described
async def points(request: Request):
    query = await query_of(request)
    return json({"authority": query.authority.code, "period": query.period.as_dict(),
                 **await stats.point_figures(query)})


@bp.get("/export.xlsx")
@openapi.summary("The dashboard's tables as an XLSX workbook (汇总, 按业务类型, 按登记机关, 月度退件率, 办理时长, 帮办网点, 说明)")
@_described
async def export_xlsx(request: Request):
    query = await query_of(request)
    settings = request.app.ctx.settings
    body = exports.workbook(await stats.summary(settings, query), await stats.monthly_return_rate(settings, query))
    return raw(body, content_type=XLSX, headers=_attachment(query, "xlsx"))


@bp.get("/export.csv")
@openapi.summary("One of the dashboard's tables as CSV (UTF-8 with BOM): table=summary|business_types|authorities|monthly|durations|points")
@openapi.parameter("table", str, location="query")
@_described
async def export_csv(request: Request):
    table = request.args.get("table") or "authorities"
    if table not in StatisticsTable.values():
        raise Invalid("table", f"table：取值应为 {', '.join(StatisticsTable.values())}")
    query = await query_of(request)
    settings = request.app.ctx.settings
    monthly = await stats.monthly_return_rate(settings, query) if table == "monthly" else None
    text = exports.csv_text(await stats.summary(settings, query), monthly, table)
    return raw(text.encode("utf-8"), content_type="text/csv; charset=utf-8", headers=_attachment(query, "csv", table))


def _attachment(query: stats.Query, extension: str, table: str | None = None) -> dict:
    name = f"stats-{query.authority.code}-{query.period.first:%Y%m%d}-{query.period.last:%Y%m%d}"
    name += f"-{table}" if table else ""
    title = f"登记业务统计-{query.authority.name}-{query.period.first:%Y%m%d}-{query.period.last:%Y%m%d}"
    title += f"-{StatisticsTable(table).label}" if table else ""
    return {"Content-Disposition": f"attachment; filename=\"{name}.{extension}\"; "
                                   f"filename*=UTF-8''{quote(title)}.{extension}", "Cache-Control": "no-store"}


@bp.get("/reports")
@openapi.summary("The weekly reports of the authority (default: the caller's) and those under it, newest first")
@openapi.parameter("authority", str, location="query")
@openapi.secured("bearer")
async def reports(request: Request):
    staff = await current_staff(request)
    query = await stats.build_query(staff, request.args, parse_period({}, ZONE))
    return json(await weekly.reports_for(staff, query.authority))


@bp.get("/reports/<report_id:int>/<kind:xlsx|pdf>")
@openapi.summary("One weekly report as XLSX or PDF")
@openapi.secured("bearer")
async def report_file(request: Request, report_id: int, kind: str):
    staff = await current_staff(request)
    report, data = await weekly.report_file(request.app.ctx.settings, staff, report_id, kind)
    name = f"weekly-{report.authority_id}-{report.period_from:%Y%m%d}.{kind}"
    return raw(data, content_type=XLSX if kind == "xlsx" else "application/pdf",
               headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})

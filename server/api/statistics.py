"""Statistics routes (staff, scoped by authority): summary, series, service points, exports, weekly reports."""
from __future__ import annotations

from sanic import Blueprint, Request, json
from sanic_ext import openapi

from server.api.http import current_staff
from server.services.statistics import summary as stats
from server.services.statistics.periods import parse_period

bp = Blueprint("statistics", url_prefix="/api/v1/stats")

QUERY_PARAMETERS = ("authority", "from", "to", "period", "business_type", "entity_type")


def _described(handler):
    for name in QUERY_PARAMETERS:
        handler = openapi.parameter(name, str, location="query")(handler)
    return openapi.secured("bearer")(handler)


async def query_of(request: Request) -> stats.Query:
    staff = await current_staff(request)
    settings = request.app.ctx.settings
    return await stats.build_query(staff, request.args, parse_period(request.args, stats.zone_of(settings)))


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
@openapi.summary("Service-point figures (scans, unique visitors) of the authority's points in the period")
@_described
async def points(request: Request):
    query = await query_of(request)
    return json({"authority": query.authority.code, "period": query.period.as_dict(),
                 **await stats.point_figures(query)})

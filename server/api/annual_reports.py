"""年报 for staff: the 年报公示率 per authority (for the statistics dashboard) and the helpers' follow-up list."""
from __future__ import annotations

from sanic import Blueprint, Request, json
from sanic_ext import openapi

from server.api.http import current_staff
from server.api.http import int_arg
from server.services.annual_reports import reminders, reports

bp = Blueprint("annual_reports", url_prefix="/api/v1/annual-reports")


@bp.get("/rates")
@openapi.summary("年报公示率 per authority of the staff member's scope for `year` (default: last year)")
@openapi.parameter("year", int)
@openapi.secured("bearer")
@openapi.response(200, description="{year, active, reported, rate, authorities: [{authority_code, authority_name, "
                                    "active, reported, rate}]}")
@openapi.response(422, description="year outside 2013 … last year")
async def rates(request: Request):
    staff = await current_staff(request)
    year = int_arg(request, "year", 0) or None
    return json(await reports.rates_for_staff(staff, year))


@bp.get("/unreported")
@openapi.summary("Active entities that have not reported (follow-up list for helpers), with the reminders sent; "
                 "liaison phones masked")
@openapi.parameter("authority", str)
@openapi.parameter("year", int)
@openapi.parameter("page", int)
@openapi.parameter("page_size", int)
@openapi.secured("bearer")
@openapi.response(200, description="{year, total, items: [{credit_code, name, liaison_phone_masked, reminders_sent}]}")
async def unreported(request: Request):
    staff = await current_staff(request)
    return json(await reminders.unreported(
        staff, authority=request.args.get("authority") or None, year=int_arg(request, "year", 0) or None,
        page=int_arg(request, "page", 1), page_size=int_arg(request, "page_size", 50)))

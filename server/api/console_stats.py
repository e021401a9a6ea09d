"""The console's statistics dashboard (/console/stats): cards with 同比, SVG charts, tables, exports, weekly reports."""
from __future__ import annotations

from urllib.parse import urlencode

from markupsafe import Markup
from sanic import Blueprint, Request, redirect
from sanic_ext import openapi

from server.api.console import SESSION_COOKIE, _page, _staff, csrf_token_for
from server.errors import DomainError
from server.models.applications import BUSINESS_TYPES, ENTITY_TYPES
from server.models.authorities import Authority
from server.services.authorities import scope_prefix
from server.services.statistics import charts, weekly
from server.services.statistics import summary as stats
from server.services.statistics.definitions import FIGURES, PERIOD_NOTE, ZONE
from server.services.statistics.periods import parse_period
from server.vocabulary import BusinessType, EntityType, StatisticsPeriod

bp = Blueprint("console_stats", url_prefix="/console/stats")

CARDS = ("submitted", "return_rate", "cloud_share", "first_pass_rate", "signatures_saved", "hours_saved")
# For these a fall is good news: the 同比 arrow is drawn green when it points down.
LOWER_IS_BETTER = {"return_rate", "returned"}


@bp.get("")
@openapi.summary("Console: the statistics dashboard")
async def dashboard(request: Request):
    staff = await _staff(request)
    if staff is None:
        return redirect("/console/login")
    settings = request.app.ctx.settings
    args = {key: value for key, value in request.args.items() if value and value[0]}
    args = {key: value[0] for key, value in args.items()}
    if args.get("period") == "custom":
        args.pop("period")
    authorities = await Authority.filter(code__startswith=scope_prefix(staff.authority_id)).order_by("code")
    context = {"staff": staff, "csrf_token": csrf_token_for(request, request.cookies.get(SESSION_COOKIE, "")),
               "args": args, "presets": dict(StatisticsPeriod.choices()), "authorities": authorities,
               "business_types": [(code, BusinessType(code).label) for code in BUSINESS_TYPES],
               "entity_types": [(code, EntityType(code).label) for code in ENTITY_TYPES],
               "figures_meta": FIGURES, "period_note": PERIOD_NOTE}
    try:
        query = await stats.build_query(staff, args, parse_period(args, ZONE))
        summary = await stats.summary(settings, query)
        monthly = await stats.monthly_return_rate(settings, query)
    except DomainError as exc:
        return _page(request, "stats.html", status=exc.status, error=exc.message, summary=None, **context)
    this_year = monthly["period"]["to"][:4]
    svg = {
        "trend": charts.return_rate_by_month(monthly["points"], f"{this_year}年", f"{int(this_year) - 1}年同期"),
        "cloud": charts.cloud_share_by_business_type(summary["by_business_type"]),
        "durations": charts.durations(summary["durations"]),
    }
    export_query = urlencode({"authority": query.authority.code, "from": query.period.first.isoformat(),
                              "to": query.period.last.isoformat(),
                              **{k: v for k, v in (("business_type", query.business_type),
                                                   ("entity_type", query.entity_type)) if v}})
    return _page(request, "stats.html", summary=summary, monthly=monthly, cards=CARDS,
                 lower_is_better=LOWER_IS_BETTER, charts={key: Markup(value) for key, value in svg.items()},
                 export_query=export_query, reports=await weekly.reports_for(staff, query.authority), **context)

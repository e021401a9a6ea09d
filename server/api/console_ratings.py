"""The console's 好差评 page (/console/ratings): ratings per point and per helper, and the follow-ups of bad ones
answered in writing. Admins only; the same rating services as the admin API."""
from __future__ import annotations

from sanic import Blueprint, Request, redirect
from sanic_ext import openapi

from server.api.console import (
    SESSION_COOKIE,
    _check_csrf,
    _page,
    _staff,
    csrf_token_for,
)
from server.errors import DomainError
from server.services.accounts import staff as staff_service
from server.services.appointments import ratings

bp = Blueprint("console_ratings", url_prefix="/console/ratings")
DONE = {"responded": "已回复，申请人可在评价记录中查看"}


async def _ratings_page(request: Request, staff, status: int = 200, error: str | None = None):
    context = {"staff": staff, "csrf_token": csrf_token_for(request, request.cookies.get(SESSION_COOKIE, ""))}
    try:
        staff_service.require_role(staff, "admin")
        summary = await ratings.summary(staff)
        items = await ratings.follow_ups(staff, "open")
    except DomainError as exc:
        return _page(request, "ratings.html", status=exc.status, error=exc.message, summary=None, **context)
    return _page(request, "ratings.html", status=status, error=error, summary=summary, follow_ups=items,
                 done=DONE.get(request.args.get("done", "")), **context)


@bp.get("")
@openapi.summary("Console: ratings per point and per helper, open follow-ups")
async def page(request: Request):
    staff = await _staff(request)
    if staff is None:
        return redirect("/console/login")
    return await _ratings_page(request, staff)


@bp.post("/follow-ups/<follow_up_id:int>/respond")
@openapi.summary("Console: answer a bad rating in writing (form)")
async def respond(request: Request, follow_up_id: int):
    staff = await _staff(request)
    if staff is None:
        return redirect("/console/login", status=303)
    _check_csrf(request, csrf_token_for(request, request.cookies.get(SESSION_COOKIE, "")))
    try:
        staff_service.require_role(staff, "admin")
        await ratings.respond(staff, follow_up_id, request.form.get("response") or "")
    except DomainError as exc:
        return await _ratings_page(request, staff, status=exc.status, error=exc.message)
    return redirect("/console/ratings?done=responded", status=303)

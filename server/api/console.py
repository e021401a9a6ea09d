"""The back-office console (综合业务系统): server-rendered pages over the same review services as the API.

The session is the `yct_staff` cookie (SameSite=Strict); every form carries a per-session CSRF token.
"""
from __future__ import annotations

import hmac
import secrets
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sanic import Blueprint, Request, html, redirect
from sanic_ext import openapi

from server.api.http import csrf_token_for, current_staff
from server.api.review import origin_of
from server.errors import DomainError, Forbidden, Unauthorized
from server.models.accounts import Staff
from server.services.accounts import sessions
from server.services.accounts import staff as staff_service
from server.services.review import access, audit, decisions, queue, views
from server.vocabulary import ApplicationStatus, BusinessType, EvidenceKind, NameCheckLevel

bp = Blueprint("console", url_prefix="/console")

SESSION_COOKIE = "yct_staff"
LOGIN_CSRF_COOKIE = "yct_login_csrf"
DONE_MESSAGES = {"approve-lock": "已云帮办通过，材料已锁定，已通知申请人签名", "return": "已退回修改，已通知申请人",
                 "accept": "已受理", "approve": "已核准", "reject": "已驳回",
                 "unlock": "已撤销锁定并退回修改，已通知申请人和签字人"}


def _check_csrf(request: Request, expected: str | None) -> None:
    sent = request.form.get("csrf_token") or ""
    if not expected or not hmac.compare_digest(sent, expected):
        raise Forbidden("页面已过期或来源不明，请刷新后重试")


def _cookie(request: Request, response, name: str, value: str, max_age: int) -> None:
    response.add_cookie(name, value, httponly=True, samesite="Strict", path="/", max_age=max_age,
                        secure=request.app.ctx.settings.base_url.startswith("https://"))


def _local(request: Request):
    zone = ZoneInfo(request.app.ctx.settings.review.timezone)

    def local(value: str | None) -> str:
        return datetime.fromisoformat(value).astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""

    return local


def _page(request: Request, template: str, status: int = 200, **context):
    page = request.app.ctx.templates.get_template(f"console/{template}").render(local=_local(request), **context)
    return html(page, status=status, headers={"Cache-Control": "no-store"})


async def _staff(request: Request) -> Staff | None:
    try:
        return await current_staff(request)
    except Unauthorized:
        return None


@bp.get("/login")
@openapi.summary("Console: the staff login form")
async def login_form(request: Request):
    token = secrets.token_urlsafe(24)
    response = _page(request, "login.html", csrf_token=token)
    _cookie(request, response, LOGIN_CSRF_COOKIE, token, 3600)
    return response


@bp.post("/login")
@openapi.summary("Console: log in (form) → the yct_staff session cookie")
async def login(request: Request):
    username = (request.form.get("username") or "").strip()
    _check_csrf(request, request.cookies.get(LOGIN_CSRF_COOKIE))
    ctx = request.app.ctx
    try:
        result = await staff_service.login(ctx.settings, ctx.cache, username, request.form.get("password") or "",
                                           origin_of(request).ip)
    except DomainError as exc:
        return _page(request, "login.html", status=exc.status, error=exc.message, username=username,
                     csrf_token=request.cookies.get(LOGIN_CSRF_COOKIE))
    response = redirect("/console/queue", status=303)
    _cookie(request, response, SESSION_COOKIE, result["token"], result["expires_in"])
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@bp.post("/logout")
@openapi.summary("Console: log out")
async def logout(request: Request):
    token = request.cookies.get(SESSION_COOKIE)
    if token and await _staff(request):
        _check_csrf(request, csrf_token_for(request, token))
        await sessions.revoke(request.app.ctx.cache, token)
    response = redirect("/console/login", status=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@bp.get("")
@openapi.summary("Console: home (the 待办 list)")
async def home(request: Request):
    return redirect("/console/queue")


@bp.get("/queue")
@openapi.summary("Console: the 待办 list")
async def queue_page(request: Request):
    staff = await _staff(request)
    if staff is None:
        return redirect("/console/login")
    filters = {name: request.args.get(name) or None for name in ("status", "business_type", "authority")}
    context = {"staff": staff, "csrf_token": csrf_token_for(request, request.cookies.get(SESSION_COOKIE, "")),
               "filters": filters, "statuses": [(code, ApplicationStatus(code).label) for code in queue.WAITING_STATUSES],
               "business_types": BusinessType.choices(),
               "filters_query": urlencode({k: v for k, v in filters.items() if v}),
               "page_query": lambda cursor: urlencode({**{k: v for k, v in filters.items() if v}, "cursor": cursor}),
               "continued": bool(request.args.get("cursor"))}
    try:
        result = await queue.queue(staff, cursor=request.args.get("cursor") or None, **filters)
    except DomainError as exc:
        empty = {"items": [], "total": 0, "total_exact": True, "page_size": 20, "next_cursor": None}
        return _page(request, "queue.html", status=exc.status, result=empty, error=exc.message, **context)
    local = _local(request)
    for item in result["items"]:
        item["due_local"] = local(item["due_at"])
    return _page(request, "queue.html", result=result, **context)


async def _detail_page(request: Request, staff: Staff, application_id, status: int = 200, error: str | None = None,
                       done: str | None = None):
    application = await access.application_for_staff(staff, application_id)
    await audit.record(staff, origin_of(request), "view", application)
    detail = await views.staff_view(staff, application)
    signing = await views.signing_progress(application, request.app.ctx.settings)
    return _page(request, "application.html", status=status, staff=staff, app=detail, signing=signing, error=error,
                 done=done, name_check_levels=dict(NameCheckLevel.choices()),
                 evidence_kinds=dict(EvidenceKind.choices()),
                 can_act=staff.role in access.ACTING_ROLES,
                 csrf_token=csrf_token_for(request, request.cookies.get(SESSION_COOKIE, "")))


@bp.get("/applications/<application_id:uuid>")
@openapi.summary("Console: one application in full, with its actions")
async def application_page(request: Request, application_id):
    staff = await _staff(request)
    if staff is None:
        return redirect("/console/login")
    try:
        return await _detail_page(request, staff, application_id, done=DONE_MESSAGES.get(request.args.get("done")))
    except DomainError as exc:
        return _page(request, "base.html", status=exc.status, staff=staff, error=exc.message,
                     csrf_token=csrf_token_for(request, request.cookies.get(SESSION_COOKIE, "")))


def _return_comments(request: Request) -> list[dict]:
    """The return form has one input per field and attachment; the filled ones are the comments."""
    comments = []
    for name, values in request.form.items():
        message = (values[0] if values else "").strip()
        if not message:
            continue
        if name.startswith("comment:"):
            comments.append({"field": name[len("comment:"):], "message": message})
        elif name.startswith("attachment:"):
            comments.append({"attachment_id": name[len("attachment:"):], "message": message})
    return comments


@bp.post("/applications/<application_id:uuid>/<action:approve-lock|return|unlock|accept|approve|reject>")
@openapi.summary("Console: approve-and-lock, return, 撤销锁定, accept, approve or reject (form)")
async def act(request: Request, application_id, action: str):
    staff = await _staff(request)
    if staff is None:
        return redirect("/console/login", status=303)
    _check_csrf(request, csrf_token_for(request, request.cookies.get(SESSION_COOKIE, "")))
    origin = origin_of(request)
    try:
        if action == "approve-lock":
            await decisions.approve_and_lock(staff, application_id, origin, request.app.ctx.settings,
                                             request.app.ctx.wechat)
        elif action == "return":
            await decisions.return_for_changes(staff, application_id, _return_comments(request), origin)
        elif action == "unlock":
            await decisions.unlock(staff, application_id, request.form.get("reason") or "", origin)
        elif action == "accept":
            await decisions.accept(staff, application_id, origin)
        elif action == "approve":
            await decisions.approve(staff, application_id, origin, request.app.ctx.settings, request.app.ctx.cache)
        else:
            await decisions.reject(staff, application_id, request.form.get("reason") or "", origin,
                                   request.app.ctx.settings, request.app.ctx.cache)
    except DomainError as exc:
        return await _detail_page(request, staff, application_id, status=exc.status, error=exc.message)
    return redirect(f"/console/applications/{application_id}?done={action}", status=303)

"""Console pages after approval: the window's licenses (发照窗口) and 容e查, over the same services as the API."""
from __future__ import annotations

from sanic import Blueprint, Request, redirect
from sanic_ext import openapi

from server.api.console import SESSION_COOKIE, _check_csrf, _page, _staff, csrf_token_for
from server.api.review import origin_of
from server.errors import DomainError, Invalid
from server.models.accounts import Staff
from server.services.applications.identifiers import ID_TYPES
from server.services.archive import search
from server.services.licenses import service as licenses
from server.vocabulary import IdType

bp = Blueprint("console_after_approval", url_prefix="/console")

DONE = {"ready": "已登记打印，已短信通知申请人领取", "hand-over": "已登记领取，已短信通知申请人",
        "post": "已登记邮寄，已短信通知申请人", "old-license": "已登记原营业执照收缴情况"}


def _csrf(request: Request) -> str:
    return csrf_token_for(request, request.cookies.get(SESSION_COOKIE, ""))


async def _licenses_page(request: Request, staff: Staff, status: int = 200, error: str | None = None,
                         done: str | None = None):
    return _page(request, "licenses.html", status=status, staff=staff, csrf_token=_csrf(request), error=error,
                 done=done, items=await licenses.window_queue(staff),
                 id_types=[(code, IdType.label_of(code, code)) for code in ID_TYPES],
                 can_act=staff.role in licenses.WINDOW_ROLES)


@bp.get("/licenses")
@openapi.summary("Console: the licenses waiting at this window (to print, hand over, post)")
async def licenses_page(request: Request):
    staff = await _staff(request)
    if staff is None:
        return redirect("/console/login")
    return await _licenses_page(request, staff, done=DONE.get(request.args.get("done")))


@bp.post("/licenses/<license_id:str>/<action:ready|hand-over|post|old-license>")
@openapi.summary("Console: record printing, hand-over, posting or the old license (form)")
async def license_action(request: Request, license_id: str, action: str):
    staff = await _staff(request)
    if staff is None:
        return redirect("/console/login", status=303)
    _check_csrf(request, _csrf(request))
    form, origin = request.form, origin_of(request)
    try:
        if action == "ready":
            await licenses.mark_ready(staff, origin, license_id, form.get("serial_number") or "")
        elif action == "hand-over":
            await licenses.hand_over(staff, origin, license_id, form.get("serial_number") or "",
                                     form.get("collected_by") or "", form.get("id_type") or "resident_id",
                                     form.get("id_number") or "", form.get("id_checked") == "yes")
        elif action == "post":
            await licenses.post(staff, origin, license_id, form.get("serial_number") or "", form.get("carrier") or "",
                                form.get("tracking_number") or "")
        else:
            outcome = form.get("outcome")
            if outcome not in ("collected", "lost"):
                raise Invalid("outcome", "请选择已收缴或已声明遗失")
            await licenses.settle_old_license(staff, origin, license_id, outcome, form.get("old_serial_number"),
                                              form.get("reason"))
    except DomainError as exc:
        return await _licenses_page(request, staff, status=exc.status, error=exc.message)
    return redirect(f"/console/licenses?done={action}", status=303)


@bp.get("/archive")
@openapi.summary("Console: 容e查, the archive search (every search audited)")
async def archive_page(request: Request):
    staff = await _staff(request)
    if staff is None:
        return redirect("/console/login")
    query = {name: (request.args.get(name) or "").strip() or None
             for name in ("credit_code", "name", "applicant", "from", "to")}
    context = {"staff": staff, "csrf_token": _csrf(request), "query": query, "result": None}
    if not any(query.values()):
        return _page(request, "archive.html", **context)
    try:
        context["result"] = await search.search(
            staff, origin_of(request), request.app.ctx.settings, credit_code=query["credit_code"], name=query["name"],
            applicant=query["applicant"], date_from=query["from"], date_to=query["to"])
    except DomainError as exc:
        return _page(request, "archive.html", status=exc.status, error=exc.message, **context)
    return _page(request, "archive.html", **context)

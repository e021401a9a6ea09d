"""Staff login for the back office (综合业务系统): a bearer token, plus a session cookie for the console."""
from __future__ import annotations

from pydantic import Field
from sanic import Blueprint, Request, json
from sanic_ext import openapi

from server.api.http import RequestModel, bearer_token, client_ip, current_staff, parse
from server.services.accounts import sessions
from server.services.accounts import staff as staff_service

bp = Blueprint("staff", url_prefix="/api/v1/staff")
admin_bp = Blueprint("staff_admin", url_prefix="/api/v1/admin")


class StaffLoginIn(RequestModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


@bp.post("/login")
@openapi.summary("Staff login → token and console cookie")
@openapi.body({"application/json": StaffLoginIn})
@openapi.response(401, description="unknown user, wrong password or locked account: one answer for all three")
@openapi.response(429, description="too many attempts from this address")
async def login(request: Request):
    body = parse(request, StaffLoginIn)
    ctx = request.app.ctx
    result = await staff_service.login(ctx.settings, ctx.cache, body.username, body.password, client_ip(request))
    response = json(result)
    response.add_cookie("yct_staff", result["token"], httponly=True, samesite="Strict", path="/",
                        max_age=result["expires_in"], secure=ctx.settings.base_url.startswith("https://"))
    return response


@bp.post("/logout")
@openapi.summary("Revoke the staff session")
@openapi.secured("bearer")
async def logout(request: Request):
    await current_staff(request)
    await sessions.revoke(request.app.ctx.cache, bearer_token(request) or request.cookies.get("yct_staff"))
    response = json({"ok": True})
    response.delete_cookie("yct_staff", path="/")
    return response


@bp.get("/me")
@openapi.summary("The logged-in staff member")
@openapi.secured("bearer")
async def me(request: Request):
    return json(staff_service.staff_view(await current_staff(request)))


@admin_bp.post("/staff/<staff_id:int>/unlock")
@openapi.summary("Lift a staff member's login lockout (admin, within the authority's scope; audited)")
@openapi.secured("bearer")
@openapi.response(200, description="the staff member, unlocked")
@openapi.response(403, description="not an admin")
@openapi.response(404, description="no such staff member in my scope")
async def unlock(request: Request, staff_id: int):
    admin = await current_staff(request)
    return json(await staff_service.unlock(admin, staff_id, client_ip(request), request.headers.get("user-agent", "")))

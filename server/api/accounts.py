"""Applicant login and phone binding for the mini-program."""
from __future__ import annotations

from pydantic import Field
from sanic import Blueprint, Request, json
from sanic_ext import openapi

from server.api.http import RequestModel, applicant_record, bearer_token, client_ip, current_applicant, parse
from server.api.schemas import LoginOut, content
from server.errors import Invalid
from server.services.accounts import applicants as accounts
from server.services.accounts import sessions
from server.services.notifications import messages as notifications

bp = Blueprint("accounts", url_prefix="/api/v1/mp")


class LoginIn(RequestModel):
    code: str = Field(min_length=1, max_length=128)


class PhoneIn(RequestModel):
    code: str | None = Field(None, min_length=1, max_length=128)
    phone: str | None = Field(None, min_length=1, max_length=20)
    sms_code: str | None = Field(None, min_length=1, max_length=16)


@bp.post("/login")
@openapi.summary("Exchange a wx.login code for a session token (jscode2session)")
@openapi.body({"application/json": LoginIn})
@openapi.response(200, content(LoginOut), description="{token, expires_in, applicant: {id, phone}}")
@openapi.response(422, description="invalid or used code")
@openapi.response(429, description="too many attempts")
@openapi.response(503, description="WeChat unreachable")
async def login(request: Request):
    body = parse(request, LoginIn)
    ctx = request.app.ctx
    return json(await accounts.login(ctx.settings, ctx.cache, ctx.wechat, body.code, client_ip(request)))


@bp.post("/phone")
@openapi.summary("Bind the phone number from getPhoneNumber's code, or from {phone, sms_code}")
@openapi.body({"application/json": PhoneIn})
@openapi.secured("bearer")
@openapi.response(422, description="invalid WeChat code, or wrong / expired / locked SMS code (field sms_code)")
async def bind_phone(request: Request):
    me = await current_applicant(request)
    body = parse(request, PhoneIn)
    if body.code:
        return json(await accounts.bind_phone_from_wechat(request.app.ctx.wechat, me.id, body.code))
    if body.phone or body.sms_code:
        if not body.phone:
            raise Invalid("phone", "请填写手机号")
        if not body.sms_code:
            raise Invalid("sms_code", "请填写短信验证码")
        ctx = request.app.ctx
        await notifications.verify_sms_code(ctx.cache, ctx.settings, body.phone, body.sms_code)
        return json(await accounts.bind_verified_phone(me.id, body.phone))
    raise Invalid("code", "请提供微信手机号授权 code，或手机号和短信验证码")


@bp.post("/logout")
@openapi.summary("Revoke the current session token")
@openapi.secured("bearer")
async def logout(request: Request):
    await applicant_record(request)
    await sessions.revoke(request.app.ctx.cache, bearer_token(request))
    return json({"ok": True})


@bp.get("/me")
@openapi.summary("The logged-in applicant")
@openapi.secured("bearer")
async def me(request: Request):
    return json(accounts.applicant_view(await applicant_record(request)))

"""SMS verification codes for applicants, the staff view of the outbox, and the development SMS sink."""
from __future__ import annotations

from pydantic import Field
from sanic import Blueprint, Request, html, json
from sanic_ext import openapi

from server.api.http import RequestModel, current_applicant, current_staff, int_arg, parse
from server.models.notifications import CHANNELS, OUTBOX_STATUSES
from server.services.notifications import messages as notifications

bp = Blueprint("notifications")
# Mounted only in development while sms.provider is dev_sink: what the sink received, readable without a phone.
dev_bp = Blueprint("dev_sms", url_prefix="/dev")
DEV_SINK_NOTICE = "开发用短信接收器：这里的短信没有发给任何手机，仅用于开发和测试；生产环境没有此页面。"
DEV_SINK_NOTICE_EN = "development SMS sink: nothing here was sent to a phone; production has no such page"


class SmsCodeIn(RequestModel):
    phone: str = Field(min_length=1, max_length=20)


@bp.post("/api/v1/mp/sms-code")
@openapi.summary("Send a 6-digit SMS verification code to a phone (per-phone limits like the providers')")
@openapi.body({"application/json": SmsCodeIn})
@openapi.secured("bearer")
@openapi.response(200, description="{expires_in}: seconds the code stays valid")
@openapi.response(422, description="not a mainland mobile number (field phone)")
@openapi.response(429, description="per-phone limit reached: error.retry_after seconds (also the Retry-After header)")
async def request_sms_code(request: Request):
    await current_applicant(request)
    body = parse(request, SmsCodeIn)
    ctx = request.app.ctx
    result = await notifications.send_sms_code(ctx.cache, ctx.settings, body.phone)
    ctx.outbox.wake()
    return json(result)


@bp.get("/api/v1/admin/messages")
@openapi.summary("The outbox for administrators: status, attempts, last error; phones masked")
@openapi.secured("bearer")
@openapi.parameter("status", str, description=" | ".join(OUTBOX_STATUSES))
@openapi.parameter("channel", str, description=" | ".join(CHANNELS))
@openapi.parameter("limit", int, description="1–200, default 50")
@openapi.parameter("cursor", str, description="next_cursor of the previous page")
@openapi.response(200, description="{total, total_exact, next_cursor, counts: {status: n}, items: [{id, channel, recipient, template, status, "
                                    "attempts, last_error, next_attempt_at, created_at, sent_at}]}")
@openapi.response(401, description="not logged in")
@openapi.response(403, description="not an administrator")
@openapi.response(422, description="unknown status or channel, limit out of range, bad cursor")
async def list_messages(request: Request):
    staff = await current_staff(request)
    return json(await notifications.messages_for_staff(
        staff, status=request.args.get("status") or None, channel=request.args.get("channel") or None,
        limit=int_arg(request, "limit", 50, 1, 200), cursor=request.args.get("cursor") or None),
        ensure_ascii=False)


@dev_bp.get("/sms")
@openapi.summary("Development only: what the SMS sink received, newest first")
@openapi.parameter("phone", str, description="only this phone")
@openapi.parameter("limit", int, description="1–1000, default 100")
@openapi.response(200, description="[{id, phone, template, params, text, at}]; id is the outbox message id. "
                                    "A browser (Accept: text/html) gets the same as a page under the sink's notice.")
async def list_dev_sms(request: Request):
    limit = int_arg(request, "limit", 100, 1, 1000)
    messages = await notifications.dev_sms(request.args.get("phone") or None, limit)
    headers = {"X-Development-Sink": DEV_SINK_NOTICE_EN}
    if "text/html" in request.headers.get("accept", ""):
        page = request.app.ctx.templates.get_template("dev/sms.html").render(notice=DEV_SINK_NOTICE,
                                                                             messages=messages)
        return html(page, headers=headers)
    return json(messages, ensure_ascii=False, headers=headers)

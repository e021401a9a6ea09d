"""Back-office routes (综合业务系统 API) and the applicant's submit and timeline (办理进度)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field
from sanic import Blueprint, Request, json
from sanic_ext import openapi

from server.api.http import RequestModel, client_ip, current_applicant, current_staff, int_arg, parse
from server.api.schemas import SubmitOut, TimelineOut, content
from server.errors import Invalid
from server.services.review import audit, decisions, idempotency, queue, submission, views
from server.services.review.access import application_for_staff, as_uuid
from server.services.review.audit import Origin

bp = Blueprint("review", url_prefix="/api/v1/review")
applicant_bp = Blueprint("review_applicant", url_prefix="/api/v1/applications")


class SubmitIn(RequestModel):
    flow: Literal["cloud", "general"]


class CommentIn(RequestModel):
    field: str | None = Field(None, max_length=200)
    attachment_id: str | None = Field(None, max_length=64)
    message: str = Field(max_length=decisions.MAX_COMMENT_LENGTH)


class ReturnIn(RequestModel):
    comments: list[CommentIn] = Field(max_length=200)


class RejectIn(RequestModel):
    reason: str = Field(max_length=decisions.MAX_COMMENT_LENGTH)


class UnlockIn(RequestModel):
    reason: str = Field(max_length=decisions.MAX_COMMENT_LENGTH)


class AutoSubmitIn(RequestModel):
    auto_submit: bool


def origin_of(request: Request) -> Origin:
    return Origin(client_ip(request), request.headers.get("user-agent", ""))


# --- applicant -------------------------------------------------------------------------------------------

@applicant_bp.put("/<application_id:uuid>/auto-submit")
@openapi.summary("When the last signature arrives: submit by itself (default) or wait for the applicant's submit")
@openapi.body({"application/json": AutoSubmitIn})
@openapi.secured("bearer")
@openapi.response(200, description="{id, auto_submit}")
@openapi.response(404, description="not found, or not mine")
@openapi.response(409, description="already submitted")
async def auto_submit(request: Request, application_id):
    me = await current_applicant(request)
    body = parse(request, AutoSubmitIn)
    return json(await submission.set_auto_submit(me.id, application_id, body.auto_submit))


@applicant_bp.post("/<application_id:uuid>/submit")
@openapi.summary("Submit: 云帮办 (no signature) or 一般流程 (≥1 valid signature); Idempotency-Key makes a retry harmless")
@openapi.body({"application/json": SubmitIn})
@openapi.parameter("Idempotency-Key", str, location="header")
@openapi.secured("bearer")
@openapi.response(200, content(SubmitOut), description="{id, status, flow, submitted_at, due_at, resubmission, notice}")
@openapi.response(409, description="wrong state, signature_required, signatures_incomplete, flow_locked")
@openapi.response(422, description="invalid flow or Idempotency-Key")
async def submit(request: Request, application_id):
    me = await current_applicant(request)
    body = parse(request, SubmitIn)
    key = idempotency.check_key(request.headers.get("idempotency-key"))
    settings = request.app.ctx.settings
    answer = await idempotency.once(me.id, key, idempotency.fingerprint("submit", str(application_id), body.flow),
                                    lambda: submission.submit(settings, me.id, application_id, body.flow))
    return json(answer)


@applicant_bp.get("/<application_id:uuid>/timeline")
@openapi.summary("办理进度: every step with actor, time and the registrar's comments")
@openapi.secured("bearer")
@openapi.response(200, content(TimelineOut), description="[{at, actor, action, from_status, to_status, comments}]")
@openapi.response(404, description="not my application")
async def timeline(request: Request, application_id):
    me = await current_applicant(request)
    return json(await views.applicant_timeline(me.id, application_id))


# --- staff -----------------------------------------------------------------------------------------------

@bp.get("/queue")
@openapi.summary("The 待办 list with due_at and overdue: overdue first, then resubmissions, then by due time")
@openapi.parameter("status", str)
@openapi.parameter("business_type", str)
@openapi.parameter("authority", str)
@openapi.parameter("cursor", str, description="next_cursor of the previous page")
@openapi.parameter("page_size", int)
@openapi.secured("bearer")
@openapi.response(200, description="{items: [...], total, total_exact, page_size, next_cursor}; personal data masked")
@openapi.response(422, description="a filter names an unknown value")
async def review_queue(request: Request):
    staff = await current_staff(request)
    return json(await queue.queue(
        staff, status=request.args.get("status") or None, business_type=request.args.get("business_type") or None,
        authority=request.args.get("authority") or None, cursor=request.args.get("cursor") or None,
        page_size=int_arg(request, "page_size", 20)))


@bp.get("/audit")
@openapi.summary("The append-only audit log of staff actions in the administrator's scope, newest first")
@openapi.parameter("application_id", str)
@openapi.parameter("cursor", str, description="next_cursor of the previous page")
@openapi.parameter("page_size", int)
@openapi.secured("bearer")
@openapi.response(200, description="{items: [{at, username, role, action, application_id, ip, user_agent, ...}], "
                                   "total, total_exact, page_size, next_cursor}")
@openapi.response(403, description="administrators only")
async def audit_log(request: Request):
    staff = await current_staff(request)
    raw_id = request.args.get("application_id")
    application_id = as_uuid(raw_id) if raw_id else None
    if raw_id and application_id is None:
        raise Invalid("application_id", "application_id：应为申请编号")
    return json(await audit.search(staff, application_id=application_id, cursor=request.args.get("cursor") or None,
                                   page_size=int_arg(request, "page_size", 50)))


@bp.get("/applications/<application_id:uuid>")
@openapi.summary("Everything about one application: parties, attachments, name re-check, timeline")
@openapi.secured("bearer")
@openapi.response(404, description="unknown or outside the staff member's authority")
async def application_detail(request: Request, application_id):
    staff = await current_staff(request)
    application = await application_for_staff(staff, application_id)
    await audit.record(staff, origin_of(request), "view", application)
    return json(await views.staff_view(staff, application))


@bp.post("/applications/<application_id:uuid>/approve-lock")
@openapi.summary("云帮办通过: lock the materials (canonical snapshot + SHA-256) and send them back for signing")
@openapi.secured("bearer")
@openapi.response(200, description="{id, status, snapshot_hash, signing_requests: [{id, party_id, name, method, expires_at}]}")
@openapi.response(403, description="not a reviewer")
@openapi.response(409, description="not in cloud_review, or someone else acted first")
async def approve_lock(request: Request, application_id):
    staff = await current_staff(request)
    ctx = request.app.ctx
    return json(await decisions.approve_and_lock(staff, application_id, origin_of(request), ctx.settings, ctx.wechat))


@bp.post("/applications/<application_id:uuid>/return")
@openapi.summary("退回修改 with one complete list of comments, each naming a field or an attachment")
@openapi.body({"application/json": ReturnIn})
@openapi.secured("bearer")
@openapi.response(409, description="state does not allow a return")
@openapi.response(422, description="empty list, or a comment names no field/attachment of this application")
async def return_for_changes(request: Request, application_id):
    staff = await current_staff(request)
    body = parse(request, ReturnIn)
    comments = [comment.model_dump() for comment in body.comments]
    return json(await decisions.return_for_changes(staff, application_id, comments, origin_of(request)))


@bp.post("/applications/<application_id:uuid>/accept")
@openapi.summary("受理; a 云帮办 application is re-verified against its locked snapshot (云帮办所有签名已完成)")
@openapi.secured("bearer")
@openapi.response(200, description="{id, status, notice, snapshot_hash}")
@openapi.response(409, description="not submitted, or snapshot_mismatch")
async def accept(request: Request, application_id):
    staff = await current_staff(request)
    return json(await decisions.accept(staff, application_id, origin_of(request)))


@bp.post("/applications/<application_id:uuid>/approve")
@openapi.summary("核准 → {credit_code} of the new or changed entity")
@openapi.secured("bearer")
@openapi.response(200, description="{id, status, credit_code}")
@openapi.response(409, description="not accepted")
async def approve(request: Request, application_id):
    staff = await current_staff(request)
    ctx = request.app.ctx
    return json(await decisions.approve(staff, application_id, origin_of(request), ctx.settings, ctx.cache))


@bp.post("/applications/<application_id:uuid>/unlock")
@openapi.summary("撤销锁定 with a reason: locked_signing → returned, signatures voided, open links dead")
@openapi.body({"application/json": UnlockIn})
@openapi.secured("bearer")
@openapi.response(409, description="not locked for signing")
@openapi.response(422, description="empty reason")
async def unlock(request: Request, application_id):
    staff = await current_staff(request)
    body = parse(request, UnlockIn)
    return json(await decisions.unlock(staff, application_id, body.reason, origin_of(request)))


@bp.post("/applications/<application_id:uuid>/reject")
@openapi.summary("驳回 with a reason")
@openapi.body({"application/json": RejectIn})
@openapi.secured("bearer")
@openapi.response(409, description="not accepted")
@openapi.response(422, description="empty reason")
async def reject(request: Request, application_id):
    staff = await current_staff(request)
    body = parse(request, RejectIn)
    ctx = request.app.ctx
    return json(await decisions.reject(staff, application_id, body.reason, origin_of(request), ctx.settings, ctx.cache))

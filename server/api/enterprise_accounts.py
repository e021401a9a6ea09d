"""Legal-person account routes (seed 001): the registrant's, the legal representative's link, staff review, coverage."""
from __future__ import annotations

import asyncio
from datetime import date
from zoneinfo import ZoneInfo

from pydantic import Field
from sanic import Blueprint, Request, html, json, raw, redirect, text
from sanic_ext import openapi

from server import storage
from server.api import console
from server.api.http import (PRIVATE_FILE, RequestModel, client_ip, current_applicant, current_staff, int_arg,
                             json_body, parse, stored_file, uploaded_file, user_agent)
from server.api.review import origin_of
from server.api.signing import FaceIn, SignatureIn, face_passed, signature_evidence
from server.errors import DomainError, Gone, Invalid, Malformed, NotFound
from server.services.accounts.staff import require_role
from server.services.enterprise_accounts import authorisation, coverage, letter_pdf, review, service
from server.services.enterprise_accounts.service import AGENT_NOTICE

bp = Blueprint("enterprise_accounts")

_ACCOUNT = "the account: {id, credit_code, entity_name, registrant, registrant_label, status, status_label, message, legal_rep, agent?, " \
           "notice? (agent, before submitting), signing? {expires_at, link?}, resign_required? (rejected), history}"


class SubmitIn(RequestModel):
    verify_result: str | None = Field(None, max_length=512)


class ReasonIn(RequestModel):
    reason: str = Field(min_length=1, max_length=500)


def _object_body(request: Request) -> dict:
    body = json_body(request)
    if not isinstance(body, dict):
        raise Malformed("请求体应为 JSON 对象")
    return body


def _no_store(response):
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- the registrant (mini-program) ---------------------------------------------------------------------------
@bp.post("/api/v1/enterprise-accounts")
@openapi.summary("法人注册: a draft account for a registered entity (我是法定代表人 / 我是代理人)")
@openapi.description("{credit_code, entity_name, registrant: legal_rep|agent, legal_rep: {name, id_type, id_number, phone}, "
                     "agent?: {name, id_type, id_number, phone}}. The credit code and name must match the registry. "
                     f"An agent's answer carries `notice` ({AGENT_NOTICE}) for the client to show before submitting. "
                     "A legal representative without a 居民身份证 is a 422 (code offline_route_required) naming the offline route.")
@openapi.secured("bearer")
@openapi.response(201, description=_ACCOUNT)
@openapi.response(409, description="the enterprise already has an account, or one is signing or in review")
@openapi.response(422, description="a field is invalid (error.field names it)")
async def register(request: Request):
    me = await current_applicant(request)
    account = await service.register(me.id, _object_body(request))
    return json(await service.view(account), status=201, ensure_ascii=False)


@bp.get("/api/v1/enterprise-accounts")
@openapi.summary("My legal-person registrations (法人注册结果), newest first")
@openapi.secured("bearer")
async def list_mine(request: Request):
    me = await current_applicant(request)
    return json(await service.list_for_applicant(me.id), ensure_ascii=False)


@bp.get("/api/v1/enterprise-accounts/<account_id:str>")
@openapi.summary("One of my registrations (or one naming me, by my verified phone, as legal representative) with its state, what it means and its history")
@openapi.secured("bearer")
@openapi.response(200, description=_ACCOUNT)
@openapi.response(404, description="not found, or not mine")
async def read(request: Request, account_id: str):
    me = await current_applicant(request)
    account = await service.readable_by(me.id, account_id)
    return json(await service.view(account), ensure_ascii=False)


@bp.put("/api/v1/enterprise-accounts/<account_id:str>")
@openapi.summary("Correct the registration (draft, rejected, expired or declined): the whole form again")
@openapi.secured("bearer")
@openapi.response(200, description=_ACCOUNT + "; after a rejection resign_required says whether a new signature is needed")
@openapi.response(409, description="signing, in review or approved: not editable")
@openapi.response(422, description="a field is invalid")
async def edit(request: Request, account_id: str):
    me = await current_applicant(request)
    account = await service.get_for_applicant(me.id, account_id)
    account = await service.edit(account, _object_body(request))
    return json(await service.view(account), ensure_ascii=False)


@bp.post("/api/v1/enterprise-accounts/<account_id:str>/license")
@openapi.summary("Upload the business-license image (multipart `file`; JPEG, PNG or PDF by content)")
@openapi.secured("bearer")
@openapi.response(200, description=_ACCOUNT)
@openapi.response(409, description="not editable")
@openapi.response(413, description="larger than uploads.max_bytes")
@openapi.response(422, description="not a JPEG, PNG or PDF")
async def upload_license(request: Request, account_id: str):
    me = await current_applicant(request)
    account = await service.get_for_applicant(me.id, account_id)
    upload = uploaded_file(request, "请选择营业执照图片", fields="file")
    account = await service.store_license(request.app.ctx.settings, account, upload.body)
    return json(await service.view(account), ensure_ascii=False)


@bp.get("/api/v1/enterprise-accounts/<account_id:str>/license")
@openapi.summary("The uploaded business-license file (the registrant)")
@openapi.secured("bearer")
async def read_license(request: Request, account_id: str):
    me = await current_applicant(request)
    account = await service.get_for_applicant(me.id, account_id)
    return await stored_file(request, storage.UPLOADS, *service.license_file(account), PRIVATE_FILE)


@bp.post("/api/v1/enterprise-accounts/<account_id:str>/submit")
@openapi.summary("提交: the legal representative with {verify_result} of their own face → pending_review; an agent → signing (SMS link to the legal representative)")
@openapi.body({"application/json": SubmitIn})
@openapi.secured("bearer")
@openapi.response(200, description="{account, signing?: {link, expires_at}}: the link to forward by hand appears only here and in the SMS")
@openapi.response(409, description="not in a state that can be submitted, or the enterprise already has a live account")
@openapi.response(422, description="license missing (field license), face check failed (field verify_result)")
async def submit(request: Request, account_id: str):
    return await _submit(request, account_id)


@bp.post("/api/v1/enterprise-accounts/<account_id:str>/resubmit")
@openapi.summary("重新提交 after expiry, a decline or a rejection: a new SMS link (agent), or straight to review when "
                 "the edits left the signed 授权委托书 unchanged")
@openapi.body({"application/json": SubmitIn})
@openapi.secured("bearer")
@openapi.response(200, description="{account, signing?: {link, expires_at}}")
@openapi.response(409, description="not expired, declined or rejected")
async def resubmit(request: Request, account_id: str):
    return await _submit(request, account_id)


async def _submit(request: Request, account_id: str):
    me = await current_applicant(request)
    body = parse(request, SubmitIn) if request.body else SubmitIn()
    account = await service.get_for_applicant(me.id, account_id)
    ctx = request.app.ctx
    return json(await service.submit(account, ctx.settings, ctx.cache, ctx.wechat, body.verify_result),
                ensure_ascii=False)


@bp.post("/api/v1/enterprise-accounts/<account_id:str>/cancel")
@openapi.summary("取消提交 while signing: back to draft (e.g. to correct the legal representative's phone); the link dies")
@openapi.secured("bearer")
@openapi.response(200, description=_ACCOUNT)
@openapi.response(409, description="not signing")
async def cancel(request: Request, account_id: str):
    me = await current_applicant(request)
    account = await service.cancel(await service.get_for_applicant(me.id, account_id))
    return json(await service.view(account), ensure_ascii=False)


@bp.post("/api/v1/enterprise-accounts/<account_id:str>/signing-link")
@openapi.summary("A fresh signing link to forward to the legal representative by hand (same deadline, no SMS; the old link dies)")
@openapi.secured("bearer")
@openapi.response(200, description="{link, expires_at}")
@openapi.response(409, description="not signing")
async def signing_link(request: Request, account_id: str):
    me = await current_applicant(request)
    account = await service.get_for_applicant(me.id, account_id)
    return json(await service.relink(account, request.app.ctx.settings))


@bp.post("/api/v1/enterprise-accounts/<account_id:str>/revoke")
@openapi.summary("The legal representative revokes the agent's authority, proved by {verify_result} of their own face")
@openapi.body({"application/json": FaceIn})
@openapi.secured("bearer")
@openapi.response(200, description=_ACCOUNT)
@openapi.response(409, description="not an approved agent-registered account")
@openapi.response(422, description="the face is not the legal representative's")
async def revoke(request: Request, account_id: str):
    await current_applicant(request)
    body = parse(request, FaceIn)
    ctx = request.app.ctx
    account = await service.get_for_legal_rep(account_id)
    account = await service.revoke(account, ctx.settings, ctx.cache, ctx.wechat, body.verify_result)
    return json(service.summary(account), ensure_ascii=False)


# --- the legal representative, by the token in the SMS link -----------------------------------------------------
@bp.get("/api/v1/authorisations/<token>")
@openapi.summary("The 授权委托书 behind a link: {letter, letter_hash, signer, status, expires_at}")
@openapi.response(404, description="unknown link")
@openapi.response(410, description="signed, declined, expired, cancelled or replaced")
async def authorisation_view(request: Request, token: str):
    signing_request = await authorisation.live_request(token)
    return json(await authorisation.signing_view(signing_request, request.app.ctx.settings), ensure_ascii=False)


@bp.get("/api/v1/authorisations/<token>/letter.pdf")
@openapi.summary("The 授权委托书 behind a link as a PDF, to read or print before signing (IDs and phones masked)")
@openapi.response(200, description="application/pdf")
@openapi.response(410, description="link no longer valid")
async def authorisation_letter(request: Request, token: str):
    signing_request = await authorisation.live_request(token)
    pdf = await asyncio.to_thread(letter_pdf.render_letter, signing_request.letter, signing_request.letter_hash,
                                  request.app.ctx.settings.documents.font_cache_dir)
    return _no_store(raw(pdf, content_type="application/pdf"))


@bp.post("/api/v1/authorisations/<token>/face")
@openapi.summary("Check the legal representative's WeChat face-verification result")
@openapi.body({"application/json": FaceIn})
@openapi.response(410, description="link no longer valid")
@openapi.response(422, description="not passed (error.code: face_failed, face_stale, face_replayed, face_mismatch, face_invalid)")
@openapi.response(429, description="too many attempts")
async def authorisation_face(request: Request, token: str):
    signing_request = await authorisation.live_request(token)
    body = parse(request, FaceIn)
    ctx = request.app.ctx
    return json(face_passed(await authorisation.verify_legal_rep_face(
        signing_request.account, body.verify_result, ctx.settings, ctx.cache, ctx.wechat, signing_request)))


@bp.post("/api/v1/authorisations/<token>")
@openapi.summary("Sign the 授权委托书 (after face verification) → the account awaits review")
@openapi.body({"application/json": SignatureIn})
@openapi.response(200, description="{status, signed_at, evidence: {seq, prev_hash, entry_hash}}")
@openapi.response(409, description="face verification missing or too old (code face_required)")
@openapi.response(410, description="link no longer valid")
@openapi.response(422, description="signature image missing, not a PNG, wrong size or blank")
async def authorisation_sign(request: Request, token: str):
    signing_request = await authorisation.live_request(token)
    body = parse(request, SignatureIn)
    ctx = request.app.ctx
    return json(await authorisation.sign(signing_request, ctx.settings, ctx.cache, **signature_evidence(request, body)))


@bp.post("/api/v1/authorisations/<token>/decline")
@openapi.summary("Decline to sign, with a reason (the agent is told by SMS)")
@openapi.body({"application/json": ReasonIn})
@openapi.response(410, description="link no longer valid")
async def authorisation_decline(request: Request, token: str):
    signing_request = await authorisation.live_request(token)
    body = parse(request, ReasonIn)
    ctx = request.app.ctx
    return json(await authorisation.decline(signing_request, ctx.settings, ctx.cache, body.reason,
                                            ip=client_ip(request), user_agent=user_agent(request)))


@bp.get("/a/<token>")
@openapi.summary("The legal representative's mobile page behind the SMS link: read, verify face, sign or decline")
@openapi.response(200, description="text/html")
@openapi.response(410, description="link no longer valid (page)")
async def authorisation_page(request: Request, token: str):
    ctx = request.app.ctx
    try:
        signing_request = await authorisation.live_request(token)
    except (NotFound, Gone) as exc:
        page = ctx.templates.get_template("signing/gone.html")
        return html(page.render(status=exc.status, message=exc.message), status=exc.status)
    view = await authorisation.signing_view(signing_request, ctx.settings)
    expires = signing_request.expires_at.astimezone(ZoneInfo(ctx.settings.review.timezone)).strftime("%Y-%m-%d %H:%M")
    page = ctx.templates.get_template("enterprise_accounts/authorise.html")
    return html(page.render(view=view, token=token, expires_local=expires,
                            face_mode="stand_in" if ctx.settings.wechat.mount_mock else "miniprogram"),
                headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


# --- staff ------------------------------------------------------------------------------------------------------
@bp.get("/api/v1/review/enterprise-accounts")
@openapi.summary("The account review queue of my authority (?status=pending_review by default, any status or all)")
@openapi.secured("bearer")
@openapi.parameter("status", str)
@openapi.parameter("page", int)
@openapi.response(200, description="{total, page, page_size, items: [account summary with masked legal_rep/agent]}")
async def review_queue(request: Request):
    staff = await current_staff(request)
    status = request.args.get("status", "pending_review") or None
    page = int_arg(request, "page", 1, 1)
    return json(await review.queue(staff, status=None if status == "all" else status, page=page), ensure_ascii=False)


@bp.get("/api/v1/review/enterprise-accounts/<account_id:str>")
@openapi.summary("One account for review: particulars (masked), the 授权委托书, signatures with their evidence, history")
@openapi.secured("bearer")
@openapi.response(404, description="not in my authority's scope")
async def review_detail(request: Request, account_id: str):
    staff = await current_staff(request)
    return json(await review.detail(staff, account_id, origin_of(request)), ensure_ascii=False)


@bp.get("/api/v1/review/enterprise-accounts/<account_id:str>/license")
@openapi.summary("The account's business-license file, for staff of its authority")
@openapi.secured("bearer")
async def review_license(request: Request, account_id: str):
    staff = await current_staff(request)
    account = await review.account_for_staff(staff, account_id)
    return await stored_file(request, storage.UPLOADS, *service.license_file(account), PRIVATE_FILE)


@bp.get("/api/v1/review/enterprise-accounts/<account_id:str>/letter.pdf")
@openapi.summary("The account's current 授权委托书 as a PDF; with the signature and its evidence once signed")
@openapi.secured("bearer")
@openapi.response(200, description="application/pdf")
@openapi.response(404, description="not in my authority's scope")
async def review_letter(request: Request, account_id: str):
    staff = await current_staff(request)
    account = await review.account_for_staff(staff, account_id)
    pdf = await review.current_letter_pdf(account, request.app.ctx.settings)
    return _no_store(raw(pdf, content_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="authorisation-{account.id}.pdf"'}))


@bp.get("/api/v1/review/enterprise-accounts/<account_id:str>/evidence.zip")
@openapi.summary("The account's evidence package for a notary: its chain entries, signature images, chain proof, README")
@openapi.secured("bearer")
@openapi.response(200, description="application/zip")
@openapi.response(404, description="not in my authority's scope")
async def review_evidence(request: Request, account_id: str):
    staff = await current_staff(request)
    require_role(staff, "reviewer", "admin")
    account = await review.account_for_staff(staff, account_id)
    package = await review.evidence_package(account, request.app.ctx.settings)
    return raw(package, content_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="evidence-{account.id}.zip"'})


@bp.post("/api/v1/review/enterprise-accounts/<account_id:str>/approve")
@openapi.summary("Approve (审核通过); the registrant is told by SMS")
@openapi.secured("bearer")
@openapi.response(403, description="not a reviewer")
@openapi.response(409, description="not awaiting review")
async def review_approve(request: Request, account_id: str):
    staff = await current_staff(request)
    account = await review.approve(staff, account_id, origin_of(request))
    return json(service.summary(account), ensure_ascii=False)


@bp.post("/api/v1/review/enterprise-accounts/<account_id:str>/reject")
@openapi.summary("Reject (审核不通过) with {reason}; the registrant is told by SMS")
@openapi.body({"application/json": ReasonIn})
@openapi.secured("bearer")
@openapi.response(403, description="not a reviewer")
@openapi.response(409, description="not awaiting review")
@openapi.response(422, description="reason missing")
async def review_reject(request: Request, account_id: str):
    staff = await current_staff(request)
    body = parse(request, ReasonIn)
    account = await review.reject(staff, account_id, body.reason, origin_of(request))
    return json(service.summary(account), ensure_ascii=False)


# --- coverage (seed 001's 注册账号专项行动) ---------------------------------------------------------------------------
def _day(request: Request, name: str) -> date | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(name, "日期格式应为 YYYY-MM-DD") from None


@bp.get("/api/v1/stats/enterprise-accounts/coverage")
@openapi.summary("Per authority: registered entities, those with an approved account, the share, and the campaign targets")
@openapi.secured("bearer")
@openapi.response(200, description="{authority, as_of, targets: [{by, share}], total: {...}, authorities: [{code, name, registered, with_account, share, target: {by, share, met}}]}")
async def coverage_now(request: Request):
    staff = await current_staff(request)
    return json(await coverage.coverage(staff, request.args.get("authority"), request.app.ctx.settings),
                ensure_ascii=False)


@bp.get("/api/v1/stats/enterprise-accounts/weekly")
@openapi.summary("The Friday table (周统计): per authority and Friday, accounts held at the end of that Friday and the share; ?format=csv for the 统计表")
@openapi.secured("bearer")
@openapi.response(200, description="{authority, fridays: [YYYY-MM-DD], rows: [{friday, code, name, registered, with_account, new_this_week, share}]}")
@openapi.response(422, description="from/to not dates, or more than 53 weeks")
async def coverage_weekly(request: Request):
    staff = await current_staff(request)
    table = await coverage.weekly(staff, request.args.get("authority"), _day(request, "from"), _day(request, "to"))
    if request.args.get("format") == "csv":
        return text(coverage.weekly_csv(table), content_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="enterprise-accounts-weekly-{table["authority"]["code"]}.csv"'})
    return json(table, ensure_ascii=False)


# --- the console (综合业务系统): the account queue and one account with its letter and evidence ---------------------
console_bp = Blueprint("console_enterprise_accounts", url_prefix="/console/enterprise-accounts")
CONSOLE_DONE = {"approve": "已审核通过，已短信通知注册人", "reject": "已审核不通过，已短信通知注册人"}


@console_bp.get("")
@openapi.summary("Console: the legal-person account queue")
async def console_queue(request: Request):
    staff = await console._staff(request)
    if staff is None:
        return redirect("/console/login")
    status = request.args.get("status", "pending_review")
    context = {"staff": staff, "statuses": review.STATUS_CHOICES, "selected_status": status,
               "csrf_token": console.csrf_token_for(request, request.cookies.get(console.SESSION_COOKIE, ""))}
    try:
        result = await review.queue(staff, status=status or None, page=int_arg(request, "page", 1, 1))
    except DomainError as exc:
        return console._page(request, "enterprise_accounts_queue.html", status=exc.status,
                             result={"items": [], "total": 0}, error=exc.message, **context)
    return console._page(request, "enterprise_accounts_queue.html", result=result, **context)


async def _console_detail(request: Request, staff, account_id, status: int = 200, error: str | None = None,
                          done: str | None = None):
    detail = await review.detail(staff, account_id, origin_of(request))
    return console._page(request, "enterprise_account.html", status=status, staff=staff, account=detail, error=error,
                         done=done, can_act=staff.role == "reviewer",
                         csrf_token=console.csrf_token_for(request, request.cookies.get(console.SESSION_COOKIE, "")))


@console_bp.get("/<account_id:uuid>")
@openapi.summary("Console: one legal-person account with its 授权委托书, signature evidence, license and history")
async def console_account(request: Request, account_id):
    staff = await console._staff(request)
    if staff is None:
        return redirect("/console/login")
    try:
        return await _console_detail(request, staff, account_id, done=CONSOLE_DONE.get(request.args.get("done")))
    except DomainError as exc:
        return console._page(request, "base.html", status=exc.status, staff=staff, error=exc.message,
                             csrf_token=console.csrf_token_for(request, request.cookies.get(console.SESSION_COOKIE, "")))


@console_bp.post("/<account_id:uuid>/<action:approve|reject>")
@openapi.summary("Console: approve or reject a legal-person account (form)")
async def console_act(request: Request, account_id, action: str):
    staff = await console._staff(request)
    if staff is None:
        return redirect("/console/login", status=303)
    console._check_csrf(request, console.csrf_token_for(request, request.cookies.get(console.SESSION_COOKIE, "")))
    try:
        if action == "approve":
            await review.approve(staff, account_id, origin_of(request))
        else:
            await review.reject(staff, account_id, request.form.get("reason") or "", origin_of(request))
    except DomainError as exc:
        return await _console_detail(request, staff, account_id, status=exc.status, error=exc.message)
    return redirect(f"/console/enterprise-accounts/{account_id}?done={action}", status=303)

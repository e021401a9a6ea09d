"""Signing routes: the applicant's signatories and links, the token routes of the signing page, evidence for staff."""
from __future__ import annotations

import uuid
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field
from sanic import Blueprint, Request, html, json, raw
from sanic_ext import openapi

from server.api.documents import signer_materials
from server.api.http import RequestModel, client_ip, current_applicant, current_staff, parse, user_agent
from server.errors import Gone, NotFound
from server.models.applications import Application
from server.services import signing
from server.services.accounts.staff import require_role
from server.services.applications import service as applications
from server.services.authorities import scope_prefix
from server.services.documents import service as documents
from server.services.signing import evidence
from server.services.signing.face import start_h5, verify_face, verify_h5

bp = Blueprint("signing")


class SigningRequestsIn(RequestModel):
    party_id: uuid.UUID | None = None


class FaceIn(RequestModel):
    verify_result: str = Field(min_length=1, max_length=512)


class StandInFaceIn(RequestModel):
    outcome: Literal["ok", "mismatch", "fail"] = "ok"


class FaceH5ResultIn(RequestModel):
    biz_token: str = Field(min_length=1, max_length=128)


class GeolocationIn(RequestModel):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    accuracy: float | None = Field(None, ge=0, le=100_000)


class SignatureIn(RequestModel):
    """A handwritten signature and where it was made: what every sign route (signing links, 授权委托书) takes."""

    signature_png_base64: str | None = Field(None, max_length=4_000_000)
    geolocation: GeolocationIn | None = None


class SignIn(SignatureIn):
    # Enterprises: e_seal or e_license where rule 3 lets a home-province enterprise choose.
    method: Literal["e_seal", "e_license"] | None = None


class DeclineIn(RequestModel):
    reason: str = Field(min_length=1, max_length=500)


def signature_evidence(request: Request, body: SignatureIn) -> dict:
    """The keyword arguments a signing service takes from a sign request: the image, where, and from which client."""
    return {"signature_png_base64": body.signature_png_base64,
            "geolocation": body.geolocation.model_dump() if body.geolocation else None,
            "ip": client_ip(request), "user_agent": user_agent(request)}


def face_passed(verification) -> dict:
    """The answer to a face check that passed (a FaceVerification or an AccountFaceCheck)."""
    return {"passed": True, "verification_id": str(verification.id),
            "verified_at": verification.created_at.isoformat()}


# --- the applicant ------------------------------------------------------------------------------------------
@bp.get("/api/v1/applications/<application_id>/signatories")
@openapi.summary("Who must sign (有效签名判定) and each signatory's status")
@openapi.description("→ [{party_id, name, role, roles, kind, required, method, status}]; status is not_required, "
                     "not_requested, pending, signed, declined or expired.")
@openapi.secured("bearer")
@openapi.response(404, description="not my application")
async def signatories(request: Request, application_id: str):
    me = await current_applicant(request)
    application = await applications.get_for_applicant(me.id, application_id)
    return json(await signing.signatory_statuses(application, request.app.ctx.settings))


@bp.post("/api/v1/applications/<application_id>/signing-requests")
@openapi.summary("Send or resend signing links (the old link of each signatory stops working)")
@openapi.description("云帮办: once the materials are locked; 一般流程: on a draft or returned application. "
                     "Optional body {party_id} resends to one signatory. → [{id, party_id, name, method, status, "
                     "expires_at, link}]: the plain links appear only in this answer and the SMS.")
@openapi.body({"application/json": SigningRequestsIn})
@openapi.secured("bearer")
@openapi.response(404, description="not my application, or no such signatory")
@openapi.response(409, description="the application is not in a state that is signed")
async def signing_requests(request: Request, application_id: str):
    me = await current_applicant(request)
    body = parse(request, SigningRequestsIn) if request.body else SigningRequestsIn()
    application = await applications.get_for_applicant(me.id, application_id)
    ctx = request.app.ctx
    return json(await signing.create_signing_requests(application, ctx.settings, wechat=ctx.wechat,
                                                      party_id=body.party_id), status=201)


# --- the signatory, by the token in the link ----------------------------------------------------------------
@bp.get("/api/v1/sign/<token>")
@openapi.summary("What this link signs: {application, signer, snapshot_hash, status, expires_at}")
@openapi.response(404, description="unknown link")
@openapi.response(410, description="used, expired, replaced, or the materials changed")
async def sign_view(request: Request, token: str):
    signing_request = await signing.live_request(token)
    return json(await signing.signing_view(signing_request, request.app.ctx.settings))


@bp.post("/api/v1/sign/<token>/face")
@openapi.summary("Check a WeChat face-verification result (verify_result) against the signer")
@openapi.body({"application/json": FaceIn})
@openapi.response(404, description="unknown link")
@openapi.response(409, description="this signatory signs with an e-seal / e-license")
@openapi.response(410, description="link no longer valid")
@openapi.response(422, description="not passed: failed, stale, replayed, or someone else's face (error.code says which)")
@openapi.response(429, description="too many attempts on this link")
@openapi.response(503, description="WeChat unreachable")
async def sign_face(request: Request, token: str):
    signing_request = await signing.live_request(token)
    body = parse(request, FaceIn)
    ctx = request.app.ctx
    return json(face_passed(await verify_face(signing_request, body.verify_result, ctx.settings, ctx.cache,
                                              ctx.wechat)))


# Mounted only with the stand-in WeChat: the signing view masks the ID number, so the server, which knows the
# signer, runs the stand-in wx.startFacialRecognitionVerify and checks its result exactly as a real one.
stand_in_bp = Blueprint("signing_stand_in_face")


@stand_in_bp.post("/api/v1/sign/<token>/face/stand-in")
@openapi.summary("Development only: face verification by the stand-in WeChat for this link's signer")
@openapi.body({"application/json": StandInFaceIn})
@openapi.response(422, description="not passed (outcome mismatch or fail)")
async def sign_face_stand_in(request: Request, token: str):
    signing_request = await signing.live_request(token)
    body = parse(request, StandInFaceIn)
    ctx = request.app.ctx
    verify_result = ctx.wx_state.face_result(signing_request.signer_name, signing_request.id_number or "", body.outcome)
    return json(face_passed(await verify_face(signing_request, verify_result, ctx.settings, ctx.cache, ctx.wechat)))


@bp.post("/api/v1/sign/<token>/face/h5")
@openapi.summary("Start face verification from a plain phone browser (Tencent Cloud FaceID H5) → {url}")
@openapi.description("The browser goes to `url`; Tencent sends it back to /s/{token}?token=BizToken, whose page "
                     "then posts the BizToken to …/face/h5/result.")
@openapi.response(404, description="unknown link")
@openapi.response(409, description="this signatory signs with an e-seal / e-license")
@openapi.response(410, description="link no longer valid")
@openapi.response(429, description="too many attempts on this link")
@openapi.response(503, description="FaceID not configured or unreachable")
async def sign_face_h5(request: Request, token: str):
    signing_request = await signing.live_request(token)
    ctx = request.app.ctx
    return json(await start_h5(signing_request, token, ctx.settings, ctx.cache, ctx.faceid))


@bp.post("/api/v1/sign/<token>/face/h5/result")
@openapi.summary("Check the FaceID H5 result (BizToken) against the signer")
@openapi.body({"application/json": FaceH5ResultIn})
@openapi.response(404, description="unknown link")
@openapi.response(410, description="link no longer valid")
@openapi.response(422, description="not passed: unfinished, failed, stale, replayed, or someone else (error.code)")
@openapi.response(503, description="FaceID unreachable")
async def sign_face_h5_result(request: Request, token: str):
    signing_request = await signing.live_request(token)
    body = parse(request, FaceH5ResultIn)
    ctx = request.app.ctx
    return json(face_passed(await verify_h5(signing_request, body.biz_token, ctx.settings, ctx.cache, ctx.faceid)))


@bp.post("/api/v1/sign/<token>")
@openapi.summary("Sign (persons: after face verification, with a handwritten PNG; enterprises: e-seal / e-license)")
@openapi.body({"application/json": SignIn})
@openapi.response(200, description="{signature_id, signed_at, evidence: {seq, prev_hash, entry_hash, payload}}")
@openapi.response(404, description="unknown link")
@openapi.response(409, description="face verification missing or too old (code face_required), or the 申请书 not yet opened through the link (code document_not_opened)")
@openapi.response(410, description="link no longer valid (already signed, expired, replaced)")
@openapi.response(413, description="signature image too large")
@openapi.response(422, description="signature image missing, not a PNG, wrong size or blank")
async def sign(request: Request, token: str):
    signing_request = await signing.live_request(token)
    body = parse(request, SignIn)
    ctx = request.app.ctx
    return json(await signing.sign(signing_request, ctx.settings, ctx.cache, **signature_evidence(request, body),
                                   method=body.method))


@bp.post("/api/v1/sign/<token>/decline")
@openapi.summary("Decline to sign, with a reason (the applicant is told)")
@openapi.body({"application/json": DeclineIn})
@openapi.response(404, description="unknown link")
@openapi.response(410, description="link no longer valid")
@openapi.response(422, description="reason missing")
async def sign_decline(request: Request, token: str):
    signing_request = await signing.live_request(token)
    body = parse(request, DeclineIn)
    return json(await signing.decline(signing_request, request.app.ctx.settings, request.app.ctx.cache, body.reason,
                                      ip=client_ip(request), user_agent=user_agent(request)))


# --- staff: the evidence ------------------------------------------------------------------------------------
@bp.get("/api/v1/evidence/verify")
@openapi.summary("Verify the whole signing-evidence chain → {ok, entries, head, first_broken?}")
@openapi.secured("bearer")
@openapi.response(401, description="not logged in")
@openapi.response(403, description="not a reviewer or administrator")
async def evidence_verify(request: Request):
    require_role(await current_staff(request), "reviewer", "admin")
    return json(await evidence.verify_chain())


@bp.get("/api/v1/review/applications/<application_id>/evidence.zip")
@openapi.summary("One application's evidence package for a notary (entries, images, chain proof, README)")
@openapi.secured("bearer")
@openapi.response(200, description="application/zip")
@openapi.response(404, description="no such application in my authority's scope")
async def evidence_zip(request: Request, application_id: str):
    staff = await current_staff(request)
    require_role(staff, "reviewer", "admin")
    try:
        key = uuid.UUID(application_id)
    except ValueError:
        raise NotFound("申请不存在") from None
    application = await Application.get_or_none(id=key, authority_id__startswith=scope_prefix(staff.authority))
    if application is None:
        raise NotFound("申请不存在")
    settings = request.app.ctx.settings
    package = await evidence.export_package(settings, application.id,
                                            await documents.package_files(settings, application))
    return raw(package, content_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="evidence-{application.id}.zip"'})


# --- the signing page ---------------------------------------------------------------------------------------
@bp.get("/s/<token>")
@openapi.summary("The mobile signing page (H5) behind the SMS link")
@openapi.response(200, description="text/html")
@openapi.response(404, description="unknown link page")
@openapi.response(410, description="expired or replaced link page")
async def signing_page(request: Request, token: str):
    ctx = request.app.ctx
    try:
        signing_request = await signing.live_request(token)
    except (NotFound, Gone) as exc:
        page = ctx.templates.get_template("signing/gone.html")
        return html(page.render(status=exc.status, message=exc.message), status=exc.status)
    view = await signing.signing_view(signing_request, ctx.settings)
    reading = await signer_materials(request, token)
    form_opened = all(doc["opened"] for doc in reading["documents"] if doc["kind"] == reading["must_open"])
    page = ctx.templates.get_template("signing/sign.html")
    expires_local = signing_request.expires_at.astimezone(ZoneInfo(ctx.settings.review.timezone))
    return html(page.render(view=view, token=token, expires_local=expires_local.strftime("%Y-%m-%d %H:%M"),
                            reading=reading, form_opened=form_opened,
                            face_mode="stand_in" if ctx.settings.wechat.mount_mock else "miniprogram",
                            face_h5=ctx.faceid is not None))

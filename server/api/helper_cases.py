"""Helpers own a case (代办) over HTTP: the helper's code to scan, the applicant's grants and revocations, and the
helper's staff routes to fill and upload on the applicant's behalf (no submit, sign or review among them)."""
from __future__ import annotations


from pydantic import Field
from sanic import Blueprint, Request, json
from sanic_ext import openapi

from server.api.applications import CreateIn, PatchIn
from server import storage
from server.api.http import (PRIVATE_FILE, RequestModel, current_applicant, current_staff, parse, stored_file,
                             uploaded_file)
from server.services.applications import attachments
from server.services.applications import service as applications
from server.services.appointments import cases

applicant_bp = Blueprint("helper_grants", url_prefix="/api/v1/helper-grants")
helper_bp = Blueprint("helper_cases", url_prefix="/api/v1/helper")


class GrantIn(RequestModel):
    helper_code: str = Field(min_length=1, max_length=80, description="what the helper's QR holds")
    application_id: str | None = Field(None, max_length=40)
    new_application: CreateIn | None = None  # the applicant's own new application, as POST /applications takes it


# --- the applicant ----------------------------------------------------------------------------------------------

@applicant_bp.post("")
@openapi.summary("Grant the helper whose QR was scanned access to one application, or to a new draft")
@openapi.body({"application/json": GrantIn})
@openapi.secured("bearer")
@openapi.response(201, description="{id, application_id, helper: {name, landline, point}, granted_at, revoked_at, "
                                   "active, case_owner}")
@openapi.response(404, description="not my application")
@openapi.response(409, description="not_editable (submitted or locked)")
@openapi.response(422, description="helper_code invalid or expired; neither application_id nor new_application")
async def grant(request: Request):
    me = await current_applicant(request)
    body = parse(request, GrantIn)
    granted = await cases.grant(request.app.ctx.settings, me.id, body.helper_code, body.application_id,
                                body.new_application.model_dump() if body.new_application else None)
    return json(cases.grant_view(granted), status=201, ensure_ascii=False)


@applicant_bp.get("")
@openapi.summary("My grants to helpers (optionally of one application), newest first, with each case's owner")
@openapi.parameter("application_id", str, "query")
@openapi.secured("bearer")
async def mine(request: Request):
    me = await current_applicant(request)
    rows = await cases.grants_for_applicant(me.id, request.args.get("application_id"))
    return json([cases.grant_view(row) for row in rows], ensure_ascii=False)


@applicant_bp.post("/<grant_id:int>/revoke")
@openapi.summary("Revoke a helper's access at once")
@openapi.secured("bearer")
@openapi.response(404, description="not my grant")
@openapi.response(409, description="already_revoked")
async def revoke(request: Request, grant_id: int):
    me = await current_applicant(request)
    return json(cases.grant_view(await cases.revoke(me.id, grant_id)), ensure_ascii=False)


# --- the helper -------------------------------------------------------------------------------------------------

@helper_bp.get("/code")
@openapi.summary("The short-lived code the helper shows as a QR for the applicant to scan")
@openapi.secured("bearer")
@openapi.response(200, description="{code, expires_at}")
@openapi.response(403, description="not a helper tied to a point")
async def code(request: Request):
    staff = await current_staff(request)
    return json(cases.helper_code(request.app.ctx.settings, staff))


@helper_bp.get("/cases")
@openapi.summary("The applications granted to me, with whether I own the case (首问负责)")
@openapi.secured("bearer")
async def my_cases(request: Request):
    staff = await current_staff(request)
    return json([cases.helper_case_row(row, staff) for row in await cases.cases_for_helper(staff)],
                ensure_ascii=False)


@helper_bp.get("/cases/<application_id:str>")
@openapi.summary("One granted application with `missing`; ID numbers and phones masked")
@openapi.secured("bearer")
@openapi.response(404, description="not granted to me, or revoked")
async def read_case(request: Request, application_id: str):
    staff = await current_staff(request)
    application = await cases.case_for_helper(staff, application_id)
    return json(await cases.case_view(application), ensure_ascii=False)


@helper_bp.patch("/cases/<application_id:str>")
@openapi.summary("Save part of the form on the applicant's behalf (the applicant's own rules); on the timeline. "
                 "A party sent back with its id and the masked ID number or phone it was shown keeps the stored one")
@openapi.body({"application/json": PatchIn})
@openapi.secured("bearer")
@openapi.response(404, description="not granted to me, or revoked")
@openapi.response(409, description="the materials are not editable")
@openapi.response(422, description="a value is invalid (error.field names it); nothing saved")
async def update_case(request: Request, application_id: str):
    staff = await current_staff(request)
    application = await cases.case_for_helper(staff, application_id)
    body = parse(request, PatchIn).model_dump(exclude_unset=True)
    application = await cases.save(staff, application, body)
    return json(await cases.case_view(application), ensure_ascii=False)


@helper_bp.post("/cases/<application_id:str>/attachments")
@openapi.summary("Upload an attachment on the applicant's behalf (multipart: file, kind); on the timeline")
@openapi.secured("bearer")
@openapi.response(201, description="{id, kind, sha256, content_type, size}")
@openapi.response(404, description="not granted to me, or revoked")
@openapi.response(409, description="the materials are locked")
@openapi.response(422, description="not a JPEG, PNG or PDF, damaged, or an unknown kind")
async def upload(request: Request, application_id: str):
    staff = await current_staff(request)
    application = await cases.case_for_helper(staff, application_id)
    upload_file = uploaded_file(request, "请选择要上传的文件", fields="file 与 kind")
    kind = request.form.get("kind") if request.form else None
    attachment = await attachments.add(request.app.ctx.settings, application, kind, upload_file.name,
                                       upload_file.body, delegate=cases.delegate(staff, application.id))
    return json(applications.attachment_view(attachment), status=201, ensure_ascii=False)


@helper_bp.delete("/cases/<application_id:str>/attachments/<attachment_id:str>")
@openapi.summary("Remove an attachment on the applicant's behalf; on the timeline")
@openapi.secured("bearer")
@openapi.response(404, description="not granted to me, revoked, or no such attachment")
@openapi.response(409, description="the materials are locked")
async def remove(request: Request, application_id: str, attachment_id: str):
    staff = await current_staff(request)
    application = await cases.case_for_helper(staff, application_id)
    await attachments.remove(request.app.ctx.settings, application, attachment_id,
                             delegate=cases.delegate(staff, application.id))
    return json({"ok": True})


@helper_bp.get("/cases/<application_id:str>/attachments/<attachment_id:str>")
@openapi.summary("An attachment's file of a granted application (whichever authority it is filed with)")
@openapi.secured("bearer")
@openapi.response(404, description="not granted to me, revoked, or no such attachment")
async def download(request: Request, application_id: str, attachment_id: str):
    staff = await current_staff(request)
    application = await cases.case_for_helper(staff, application_id)
    key, content_type, _ = await attachments.file_of(application, attachment_id)
    return await stored_file(request, storage.UPLOADS, key, content_type, PRIVATE_FILE, not_found="附件文件不存在")

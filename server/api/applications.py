"""Applicant routes for applications (the mini-program's forms): create, save, read, attachments, flow options."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from sanic import Blueprint, Request, json
from sanic_ext import openapi

from server import storage
from server.api.http import (PRIVATE_FILE, RequestModel, current_applicant, current_staff, parse, stored_file,
                             uploaded_file)
from server.api.schemas import ApplicationOut, content
from server.errors import Unauthorized
from server.models.applications import BUSINESS_TYPES, ENTITY_TYPES
from server.services.applications import attachments
from server.services.applications import service as applications

bp = Blueprint("applications", url_prefix="/api/v1/applications")


class CreateIn(RequestModel):
    business_type: Literal[BUSINESS_TYPES]  # type: ignore[valid-type]
    entity_type: Literal[ENTITY_TYPES]  # type: ignore[valid-type]
    authority_code: str = Field(pattern=r"^\d{6}$")
    name: str | None = Field(None, max_length=200)
    credit_code: str | None = Field(None, max_length=18)


class PatchIn(RequestModel):
    """Any part of the form; `parties` replaces the whole list; a null `entity` key clears that field."""

    name: str | None = None
    entity: dict[str, Any] | None = None
    parties: list[Any] | None = None


@bp.get("")
@openapi.summary("My applications, newest first")
@openapi.secured("bearer")
@openapi.response(200, description="[{id, business_type, entity_type, authority_code, name, credit_code, status, flow, "
                                   "snapshot_hash, missing, created_at, updated_at}]")
@openapi.response(401, description="not logged in")
async def list_mine(request: Request):
    me = await current_applicant(request)
    return json(await applications.list_for_applicant(me.id), ensure_ascii=False)


@bp.post("")
@openapi.summary("Start a draft (change and deregistration name the registered entity by credit_code)")
@openapi.body({"application/json": CreateIn})
@openapi.secured("bearer")
@openapi.response(201, content(ApplicationOut), description="the application object with `missing`")
@openapi.response(401, description="not logged in")
@openapi.response(422, description="a field is invalid (named in error.field)")
async def create(request: Request):
    me = await current_applicant(request)
    body = parse(request, CreateIn)
    application = await applications.create(me.id, body.business_type, body.entity_type, body.authority_code,
                                            body.name, body.credit_code)
    return json(await applications.application_view(application), status=201, ensure_ascii=False)


@bp.get("/<application_id:str>")
@openapi.summary("One of my applications with `missing` (what is still needed)")
@openapi.secured("bearer")
@openapi.response(200, content(ApplicationOut), description="the application object")
@openapi.response(404, description="not found, or not mine")
async def read(request: Request, application_id: str):
    me = await current_applicant(request)
    application = await applications.get_for_applicant(me.id, application_id)
    return json(await applications.application_view(application), ensure_ascii=False)


@bp.patch("/<application_id:str>")
@openapi.summary("Save part of the form: {name?, entity?, parties?} (parties replaces the whole list)")
@openapi.body({"application/json": PatchIn})
@openapi.secured("bearer")
@openapi.response(200, content(ApplicationOut), description="the application object")
@openapi.response(404, description="not found, or not mine")
@openapi.response(409, description="the materials are not editable (locked or submitted)")
@openapi.response(422, description="a value is invalid (error.field names it, e.g. parties[1].id_number); nothing saved")
async def update(request: Request, application_id: str):
    me = await current_applicant(request)
    application = await applications.get_for_applicant(me.id, application_id)
    # exclude_unset keeps "absent" and "sent as null" apart: only the parts sent are saved.
    body = parse(request, PatchIn).model_dump(exclude_unset=True)
    application = await applications.update(application, body)
    return json(await applications.application_view(application), ensure_ascii=False)


@bp.post("/<application_id:str>/withdraw")
@openapi.summary("Withdraw a draft or returned application")
@openapi.secured("bearer")
@openapi.response(200, description="the application object")
@openapi.response(404, description="not found, or not mine")
@openapi.response(409, description="not in a state that can be withdrawn")
async def withdraw(request: Request, application_id: str):
    me = await current_applicant(request)
    application = await applications.get_for_applicant(me.id, application_id)
    application = await applications.withdraw(application, me.id, request.app.ctx.settings, request.app.ctx.cache)
    return json(await applications.application_view(application), ensure_ascii=False)


@bp.get("/<application_id:str>/flow-options")
@openapi.summary("Whether 云帮办 (cloud) and the general flow are available, with reason codes")
@openapi.secured("bearer")
@openapi.response(200, description="{cloud: {available, reasons: [{code, message}]}, general: {available, reasons}}")
@openapi.response(404, description="not found, or not mine")
async def flow_options(request: Request, application_id: str):
    me = await current_applicant(request)
    application = await applications.get_for_applicant(me.id, application_id)
    return json(await applications.flow_options(application), ensure_ascii=False)


@bp.post("/<application_id:str>/attachments")
@openapi.summary("Upload an attachment (multipart: file, kind); JPEG/PNG/PDF by content; images re-encoded without EXIF")
@openapi.secured("bearer")
@openapi.body({"multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"},
                                                                        "kind": {"type": "string"}}}})
@openapi.response(201, description="{id, kind, sha256, content_type, size}")
@openapi.response(404, description="not found, or not mine")
@openapi.response(409, description="the materials are locked")
@openapi.response(413, description="larger than uploads.max_bytes")
@openapi.response(422, description="not a JPEG, PNG or PDF, damaged, or an unknown kind")
async def upload(request: Request, application_id: str):
    me = await current_applicant(request)
    application = await applications.get_for_applicant(me.id, application_id)
    upload_file = uploaded_file(request, "请选择要上传的文件", fields="file 与 kind")
    kind = request.form.get("kind") if request.form else None
    attachment = await attachments.add(request.app.ctx.settings, application, kind, upload_file.name, upload_file.body)
    return json(applications.attachment_view(attachment), status=201, ensure_ascii=False)


@bp.delete("/<application_id:str>/attachments/<attachment_id:str>")
@openapi.summary("Remove an attachment while the materials are editable")
@openapi.secured("bearer")
@openapi.response(200, description="{ok: true}")
@openapi.response(404, description="not found, or not mine")
@openapi.response(409, description="the materials are locked")
async def remove(request: Request, application_id: str, attachment_id: str):
    me = await current_applicant(request)
    application = await applications.get_for_applicant(me.id, application_id)
    await attachments.remove(request.app.ctx.settings, application, attachment_id)
    return json({"ok": True})


async def _reader(request: Request, application_id: str):
    """The owning applicant, or staff whose authority oversees the application; anyone else gets 404."""
    try:
        me = await current_applicant(request)
        return await attachments.readable_application(application_id, applicant_id=me.id)
    except Unauthorized:
        staff = await current_staff(request)
        return await attachments.readable_application(application_id, staff=staff)


@bp.get("/<application_id:str>/attachments/<attachment_id:str>")
@openapi.summary("The attachment's file (owner or staff of the authority)")
@openapi.secured("bearer")
@openapi.response(200, description="the stored bytes")
@openapi.response(401, description="not logged in")
@openapi.response(404, description="not found, or not yours to read")
async def download(request: Request, application_id: str, attachment_id: str):
    application = await _reader(request, application_id)
    key, content_type, _ = await attachments.file_of(application, attachment_id)
    return await stored_file(request, storage.UPLOADS, key, content_type, PRIVATE_FILE, not_found="附件文件不存在")


@bp.get("/<application_id:str>/attachments/<attachment_id:str>/thumbnail")
@openapi.summary("The image attachment's thumbnail (owner or staff of the authority)")
@openapi.secured("bearer")
@openapi.response(200, description="a JPEG thumbnail")
@openapi.response(401, description="not logged in")
@openapi.response(404, description="not found, no thumbnail, or not yours to read")
async def thumbnail(request: Request, application_id: str, attachment_id: str):
    application = await _reader(request, application_id)
    key, content_type, _ = await attachments.file_of(application, attachment_id, thumbnail=True)
    return await stored_file(request, storage.UPLOADS, key, content_type, PRIVATE_FILE, not_found="附件文件不存在")

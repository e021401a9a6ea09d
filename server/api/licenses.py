"""Paper licenses: the applicant's choice (mini-program), the window's queue and records, the ledger and its XLSX."""
from __future__ import annotations

from typing import Literal

from pydantic import Field
from sanic import Blueprint, Request, json, raw
from sanic_ext import openapi

from server.api.http import RequestModel, current_applicant, current_staff, parse
from server.api.review import origin_of
from server.services.licenses import service as licenses

bp = Blueprint("licenses", url_prefix="/api/v1/licenses")
LEDGER_PAGE = 500
applicant_bp = Blueprint("licenses_applicant", url_prefix="/api/v1/applications")


class ChoiceIn(RequestModel):
    method: Literal["electronic", "window", "post"]
    pickup_authority_code: str | None = Field(None, max_length=6)
    recipient_name: str | None = Field(None, max_length=64)
    recipient_phone: str | None = Field(None, max_length=20)
    postal_address: str | None = Field(None, max_length=255)


class ReadyIn(RequestModel):
    serial_number: str = Field(max_length=32)


class HandOverIn(RequestModel):
    serial_number: str = Field(max_length=32)
    collected_by: str = Field(max_length=64)
    id_type: str = Field("resident_id", max_length=32)
    id_number: str = Field(max_length=32)
    id_checked: bool


class PostIn(RequestModel):
    serial_number: str = Field(max_length=32)
    carrier: str = Field(max_length=32)
    tracking_number: str = Field(max_length=64)


class OldLicenseIn(RequestModel):
    outcome: Literal["collected", "lost"]
    old_serial_number: str | None = Field(None, max_length=32)
    reason: str | None = Field(None, max_length=255)


# --- the applicant -------------------------------------------------------------------------------------------

@applicant_bp.get("/<application_id:uuid>/license")
@openapi.summary("The license of an approved 设立/变更: how it is collected and where it stands (personal data masked)")
@openapi.secured("bearer")
@openapi.response(200, description="{status, status_label, method, pickup_authority_name, serial_number, ...}")
@openapi.response(404, description="not mine, or no license (not approved, or a 注销)")
async def my_license(request: Request, application_id):
    me = await current_applicant(request)
    return json(await licenses.view(await licenses.for_applicant(me.id, application_id)))


@applicant_bp.post("/<application_id:uuid>/license")
@openapi.summary("Choose once: 电子营业执照 only, pickup at any authority of the city (异地取照), or post")
@openapi.body({"application/json": ChoiceIn})
@openapi.secured("bearer")
@openapi.response(200, description="the license view")
@openapi.response(409, description="license_state: already chosen")
@openapi.response(422, description="pickup_authority_code outside the city, or an incomplete address (field named)")
async def choose_license(request: Request, application_id):
    me = await current_applicant(request)
    body = parse(request, ChoiceIn)
    return json(await licenses.choose(me.id, application_id, **body.model_dump()))


# --- the window ----------------------------------------------------------------------------------------------

@bp.get("/window")
@openapi.summary("What waits at this window: licenses to print and hand over here (any filing of the city), posts to send")
@openapi.secured("bearer")
@openapi.response(200, description="[license view]")
async def window_queue(request: Request):
    staff = await current_staff(request)
    return json(await licenses.window_queue(staff))


@bp.post("/<license_id:str>/ready")
@openapi.summary("Printed at the chosen window: records the serial number and tells the applicant by SMS")
@openapi.body({"application/json": ReadyIn})
@openapi.secured("bearer")
@openapi.response(409, description="license_state, not_this_window")
async def ready(request: Request, license_id: str):
    staff = await current_staff(request)
    body = parse(request, ReadyIn)
    return json(await licenses.mark_ready(staff, origin_of(request), license_id, body.serial_number))


@bp.post("/<license_id:str>/hand-over")
@openapi.summary("领取: serial number, who collected it, their ID checked (kept masked), time; SMS to the applicant")
@openapi.body({"application/json": HandOverIn})
@openapi.secured("bearer")
@openapi.response(409, description="old_license_outstanding (变更: the old license first), license_state, not_this_window")
@openapi.response(422, description="serial number not the one printed, ID not checked or invalid")
async def hand_over(request: Request, license_id: str):
    staff = await current_staff(request)
    body = parse(request, HandOverIn)
    return json(await licenses.hand_over(staff, origin_of(request), license_id, **body.model_dump()))


@bp.post("/<license_id:str>/post")
@openapi.summary("邮寄: serial number, carrier and tracking number; SMS to the applicant")
@openapi.body({"application/json": PostIn})
@openapi.secured("bearer")
@openapi.response(409, description="old_license_outstanding, license_state, not_this_authority")
async def post(request: Request, license_id: str):
    staff = await current_staff(request)
    body = parse(request, PostIn)
    return json(await licenses.post(staff, origin_of(request), license_id, **body.model_dump()))


@bp.post("/<license_id:str>/old-license")
@openapi.summary("变更: the old license collected (收缴, with its serial) or declared lost (with the reason)")
@openapi.body({"application/json": OldLicenseIn})
@openapi.secured("bearer")
@openapi.response(409, description="old_license_state: nothing outstanding")
async def old_license(request: Request, license_id: str):
    staff = await current_staff(request)
    body = parse(request, OldLicenseIn)
    return json(await licenses.settle_old_license(staff, origin_of(request), license_id, **body.model_dump()))


# --- the ledger ----------------------------------------------------------------------------------------------

def _filters(request: Request) -> dict:
    args = request.args
    return {"window": args.get("window") or None, "date_from": args.get("from") or None,
            "date_to": args.get("to") or None, "status": args.get("status") or None, "q": args.get("q") or None}


@bp.get("/")
@openapi.summary("纸质营业执照领取和收缴台账: per window (authority code) and period (from/to: handed over, posted, or "
                 "old license collected), status, q (credit code, name or serial)")
@openapi.parameter("window", str)
@openapi.parameter("from", str)
@openapi.parameter("to", str)
@openapi.parameter("status", str)
@openapi.parameter("q", str)
@openapi.secured("bearer")
@openapi.response(200, description="{items: [license view], count, limit} (newest first, at most `limit`; the XLSX has all)")
async def ledger(request: Request):
    staff = await current_staff(request)
    rows = await licenses.ledger_rows(staff, request.app.ctx.settings, **_filters(request), limit=LEDGER_PAGE)
    return json({"items": [await licenses.view(row) for row in rows], "count": len(rows), "limit": LEDGER_PAGE})


@bp.get("/export.xlsx")
@openapi.summary("The ledger as XLSX for the same filters (personal data masked); audited")
@openapi.secured("bearer")
@openapi.response(200, description="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
async def ledger_export(request: Request):
    staff = await current_staff(request)
    data = await licenses.ledger_xlsx(staff, origin_of(request), request.app.ctx.settings, **_filters(request))
    return raw(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               headers={"Content-Disposition": 'attachment; filename="license-ledger.xlsx"',
                        "Cache-Control": "private, no-store"})

"""Help points over HTTP: the public directory and its pages, slots, the applicant's bookings, helpers' check-in."""
from __future__ import annotations

from datetime import date

from pydantic import Field
from sanic import Blueprint, Request, html, json
from sanic_ext import openapi

from server import clock
from server.api.http import RequestModel, applicant_record, current_staff, parse
from server.errors import Invalid
from server.services.appointments import booking, directory, schedule
from server.vocabulary import BusinessType
from server.services.review.worktime import calendar_for

public = Blueprint("points_public")
applicant_bp = Blueprint("appointments", url_prefix="/api/v1/appointments")
helper_bp = Blueprint("helper_appointments", url_prefix="/api/v1/helper")


class AppointmentIn(RequestModel):
    point_code: str = Field(min_length=1, max_length=16)
    start: str = Field(min_length=10, max_length=40, description="a slot's start, ISO 8601 with offset")
    business_type: BusinessType
    note: str = Field("", max_length=200)


class RescheduleIn(RequestModel):
    start: str = Field(min_length=10, max_length=40)
    point_code: str | None = Field(None, min_length=1, max_length=16)


class CheckInIn(RequestModel):
    checkin_code: str = Field(min_length=1, max_length=12)


def _date_arg(request: Request, name: str = "date", default: date | None = None) -> date:
    raw = request.args.get(name)
    if not raw:
        if default is not None:
            return default
        raise Invalid(name, "请提供日期（YYYY-MM-DD）")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid(name, "日期格式应为 YYYY-MM-DD") from None


# --- public ---------------------------------------------------------------------------------------------------

@public.get("/api/v1/points")
@openapi.summary("Public directory of help points (no login), nearest first when `near` is given")
@openapi.parameter("authority", str, "query", description="6-digit authority code: it and those under it")
@openapi.parameter("type", str, "query", description="registration_window | bank_branch | mall | community | village")
@openapi.parameter("near", str, "query", description="lat,lng (WGS-84)")
@openapi.response(422, description="a parameter is invalid")
async def list_points(request: Request):
    return json(await directory.directory(request.args.get("authority"), request.args.get("type"),
                                          request.args.get("near")))


@public.get("/api/v1/points/<code:str>/slots")
@openapi.summary("The slots of a point on a day: [{start, end, capacity, remaining}]")
@openapi.parameter("date", str, "query", required=True, description="YYYY-MM-DD")
@openapi.response(404, description="no such active point")
@openapi.response(422, description="date missing, malformed, past or beyond the booking window")
async def slots(request: Request, code: str):
    point = await booking.active_point(code, field="code")
    return json(await booking.slot_availability(request.app.ctx.settings, point, _date_arg(request)))


@public.get("/points")
@openapi.summary("The directory page (phone-sized, Chinese)")
async def points_page(request: Request):
    rows = await directory.directory(request.args.get("authority"), request.args.get("type"), request.args.get("near"))
    template = request.app.ctx.templates.get_template("appointments/directory.html")
    return html(template.render(points=rows))


@public.get("/points/<code:str>")
@openapi.summary("The booking page of one point (phone-sized, Chinese); the mini-program passes its token")
async def booking_page(request: Request, code: str):
    settings = request.app.ctx.settings
    point = await booking.active_point(code, field="code")
    await point.fetch_related("authority")
    rows = await directory.published_helpers([point.id])
    calendar = calendar_for(settings)
    today = clock.today(calendar.zone)
    days = []
    for offset in range(settings.appointments.booking_days_ahead + 1):
        day = date.fromordinal(today.toordinal() + offset)
        if schedule.slots_on(settings, point, day):
            days.append({"date": day.isoformat(), "label": f"{day.month}月{day.day}日 周{'一二三四五六日'[day.weekday()]}"})
    template = request.app.ctx.templates.get_template("appointments/book.html")
    return html(template.render(
        point=directory.public_point_view(point, rows.get(point.id, []), None), days=days[:7],
        business_types=BusinessType.choices()))


# --- the applicant ----------------------------------------------------------------------------------------------

@applicant_bp.post("")
@openapi.summary("Book a slot → {id, checkin_code, point, start, end, status}")
@openapi.body({"application/json": AppointmentIn})
@openapi.secured("bearer")
@openapi.response(201, description="booked; an SMS confirms it and another reminds the day before")
@openapi.response(409, description="slot_full, already_booked_that_day, booking_blocked (with until), slot_started")
@openapi.response(422, description="a field is invalid, or the start is not one of the point's slots")
async def book(request: Request):
    applicant = await applicant_record(request)
    data = parse(request, AppointmentIn)
    settings = request.app.ctx.settings
    appointment = await booking.book(settings, applicant, data.point_code, data.start, data.business_type, data.note)
    return json(booking.appointment_view(settings, appointment), status=201)


@applicant_bp.get("")
@openapi.summary("My appointments, newest first")
@openapi.secured("bearer")
async def mine(request: Request):
    applicant = await applicant_record(request)
    settings = request.app.ctx.settings
    items = [booking.appointment_view(settings, item) for item in await booking.mine(applicant.id)]
    block = await booking.booking_block(settings, applicant.id)
    return json({"items": items, "blocked": block})


@applicant_bp.post("/<appointment_id:int>/cancel")
@openapi.summary("Cancel before the slot starts; the place is free again at once")
@openapi.secured("bearer")
@openapi.response(404, description="not my appointment")
@openapi.response(409, description="not_cancellable")
async def cancel(request: Request, appointment_id: int):
    applicant = await applicant_record(request)
    appointment = await booking.cancel(applicant.id, appointment_id)
    return json(booking.appointment_view(request.app.ctx.settings, appointment))


@applicant_bp.post("/<appointment_id:int>/reschedule")
@openapi.summary("Move to another slot: cancel and book in one transaction (the old place is kept on failure)")
@openapi.body({"application/json": RescheduleIn})
@openapi.secured("bearer")
@openapi.response(201, description="the new appointment")
@openapi.response(409, description="slot_full, not_cancellable, booking_blocked")
async def reschedule(request: Request, appointment_id: int):
    applicant = await applicant_record(request)
    data = parse(request, RescheduleIn)
    settings = request.app.ctx.settings
    appointment = await booking.reschedule(settings, applicant, appointment_id, data.start, data.point_code)
    return json(booking.appointment_view(settings, appointment), status=201)


# --- helpers at the point -----------------------------------------------------------------------------------------

@helper_bp.get("/appointments")
@openapi.summary("The appointments at the helper's point on a day (default today)")
@openapi.parameter("date", str, "query")
@openapi.secured("bearer")
@openapi.response(403, description="not a helper tied to a point")
async def helper_list(request: Request):
    staff = await current_staff(request)
    settings = request.app.ctx.settings
    day = _date_arg(request, default=clock.today(calendar_for(settings).zone))
    return json([booking.appointment_view(settings, item, for_staff=True)
                 for item in await booking.for_helper(settings, staff, day)])


@helper_bp.post("/appointments/<appointment_id:int>/check-in")
@openapi.summary("Check a visitor in by the code on their phone")
@openapi.body({"application/json": CheckInIn})
@openapi.secured("bearer")
@openapi.response(403, description="not a helper tied to a point")
@openapi.response(404, description="no such appointment at this point")
@openapi.response(409, description="too_early, not_checkable")
@openapi.response(422, description="wrong code")
async def check_in(request: Request, appointment_id: int):
    staff = await current_staff(request)
    data = parse(request, CheckInIn)
    settings = request.app.ctx.settings
    appointment = await booking.check_in(settings, staff, appointment_id, data.checkin_code)
    return json(booking.appointment_view(settings, appointment, for_staff=True))


@helper_bp.post("/appointments/<appointment_id:int>/serve")
@openapi.summary("Mark a checked-in visitor served")
@openapi.secured("bearer")
@openapi.response(409, description="not_servable")
async def serve(request: Request, appointment_id: int):
    staff = await current_staff(request)
    appointment = await booking.serve(staff, appointment_id)
    return json(booking.appointment_view(request.app.ctx.settings, appointment, for_staff=True))

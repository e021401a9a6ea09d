"""Bookings at help points: a slot's `booked` count moves only by a guarded UPDATE, so capacity is never exceeded
however many book at once; one appointment per applicant and day (a unique constraint); cancel until the slot
starts; helpers check people in by code and mark them served; unchecked appointments become no-shows."""
from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime, timedelta, timezone

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server import clock
from server.config import Settings
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.models.accounts import Applicant, Staff
from server.models.applications import BUSINESS_TYPES
from server.models.appointments import Appointment, AppointmentSlot
from server.models.guides import ServicePoint
from server.models.notifications import OutboxMessage
from server.services.appointments.schedule import Slot, slots_on
from server.services.applications.identifiers import mask_phone
from server.vocabulary import AppointmentStatus, BusinessType
from server.services.notifications.messages import enqueue_sms
from server.services.review.worktime import calendar_for

# The one table of allowed moves: action → (from, to).
TRANSITIONS = {
    "cancel": ("booked", "cancelled"),
    "check_in": ("booked", "checked_in"),
    "serve": ("checked_in", "served"),
    "miss": ("booked", "no_show"),
}
CHECKIN_DIGITS = 6


def conflict(code: str, message: str, **extra) -> Conflict:
    error = Conflict(message, **extra)
    error.code = code
    return error


def checkin_code(settings: Settings, appointment_id: int) -> str:
    """Derived from the server secret, never stored: the ticket the applicant shows, checked by the helper."""
    digest = hmac.new(settings.secret_key.encode(), f"appointment-checkin:{appointment_id}".encode(),
                      hashlib.sha256).digest()
    return str(int.from_bytes(digest[:8], "big") % 10 ** CHECKIN_DIGITS).zfill(CHECKIN_DIGITS)


async def active_point(code: str, field: str = "point_code") -> ServicePoint:
    point = await ServicePoint.get_or_none(code=code, active=True)
    if point is None:
        raise NotFound("网点不存在或已停用", field=field)
    return point


def _local_day(settings: Settings, moment: datetime) -> date:
    return moment.astimezone(calendar_for(settings).zone).date()


def check_bookable_day(settings: Settings, day: date, field: str = "date") -> None:
    today = clock.today(calendar_for(settings).zone)
    if day < today:
        raise Invalid(field, "不能预约已过去的日期")
    if day > today + timedelta(days=settings.appointments.booking_days_ahead):
        raise Invalid(field, f"只能预约{settings.appointments.booking_days_ahead}天内的时段")


async def slot_availability(settings: Settings, point: ServicePoint, day: date) -> list[dict]:
    """Every slot of the day with its capacity and places left (none once it has started)."""
    check_bookable_day(settings, day)
    slots = slots_on(settings, point, day)
    if not slots:
        return []
    rows = {row.starts_at: row for row in await AppointmentSlot.filter(
        point_id=point.id, starts_at__gte=slots[0].start_utc, starts_at__lte=slots[-1].start_utc)}
    moment = clock.now()
    answer = []
    for slot in slots:
        row = rows.get(slot.start)
        capacity = row.capacity if row else point.slot_capacity
        remaining = max(capacity - (row.booked if row else 0), 0) if slot.start > moment else 0
        answer.append({"start": slot.start.isoformat(), "end": slot.end.isoformat(), "capacity": capacity,
                       "remaining": remaining})
    return answer


def _parse_start(text, field: str = "start") -> datetime:
    try:
        start = datetime.fromisoformat(str(text))
    except ValueError:
        raise Invalid(field, "时间格式应为 ISO 8601，如 2026-12-01T09:00:00+08:00") from None
    if start.tzinfo is None:
        raise Invalid(field, "时间应带时区，如 +08:00")
    return start


def _offered_slot(settings: Settings, point: ServicePoint, start: datetime, field: str = "start") -> Slot:
    day = _local_day(settings, start)
    check_bookable_day(settings, day, field)
    for slot in slots_on(settings, point, day):
        if slot.start == start:
            if slot.start <= clock.now():
                raise conflict("slot_started", "该时段已开始，请选择其他时段")
            return slot
    raise Invalid(field, "该网点此时段不接受预约，请按可预约时段选择")


async def sweep_no_shows() -> int:
    """Appointments whose slot ended without a check-in become no-shows (one guarded UPDATE)."""
    source, target = TRANSITIONS["miss"]
    return await Appointment.filter(status=source, ends_at__lte=clock.now()).update(status=target)


async def booking_block(settings: Settings, applicant_id: int) -> dict | None:
    """Three no-shows within 30 days block booking for 7 days from the third (the numbers are config)."""
    rules = settings.appointments
    moment = clock.now()
    since = moment - timedelta(days=rules.no_show_window_days + rules.block_days)
    ends = [row.ends_at for row in await Appointment.filter(
        applicant_id=applicant_id, status="no_show", ends_at__gte=since).order_by("ends_at")]
    for index in range(rules.no_show_limit - 1, len(ends)):
        first = ends[index - rules.no_show_limit + 1]
        until = ends[index] + timedelta(days=rules.block_days)
        if ends[index] - first <= timedelta(days=rules.no_show_window_days) and ends[index] <= moment < until:
            local_until = until.astimezone(calendar_for(settings).zone).strftime("%Y-%m-%d %H:%M")
            return {"until": until.isoformat(),
                    "reason": f"您在{rules.no_show_window_days}天内有{rules.no_show_limit}次预约未到场，"
                              f"{local_until}前不能预约"}
    return None


def _sms_params(settings: Settings, point: ServicePoint, appointment: Appointment) -> dict:
    zone = calendar_for(settings).zone
    return {"point": point.name, "time": appointment.starts_at.astimezone(zone).strftime("%m月%d日%H:%M"),
            "business": BusinessType(appointment.business_type).label,
            "code": checkin_code(settings, appointment.id), "address": point.address or "见小程序网点详情"}


async def _take_place(settings: Settings, conn, applicant: Applicant, point: ServicePoint, slot: Slot,
                      business_type: str, note: str) -> Appointment:
    # The slot row exists before the race: created once, concurrent creators ignored by the unique key.
    await AppointmentSlot.bulk_create([AppointmentSlot(point_id=point.id, starts_at=slot.start_utc,
                                                       ends_at=slot.end_utc, capacity=point.slot_capacity)],
                                      ignore_conflicts=True, using_db=conn)
    row = await AppointmentSlot.get(point_id=point.id, starts_at=slot.start_utc).using_db(conn)
    taken = await AppointmentSlot.filter(id=row.id, booked__lt=F("capacity")).using_db(conn).update(
        booked=F("booked") + 1)
    if not taken:
        raise conflict("slot_full", "该时段已约满，请选择其他时段")
    try:
        appointment = await Appointment.create(
            applicant_id=applicant.id, point_id=point.id, slot_id=row.id, starts_at=slot.start_utc, ends_at=slot.end_utc,
            business_type=business_type, note=note, holds_day=_local_day(settings, slot.start), using_db=conn)
    except IntegrityError:
        raise conflict("already_booked_that_day", "您当天已有预约，每人每天限预约一次") from None
    if applicant.phone:
        params = _sms_params(settings, point, appointment)
        await enqueue_sms(applicant.phone, "appointment_booked", params, connection=conn, authority=point.authority_id)
        zone = calendar_for(settings).zone
        remind_at = datetime.combine(_local_day(settings, slot.start) - timedelta(days=1),
                                     datetime.min.time(), zone) + timedelta(hours=settings.appointments.reminder_hour)
        if remind_at > clock.now():
            reminder = await enqueue_sms(applicant.phone, "appointment_reminder", params, connection=conn,
                                         at=remind_at.astimezone(timezone.utc), authority=point.authority_id)
            appointment.reminder_message_id = reminder.id
            await appointment.save(using_db=conn, update_fields=["reminder_message_id"])
    return appointment


async def _release_place(conn, appointment: Appointment) -> None:
    source, target = TRANSITIONS["cancel"]
    changed = await Appointment.filter(id=appointment.id, status=source, starts_at__gt=clock.now()).using_db(
        conn).update(status=target, holds_day=None, cancelled_at=clock.now())
    if not changed:
        raise conflict("not_cancellable", "预约已签到、已取消或时段已开始，不能取消")
    await AppointmentSlot.filter(id=appointment.slot_id, booked__gt=0).using_db(conn).update(booked=F("booked") - 1)
    if appointment.reminder_message_id:
        # A reminder not yet sent is withdrawn with the appointment.
        await OutboxMessage.filter(id=appointment.reminder_message_id, status="pending").using_db(conn).delete()


def _check_request(business_type: str, note: str) -> None:
    if business_type not in BUSINESS_TYPES:
        raise Invalid("business_type", "办理业务应为 " + "、".join(BUSINESS_TYPES))
    if len(note or "") > 200:
        raise Invalid("note", "备注不能超过200字")


async def _refuse_when_blocked(settings: Settings, applicant_id: int) -> None:
    await sweep_no_shows()
    block = await booking_block(settings, applicant_id)
    if block:
        raise conflict("booking_blocked", block["reason"], until=block["until"])


async def book(settings: Settings, applicant: Applicant, point_code: str, start: str, business_type: str,
               note: str = "") -> Appointment:
    _check_request(business_type, note)
    point = await active_point(point_code)
    slot = _offered_slot(settings, point, _parse_start(start))
    await _refuse_when_blocked(settings, applicant.id)
    async with in_transaction() as conn:
        appointment = await _take_place(settings, conn, applicant, point, slot, business_type, note or "")
    appointment.point = point
    return appointment


async def get_for_applicant(applicant_id: int, appointment_id: int) -> Appointment:
    appointment = await Appointment.get_or_none(id=appointment_id, applicant_id=applicant_id).prefetch_related("point")
    if appointment is None:
        raise NotFound("预约不存在")
    return appointment


async def cancel(applicant_id: int, appointment_id: int) -> Appointment:
    appointment = await get_for_applicant(applicant_id, appointment_id)
    async with in_transaction() as conn:
        await _release_place(conn, appointment)
    return await get_for_applicant(applicant_id, appointment_id)


async def reschedule(settings: Settings, applicant: Applicant, appointment_id: int, start: str,
                     point_code: str | None = None) -> Appointment:
    """Cancel and book in one transaction: the old place is kept unless the new one is had."""
    old = await get_for_applicant(applicant.id, appointment_id)
    point = await active_point(point_code) if point_code else old.point
    slot = _offered_slot(settings, point, _parse_start(start))
    await _refuse_when_blocked(settings, applicant.id)
    async with in_transaction() as conn:
        await _release_place(conn, old)
        appointment = await _take_place(settings, conn, applicant, point, slot, old.business_type, old.note)
    appointment.point = point
    return appointment


async def mine(applicant_id: int) -> list[Appointment]:
    await sweep_no_shows()
    return await Appointment.filter(applicant_id=applicant_id).order_by("-starts_at").prefetch_related("point")


# --- helpers at the point ---------------------------------------------------------------------------------------

def _require_helper(staff: Staff) -> int:
    if staff.role != "helper" or staff.point_id is None:
        raise Forbidden("仅网点帮办员可以办理签到")
    return staff.point_id


async def _at_helpers_point(staff: Staff, appointment_id: int) -> Appointment:
    point_id = _require_helper(staff)
    appointment = await Appointment.get_or_none(id=appointment_id, point_id=point_id).prefetch_related(
        "point", "applicant")
    if appointment is None:
        raise NotFound("本网点没有该预约")
    return appointment


async def check_in(settings: Settings, staff: Staff, appointment_id: int, code: str) -> Appointment:
    await sweep_no_shows()
    appointment = await _at_helpers_point(staff, appointment_id)
    if not hmac.compare_digest(str(code or ""), checkin_code(settings, appointment.id)):
        raise Invalid("checkin_code", "签到码不正确")
    opens = appointment.starts_at - timedelta(minutes=settings.appointments.check_in_minutes_before)
    if clock.now() < opens:
        raise conflict("too_early", f"预约时段开始前{settings.appointments.check_in_minutes_before}分钟内才能签到")
    source, target = TRANSITIONS["check_in"]
    changed = await Appointment.filter(id=appointment.id, status=source, ends_at__gt=clock.now()).update(
        status=target, checked_in_at=clock.now(), helper_id=staff.id)
    if not changed:
        raise conflict("not_checkable", "该预约" + AppointmentStatus.label_of(appointment.status) + "，不能签到")
    return await _at_helpers_point(staff, appointment_id)


async def serve(staff: Staff, appointment_id: int) -> Appointment:
    appointment = await _at_helpers_point(staff, appointment_id)
    source, target = TRANSITIONS["serve"]
    changed = await Appointment.filter(id=appointment.id, status=source).update(
        status=target, served_at=clock.now(), helper_id=staff.id)
    if not changed:
        raise conflict("not_servable", "只有已签到的预约才能标记为已办结")
    return await _at_helpers_point(staff, appointment_id)


async def for_helper(settings: Settings, staff: Staff, day: date) -> list[Appointment]:
    point_id = _require_helper(staff)
    await sweep_no_shows()
    zone = calendar_for(settings).zone
    opens = datetime.combine(day, datetime.min.time(), zone)
    opens = opens.astimezone(timezone.utc)
    return await Appointment.filter(point_id=point_id, starts_at__gte=opens, starts_at__lt=opens + timedelta(days=1)
                                    ).order_by("starts_at", "id").prefetch_related("applicant")


def appointment_view(settings: Settings, appointment: Appointment, *, for_staff: bool = False) -> dict:
    point, zone = appointment.point, calendar_for(settings).zone
    view = {
        "id": appointment.id, "status": appointment.status,
        "status_label": AppointmentStatus(appointment.status).label,
        "start": appointment.starts_at.astimezone(zone).isoformat(),
        "end": appointment.ends_at.astimezone(zone).isoformat(),
        "business_type": appointment.business_type,
        "business_label": BusinessType(appointment.business_type).label, "note": appointment.note,
        "checked_in_at": appointment.checked_in_at.isoformat() if appointment.checked_in_at else None,
        "served_at": appointment.served_at.isoformat() if appointment.served_at else None,
    }
    if for_staff:
        view["applicant_phone"] = mask_phone(appointment.applicant.phone)
    else:
        view["checkin_code"] = checkin_code(settings, appointment.id)
        view["point"] = {"code": point.code, "name": point.name, "address": point.address, "hotline": point.hotline}
    return view

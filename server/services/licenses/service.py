"""The license issue of one approved filing: one transition table, guarded writes, SMS through the outbox."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Literal
from zoneinfo import ZoneInfo

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from server.config import Settings
from server.errors import Conflict, Invalid, NotFound
from server.models.accounts import Applicant, Staff
from server.models.applications import Application, Party
from server.models.authorities import Authority
from server.models.licenses import LicenseIssue
from server.clock import now
from server.services.accounts.staff import require_role
from server.services.applications.identifiers import (
    ID_TYPES,
    id_number_problem,
    mask_id_number,
    mask_name,
    mask_phone,
    mobile_problem,
    normalise_id_number,
)
from server.services.authorities import city_code, scope_prefix
from server.services.notifications import messages as notifications
from server.services.review import audit
from server.services.review.audit import Origin
from server.vocabulary import BusinessType, LicenseAction, LicenseMethod, LicenseStatus, OldLicenseStatus

# Filings that produce a new license: 设立, and 变更 (whose old license is collected when the new one is handed out).
LICENSED_BUSINESS_TYPES = ("establish", "change")

TRANSITIONS: dict[str, dict[str, str]] = {
    "choose_electronic": {"awaiting_choice": "electronic_only"},
    "choose_window": {"awaiting_choice": "awaiting_print"},
    "choose_post": {"awaiting_choice": "awaiting_post"},
    "ready": {"awaiting_print": "ready_for_pickup"},
    "hand_over": {"ready_for_pickup": "handed_over"},
    "post": {"awaiting_post": "posted"},
}
WINDOW_ROLES = ("reviewer", "helper")
VIEW_ROLES = ("reviewer", "helper", "admin")


def _conflict(code: str, message: str) -> Conflict:
    error = Conflict(message)
    error.code = code
    return error


def mask_address(value: str | None) -> str | None:
    """广西崇左市江州区新民路1号 → 广西崇左市江州区****: down to the county is enough to sort post, no more."""
    if not value:
        return value
    head = value[:12]
    cut = max(head.rfind(mark) for mark in "省市区县旗")
    return (value[:cut + 1] if cut >= 0 else value[:4]) + "****"


async def open_issue(application: Application, connection) -> LicenseIssue | None:
    """Called by 核准 in its transaction: a 设立 or 变更 gets its license issue, awaiting the applicant's choice."""
    if application.business_type not in LICENSED_BUSINESS_TYPES:
        return None
    return await LicenseIssue.create(
        application_id=application.id, credit_code=application.credit_code, entity_name=application.name or "",
        business_type=application.business_type, authority_code=application.authority_id,
        old_license_status="outstanding" if application.business_type == "change" else "not_applicable",
        using_db=connection)


async def _place_name(code: str | None) -> str:
    authority = await Authority.get_or_none(code=code) if code else None
    return authority.name if authority else (code or "")


async def view(issue: LicenseIssue) -> dict:
    """What the applicant and staff see: personal data masked."""
    return {
        "id": str(issue.id), "application_id": str(issue.application_id), "credit_code": issue.credit_code,
        "entity_name": issue.entity_name, "business_type": issue.business_type,
        "business_label": BusinessType.label_of(issue.business_type, ""), "authority_code": issue.authority_code,
        "status": issue.status, "status_label": LicenseStatus(issue.status).label, "method": issue.method,
        "method_label": LicenseMethod.label_of(issue.method),
        "pickup_authority_code": issue.pickup_authority_code,
        "pickup_authority_name": await _place_name(issue.pickup_authority_code) if issue.pickup_authority_code else None,
        "recipient_name_masked": mask_name(issue.recipient_name), "recipient_phone_masked": mask_phone(issue.recipient_phone),
        "postal_address_masked": mask_address(issue.postal_address), "serial_number": issue.serial_number,
        "ready_at": _iso(issue.ready_at), "collected_by_masked": mask_name(issue.collected_by),
        "collector_id_masked": issue.collector_id_masked, "handed_over_at": _iso(issue.handed_over_at),
        "carrier": issue.carrier, "tracking_number": issue.tracking_number, "posted_at": _iso(issue.posted_at),
        "old_license_status": issue.old_license_status,
        "old_license_label": OldLicenseStatus(issue.old_license_status).label,
        "old_serial_number": issue.old_serial_number, "old_license_note": issue.old_license_note,
        "handled_by": issue.handled_by, "created_at": _iso(issue.created_at),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def _move(issue: LicenseIssue, action: str, connection, **updates) -> LicenseIssue:
    """The one guarded write: UPDATE … WHERE status = FROM; zero rows means someone else acted first."""
    current = issue.status
    to = TRANSITIONS[action].get(current)
    if to is None:
        raise _conflict("license_state", f"执照当前为「{LicenseStatus(current).label}」，不能{LicenseAction(action).label}")
    changed = await LicenseIssue.filter(id=issue.id, status=current).using_db(connection).update(status=to, **updates)
    if changed != 1:
        raise _conflict("license_state", "该执照已被他人处理，请刷新后重试")
    issue.status = to
    for key, value in updates.items():
        setattr(issue, key, value)
    return issue


async def _applicant_phone(issue: LicenseIssue, connection) -> str | None:
    """Where the applicant is told: the phone bound to the mini-program account, else the filing's liaison."""
    application = await Application.get(id=issue.application_id).using_db(connection)
    applicant = await Applicant.get(id=application.applicant_id).using_db(connection)
    if applicant.phone:
        return applicant.phone
    liaison = await Party.filter(application_id=application.id, role="liaison").using_db(connection).first()
    return liaison.phone if liaison and liaison.phone else None


async def _tell(issue: LicenseIssue, template: str, params: dict, connection) -> None:
    phone = await _applicant_phone(issue, connection)
    if phone:
        await notifications.enqueue_sms(phone, template, {"name": issue.entity_name, **params}, connection=connection,
                                        authority=issue.authority_code)


# --- the applicant ---------------------------------------------------------------------------------------------

async def for_applicant(applicant_id: int, application_id) -> LicenseIssue:
    from server.services.applications.service import get_for_applicant

    application = await get_for_applicant(applicant_id, application_id)
    issue = await LicenseIssue.get_or_none(application_id=application.id)
    if issue is None:
        raise NotFound("该申请没有待领取的营业执照（核准后的设立、变更登记才有）")
    return issue


async def choose(applicant_id: int, application_id, method: Literal["electronic", "window", "post"],
                 pickup_authority_code: str | None = None, recipient_name: str | None = None,
                 recipient_phone: str | None = None, postal_address: str | None = None) -> dict:
    """The applicant's choice, once: 电子营业执照 only, a window anywhere in the city (异地取照), or post."""
    issue = await for_applicant(applicant_id, application_id)
    updates: dict = {"method": method, "chosen_at": now()}
    if method == "window":
        if not pickup_authority_code:
            raise Invalid("pickup_authority_code", "请选择领取营业执照的登记机关")
        place = await Authority.get_or_none(code=pickup_authority_code)
        if place is None or place.level == "province" or city_code(place.code) != city_code(issue.authority_code):
            raise Invalid("pickup_authority_code", "可在本市（设区的市）任一登记机关领取营业执照（全市通办），请选择本市的登记机关")
        updates["pickup_authority_code"] = place.code
    elif method == "post":
        if not recipient_name:
            raise Invalid("recipient_name", "请填写收件人")
        if not recipient_phone or mobile_problem(recipient_phone):
            raise Invalid("recipient_phone", "收件人手机号应为11位手机号码")
        if not postal_address or len(postal_address) < 6:
            raise Invalid("postal_address", "请填写完整的邮寄地址")
        updates.update(recipient_name=recipient_name, recipient_phone=recipient_phone, postal_address=postal_address)
    async with in_transaction() as conn:
        await _move(issue, f"choose_{method}", conn, **updates)
    return await view(issue)


# --- the window ------------------------------------------------------------------------------------------------

async def _for_staff(staff: Staff, issue_id, connection=None) -> LicenseIssue:
    from server.services.review.access import as_uuid

    prefix = scope_prefix(staff.authority)
    query = LicenseIssue.filter(Q(pickup_authority_code__startswith=prefix) | Q(authority_code__startswith=prefix),
                                id=as_uuid(issue_id))
    if connection is not None:
        query = query.using_db(connection).select_for_update()
    issue = await query.first() if as_uuid(issue_id) else None
    if issue is None:
        raise NotFound("执照记录不存在或不在您的管辖范围内")
    return issue


def _at_window(staff: Staff, issue: LicenseIssue) -> None:
    """Only the window the applicant chose prints and hands the license out (异地取照: not necessarily the approver)."""
    if not (issue.pickup_authority_code or "").startswith(scope_prefix(staff.authority)):
        raise _conflict("not_this_window", "申请人选择在其他登记机关领取，本窗口不能办理")


def _at_authority(staff: Staff, issue: LicenseIssue) -> None:
    if not issue.authority_code.startswith(scope_prefix(staff.authority)):
        raise _conflict("not_this_authority", "邮寄由核准的登记机关办理")


def _serial(value: str | None, field: str = "serial_number") -> str:
    value = (value or "").strip()
    if not value or len(value) > 32 or not value.isalnum():
        raise Invalid(field, "营业执照编号应为1至32位字母或数字")
    return value.upper()


def _actor(staff: Staff) -> str:
    return f"{staff.authority.name}{staff.username}"[:64]


async def window_queue(staff: Staff) -> list[dict]:
    """What waits at this window: licenses to print and to hand over here, and posts this authority sends."""
    require_role(staff, *VIEW_ROLES)
    prefix = scope_prefix(staff.authority)
    rows = await LicenseIssue.filter(
        Q(pickup_authority_code__startswith=prefix, status__in=("awaiting_print", "ready_for_pickup"))
        | Q(authority_code__startswith=prefix, status="awaiting_post")).order_by("chosen_at")
    return [await view(row) for row in rows]


async def mark_ready(staff: Staff, origin: Origin, issue_id, serial_number: str) -> dict:
    """The license is printed at the chosen window: the applicant is told where to collect it."""
    require_role(staff, *WINDOW_ROLES)
    serial = _serial(serial_number)
    async with in_transaction() as conn:
        issue = await _for_staff(staff, issue_id, conn)
        _at_window(staff, issue)
        await _move(issue, "ready", conn, serial_number=serial, ready_at=now(), handled_by=_actor(staff))
        await _tell(issue, "license_ready", {"place": await _place_name(issue.pickup_authority_code)}, conn)
        await audit.record(staff, origin, "license_ready", detail={"license_id": str(issue.id),
                                                                   "serial_number": serial}, connection=conn)
    return await view(issue)


def _old_license_settled(issue: LicenseIssue) -> None:
    if issue.old_license_status == "outstanding":
        raise _conflict("old_license_outstanding",
                        "变更后的新营业执照须在原营业执照收缴或声明遗失后才能发放，请先登记原执照收缴情况")


async def hand_over(staff: Staff, origin: Origin, issue_id, serial_number: str, collected_by: str, id_type: str,
                    id_number: str, id_checked: bool) -> dict:
    """领取: the serial handed out must be the one printed; the collector's ID is checked and kept only masked."""
    require_role(staff, *WINDOW_ROLES)
    serial = _serial(serial_number)
    collected_by = (collected_by or "").strip()
    if not collected_by or len(collected_by) > 64:
        raise Invalid("collected_by", "请填写领取人姓名")
    if not id_checked:
        raise Invalid("id_checked", "须核验领取人身份证件后才能发放营业执照")
    if id_type not in ID_TYPES:
        raise Invalid("id_type", f"证件类型应为 {'、'.join(ID_TYPES)} 之一")
    number = normalise_id_number(id_type, id_number or "")
    problem = id_number_problem(id_type, number)
    if problem:
        raise Invalid("id_number", problem)
    async with in_transaction() as conn:
        issue = await _for_staff(staff, issue_id, conn)
        _at_window(staff, issue)
        if issue.status == "ready_for_pickup" and serial != issue.serial_number:
            raise Invalid("serial_number", f"发放的执照编号与打印登记的编号（{issue.serial_number}）不一致")
        _old_license_settled(issue)
        moment = now()
        await _move(issue, "hand_over", conn, collected_by=collected_by, collector_id_masked=mask_id_number(number),
                    handed_over_at=moment, handled_by=_actor(staff))
        await _tell(issue, "license_handed_over", {"serial": serial, "collector": mask_name(collected_by),
                                                   "place": await _place_name(issue.pickup_authority_code)}, conn)
        await audit.record(staff, origin, "license_hand_over", detail={"license_id": str(issue.id),
                                                                       "serial_number": serial}, connection=conn)
    return await view(issue)


async def post(staff: Staff, origin: Origin, issue_id, serial_number: str, carrier: str, tracking_number: str) -> dict:
    """邮寄送达: carrier and tracking number; the applicant is told by SMS."""
    require_role(staff, *WINDOW_ROLES)
    serial = _serial(serial_number)
    carrier = (carrier or "").strip()
    tracking = (tracking_number or "").strip()
    if not carrier or len(carrier) > 32:
        raise Invalid("carrier", "请填写快递公司")
    if not tracking or len(tracking) > 64 or not tracking.replace("-", "").isalnum():
        raise Invalid("tracking_number", "运单号应为字母或数字")
    async with in_transaction() as conn:
        issue = await _for_staff(staff, issue_id, conn)
        _at_authority(staff, issue)
        _old_license_settled(issue)
        await _move(issue, "post", conn, serial_number=serial, carrier=carrier, tracking_number=tracking,
                    posted_at=now(), handled_by=_actor(staff))
        await _tell(issue, "license_posted", {"carrier": carrier, "tracking": tracking}, conn)
        await audit.record(staff, origin, "license_post", detail={"license_id": str(issue.id), "serial_number": serial,
                                                                  "carrier": carrier}, connection=conn)
    return await view(issue)


async def settle_old_license(staff: Staff, origin: Origin, issue_id, outcome: Literal["collected", "lost"],
                             old_serial_number: str | None = None, reason: str | None = None) -> dict:
    """收缴 the old license of a 变更 (with its serial), or record it declared lost (with the reason)."""
    require_role(staff, *WINDOW_ROLES)
    reason = (reason or "").strip()
    serial = _serial(old_serial_number, "old_serial_number") if outcome == "collected" else None
    if outcome == "lost" and not reason:
        raise Invalid("reason", "声明遗失须填写理由（如已登报或在公示系统声明作废）")
    if len(reason) > 255:
        raise Invalid("reason", "理由不超过255字")
    async with in_transaction() as conn:
        issue = await _for_staff(staff, issue_id, conn)
        changed = await LicenseIssue.filter(id=issue.id, old_license_status="outstanding").using_db(conn).update(
            old_license_status=outcome, old_serial_number=serial, old_license_note=reason or None,
            old_license_recorded_at=now())
        if changed != 1:
            raise _conflict("old_license_state",
                            f"原营业执照当前为「{OldLicenseStatus(issue.old_license_status).label}」，无需再登记")
        await audit.record(staff, origin, "license_old_" + outcome, detail={"license_id": str(issue.id),
                                                                           "old_serial_number": serial},
                           connection=conn)
    return await view(await LicenseIssue.get(id=issue.id))


# --- the ledger (台账) -----------------------------------------------------------------------------------------

def _period(date_from: str | None, date_to: str | None, zone: str) -> tuple[datetime | None, datetime | None]:
    """Local days (review.timezone) as UTC bounds."""
    tz = ZoneInfo(zone)

    def day(value, field):
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise Invalid(field, f"{field}：日期格式应为 YYYY-MM-DD") from None

    start, end = day(date_from, "from"), day(date_to, "to")
    if start and end and end < start:
        raise Invalid("to", "结束日期不能早于开始日期")
    return (datetime.combine(start, time(), tzinfo=tz).astimezone(timezone.utc) if start else None,
            datetime.combine(end + timedelta(days=1), time(), tzinfo=tz).astimezone(timezone.utc) if end else None)


async def ledger_rows(staff: Staff, settings: Settings, *, window: str | None = None, date_from: str | None = None,
                      date_to: str | None = None, status: str | None = None, q: str | None = None,
                      limit: int | None = None) -> list[LicenseIssue]:
    """The ledger in the staff member's scope: per window (pickup authority, or the posting authority) and period
    (when the license was handed over or posted, or the old one collected)."""
    require_role(staff, *VIEW_ROLES)
    prefix = scope_prefix(staff.authority)
    if window:
        if not window.startswith(prefix) or not await Authority.exists(code=window):
            raise Invalid("window", "窗口应为您管辖范围内的登记机关代码")
        prefix = window
    if status and status not in LicenseStatus.values():
        raise Invalid("status", f"状态应为 {'、'.join(LicenseStatus.values())} 之一")
    query = LicenseIssue.filter(Q(pickup_authority_code__startswith=prefix)
                                | Q(method="post", authority_code__startswith=prefix)
                                | Q(old_license_status__in=("collected", "lost"), authority_code__startswith=prefix))
    start, end = _period(date_from, date_to, settings.review.timezone)
    if start or end:
        conditions = []
        for column in ("handed_over_at", "posted_at", "old_license_recorded_at"):
            bounds = {}
            if start:
                bounds[f"{column}__gte"] = start
            if end:
                bounds[f"{column}__lt"] = end
            conditions.append(Q(**bounds))
        query = query.filter(Q(*conditions, join_type="OR"))
    if status:
        query = query.filter(status=status)
    if q:
        query = query.filter(Q(credit_code=q.strip().upper()) | Q(entity_name__icontains=q.strip())
                             | Q(serial_number=q.strip().upper()))
    query = query.order_by("-created_at")
    return await (query.limit(limit) if limit else query)


XLSX_COLUMNS = ("统一社会信用代码", "名称", "业务类型", "领取方式", "领取机关", "状态", "营业执照编号", "领取人", "领取人证件号",
                "领取时间", "快递公司", "运单号", "收件人", "收件电话", "邮寄地址", "邮寄时间", "原执照", "原执照编号",
                "原执照说明", "经办人")


async def ledger_xlsx(staff: Staff, origin: Origin, settings: Settings, **filters) -> bytes:
    """The ledger as an XLSX sheet (openpyxl, write-only so a long period streams), personal data masked."""
    import io

    from openpyxl import Workbook

    rows = await ledger_rows(staff, settings, **filters)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("营业执照领取和收缴台账")
    sheet.append(list(XLSX_COLUMNS))
    zone = settings.review.timezone

    def local(value: datetime | None) -> str:
        from zoneinfo import ZoneInfo

        return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M") if value else ""

    places = {a.code: a.name for a in await Authority.filter(
        code__in={row.pickup_authority_code for row in rows if row.pickup_authority_code})}
    for row in rows:
        sheet.append([
            row.credit_code, row.entity_name, BusinessType.label_of(row.business_type, ""),
            LicenseMethod.label_of(row.method), places.get(row.pickup_authority_code or "", ""),
            LicenseStatus(row.status).label, row.serial_number or "", mask_name(row.collected_by) or "",
            row.collector_id_masked or "", local(row.handed_over_at), row.carrier or "", row.tracking_number or "",
            mask_name(row.recipient_name) or "", mask_phone(row.recipient_phone) or "",
            mask_address(row.postal_address) or "", local(row.posted_at), OldLicenseStatus(row.old_license_status).label,
            row.old_serial_number or "", row.old_license_note or "", row.handled_by or "",
        ])
    out = io.BytesIO()
    book.save(out)
    await audit.record(staff, origin, "license_ledger_export", detail={
        key: value for key, value in filters.items() if value} | {"rows": len(rows)})
    return out.getvalue()

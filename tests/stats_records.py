"""A hand-built set of records for the statistics tests, written straight into the tables the figures read.

Times are Beijing local time. Every expected figure in tests/test_statistics.py was counted by hand from the
list below, following the definitions in SPEC "Statistics" and issue 16.
"""
from __future__ import annotations

import hashlib
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise import connections

from server.models.accounts import Applicant
from server.models.applications import Application, TimelineEntry
from server.models.guides import PointScanDay, ServicePoint
from server.models.signing import Signature, SigningRequest
from server.services.statistics import rollups

BEIJING = ZoneInfo("Asia/Shanghai")


def bj(text: str) -> datetime:
    """'2026-01-05 09:00[:ss]' in Beijing time."""
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING)


async def application(applicant: Applicant, authority: str, business_type: str, entity_type: str = "llc",
                      events: list[tuple[str, str]] = (), signatures: list[str] = ()) -> Application:
    """One application with its timeline (action, Beijing time) and the signatures (Beijing times, one party each),
    written in the order of time; each timeline entry goes onto the statistics rollups as lifecycle.transition
    puts it there."""
    record = await Application.create(applicant=applicant, authority_id=authority, business_type=business_type,
                                      entity_type=entity_type, name="崇左统计测试有限公司", status="draft")
    for at, action in sorted([*((bj(at), action) for action, at in events), *((bj(at), None) for at in signatures)],
                             key=lambda item: item[0]):
        if action is None:
            await _signature(record, at)
            continue
        await add_event(record, action, at)
    return record


async def add_event(record: Application, action: str, at: datetime | str) -> None:
    """One timeline entry at `at` (a Beijing-time text or a datetime), onto the rollups as lifecycle.transition
    puts it there."""
    entry = await TimelineEntry.create(application_id=record.id, actor="测试", action=action,
                                       at=bj(at) if isinstance(at, str) else at)
    await rollups.record(record.id, entry.id, action, connections.get("default"))


async def _signature(record: Application, at: datetime) -> None:
    """One party's signature at `at`."""
    party = uuid.uuid4()
    request = await SigningRequest.create(
        application_id=record.id, party_id=party, signer_name="签字人", signer_role="investor",
        signer_kind="person", method="face", flow="cloud", token_hash=hashlib.sha256(party.bytes).hexdigest(),
        materials_version=1, materials_hash="0" * 64, snapshot_hash="0" * 64, status="signed",
        expires_at=at + timedelta(hours=48))
    await Signature.create(request=request, application_id=record.id, party_id=party, method="face",
                           materials_version=1, materials_hash="0" * 64, snapshot_hash="0" * 64,
                           signed_at=at, image_sha256="0" * 64, image_path="x.png", evidence_seq=0)


async def seed() -> None:
    applicant = await Applicant.create(openid="stats-applicant")
    # --- January 2026 -----------------------------------------------------------------------------------
    # A1 江州区 设立, 云帮办: returned twice, then locked; two signatories; accepted and approved.
    await application(applicant, "451402", "establish", events=[
        ("submit_cloud", "2026-01-05 09:00"), ("return", "2026-01-05 11:00"),
        ("submit_cloud", "2026-01-06 09:00"), ("return", "2026-01-06 10:00"),
        ("submit_cloud", "2026-01-07 09:00"), ("approve_lock", "2026-01-07 12:00"),
        ("submit_signed", "2026-01-08 10:30"), ("accept", "2026-01-08 15:00"), ("approve", "2026-01-09 10:00"),
    ], signatures=["2026-01-07 14:00", "2026-01-08 10:00"])
    # A2 江州区 变更, 云帮办: locked at once; three signatories.
    await application(applicant, "451402", "change", events=[
        ("submit_cloud", "2026-01-12 09:00"), ("approve_lock", "2026-01-12 10:00"),
        ("submit_signed", "2026-01-13 10:00"),
    ], signatures=["2026-01-12 11:00", "2026-01-12 13:00", "2026-01-13 09:30"])
    # A3 扶绥县 设立 个体工商户, 一般流程: returned once, then accepted and approved.
    await application(applicant, "451421", "establish", "individual_business", events=[
        ("submit_general", "2026-01-14 09:00"), ("return", "2026-01-14 15:00"),
        ("submit_general", "2026-01-15 09:00"), ("accept", "2026-01-15 11:00"), ("approve", "2026-01-16 09:00"),
    ])
    # A4 扶绥县 注销: submitted one second before midnight on 31 December (last year's December), accepted in January.
    await application(applicant, "451421", "deregister", events=[
        ("submit_general", "2025-12-31 23:59:59"), ("accept", "2026-01-02 10:00"),
    ])
    # A5 扶绥县 注销: submitted at midnight on 1 January, returned.
    await application(applicant, "451421", "deregister", events=[
        ("submit_general", "2026-01-01 00:00:00"), ("return", "2026-01-05 10:00"),
    ])
    # A6 崇左市本级 简易注销 个人独资企业, 云帮办: submitted in the last second of January, not decided yet.
    await application(applicant, "451400", "simple_deregister", "sole_proprietorship", events=[
        ("submit_cloud", "2026-01-31 23:59:59"),
    ])
    # A7 崇左市本级 设立: submitted in December, returned in January, resubmitted at midnight on 1 February.
    await application(applicant, "451400", "establish", events=[
        ("submit_cloud", "2025-12-20 10:00"), ("return", "2026-01-06 09:30"), ("submit_cloud", "2026-02-01 00:00:00"),
    ])
    # A8 南宁市兴宁区: outside 崇左市.
    await application(applicant, "450102", "establish", events=[
        ("submit_cloud", "2026-01-05 09:00"), ("return", "2026-01-05 10:00"),
    ])
    # A9 江州区 设立, 一般流程: accepted at once, approved the next day.
    await application(applicant, "451402", "establish", events=[
        ("submit_general", "2026-01-20 09:00"), ("accept", "2026-01-20 10:00"), ("approve", "2026-01-21 09:00"),
    ])
    # --- January 2025 (the same period last year), all 一般流程 -----------------------------------------------
    await application(applicant, "451402", "establish", events=[  # L1 returned, then accepted
        ("submit_general", "2025-01-06 09:00"), ("return", "2025-01-06 14:00"),
        ("submit_general", "2025-01-07 09:00"), ("accept", "2025-01-07 11:00"),
    ])
    await application(applicant, "451402", "establish", events=[  # L2 returned twice
        ("submit_general", "2025-01-08 09:00"), ("return", "2025-01-08 10:00"),
        ("submit_general", "2025-01-09 09:00"), ("return", "2025-01-09 11:00"),
    ])
    await application(applicant, "451421", "establish", events=[  # L3 accepted
        ("submit_general", "2025-01-10 09:00"), ("accept", "2025-01-10 11:00"),
    ])
    await application(applicant, "451421", "deregister", events=[  # L4 returned
        ("submit_general", "2025-01-13 09:00"), ("return", "2025-01-13 11:00"),
    ])
    await application(applicant, "451421", "change", events=[  # L5 accepted
        ("submit_general", "2025-01-14 09:00"), ("accept", "2025-01-14 11:00"),
    ])
    # --- a service point of 江州区 with three days of scans, one of them in December -------------------------
    point = await ServicePoint.create(code="statpt01", name="江州区政务服务中心登记窗口", type="registration_window",
                                      authority_id="451402")
    for day, scans, visitors in ((date(2026, 1, 10), 5, 3), (date(2025, 12, 31), 7, 6), (date(2026, 1, 31), 2, 2)):
        await PointScanDay.create(point=point, day=day, scans=scans, unique_visitors=visitors)


async def seed_point_visits() -> None:
    """Appointments and ratings for the service-point figures (after `seed`), counted by hand in the tests:
    January 2026 at 江州区's point: 3 booked (V1 served, V2 no-show, V3 booked but its slot is over), 1 cancelled;
    February: V5 served. A 南宁 point's appointment is outside 崇左's scope. Ratings in January: 5 for V1 at the
    point, 1 for a filing of 扶绥县; in February: 2 for V5."""
    from server.models.appointments import Appointment, AppointmentSlot, Rating

    point = await ServicePoint.get(code="statpt01")
    nanning = await ServicePoint.create(code="statpt02", name="南宁市民中心帮办点", type="registration_window",
                                        authority_id="450100")
    visits = {}
    for index, (where, start, status) in enumerate((
            (point, "2026-01-10 09:00", "served"), (point, "2026-01-12 09:00", "no_show"),
            (point, "2026-01-20 14:30", "booked"), (point, "2026-01-15 09:00", "cancelled"),
            (point, "2026-02-03 09:00", "served"), (nanning, "2026-01-10 09:00", "served")), start=1):
        applicant = await Applicant.create(openid=f"stats-visitor-{index}")
        slot = await AppointmentSlot.create(point=where, starts_at=bj(start), ends_at=bj(start) + timedelta(minutes=30),
                                            capacity=3, booked=1)
        visits[index] = await Appointment.create(
            applicant=applicant, point=where, slot=slot, starts_at=slot.starts_at, ends_at=slot.ends_at,
            business_type="establish", status=status, holds_day=None if status == "cancelled" else bj(start).date())
    filing = await Application.filter(authority_id="451421").first()
    for subject_type, subject_id, authority, at_point, score, at in (
            ("appointment", visits[1].id, "451402", point, 5, "2026-01-10 10:00"),
            ("application", filing.id, "451421", None, 1, "2026-01-20 10:00"),
            ("appointment", visits[5].id, "451402", point, 2, "2026-02-03 10:00")):
        rating = await Rating.create(applicant_id=filing.applicant_id, subject_type=subject_type,
                                     subject_id=str(subject_id), authority_id=authority, point=at_point, score=score)
        await Rating.filter(id=rating.id).update(created_at=bj(at))

"""好差评: the applicant rates a served appointment or a finished filing once (1–5, optional comment); a rating of
1 or 2 opens a follow-up for the admins of the authority, due in 3 working days, answered in writing."""
from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.functions import Avg, Count
from tortoise.transactions import in_transaction

from server import clock
from server.config import Settings
from server.errors import Conflict, Invalid, NotFound
from server.models.accounts import Staff
from server.models.appointments import Appointment, Rating, RatingFollowUp
from server.models.guides import ServicePoint
from server.services.applications.service import (
    get_for_applicant as application_for_applicant,
)
from server.services.authorities import scope_prefix
from server.services.review.worktime import calendar_for
from server.vocabulary import FollowUpStatus, RatingSubject

BAD_SCORES = (1, 2)
FOLLOW_UP_WORKING_DAYS = 3
FINISHED_FILING = ("approved", "rejected")


def conflict(code: str, message: str) -> Conflict:
    error = Conflict(message)
    error.code = code
    return error


async def _subject(applicant_id: int, subject_type: str, subject_id: str) -> dict:
    """Whom the rating is about: the point and helper of an appointment, the authority of a filing."""
    if subject_type == "appointment":
        appointment = None
        if str(subject_id).isdigit():
            appointment = await Appointment.get_or_none(id=int(subject_id), applicant_id=applicant_id
                                                        ).prefetch_related("point")
        if appointment is None:
            raise NotFound("预约不存在", field="subject_id")
        if appointment.status != "served":
            raise conflict("not_rateable", "办结后才能评价本次预约服务")
        return {"subject_id": str(appointment.id), "authority_id": appointment.point.authority_id,
                "point_id": appointment.point_id, "helper_id": appointment.helper_id}
    application = await application_for_applicant(applicant_id, subject_id)
    if application.status not in FINISHED_FILING:
        raise conflict("not_rateable", "申请核准或驳回后才能评价")
    return {"subject_id": str(application.id), "authority_id": application.authority_id, "point_id": None,
            "helper_id": None}


async def rate(settings: Settings, applicant_id: int, subject_type: str, subject_id: str, score: int,
               comment: str = "") -> Rating:
    if subject_type not in RatingSubject.values():
        raise Invalid("subject_type", "评价对象应为 " + "、".join(RatingSubject.values()))
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise Invalid("score", "评分应为1至5的整数")
    subject = await _subject(applicant_id, subject_type, subject_id)
    async with in_transaction() as conn:
        try:
            rating = await Rating.create(applicant_id=applicant_id, subject_type=subject_type, score=score,
                                         comment=comment or "", using_db=conn, **subject)
        except IntegrityError:
            raise conflict("already_rated", "已评价过，每次服务只能评价一次") from None
        if score in BAD_SCORES:
            due = calendar_for(settings).add_working_days(clock.now(), FOLLOW_UP_WORKING_DAYS)
            await RatingFollowUp.create(rating=rating, authority_id=subject["authority_id"], due_at=due,
                                        using_db=conn)
    return await Rating.get(id=rating.id).prefetch_related("follow_up", "point", "helper")


async def mine(applicant_id: int) -> list[Rating]:
    return await Rating.filter(applicant_id=applicant_id).order_by("-id").prefetch_related(
        "follow_up", "point", "helper")


async def respond(staff: Staff, follow_up_id: int, response: str) -> RatingFollowUp:
    if not response or not response.strip():
        raise Invalid("response", "请填写整改回复")
    follow_up = await RatingFollowUp.get_or_none(
        id=follow_up_id, authority_id__startswith=scope_prefix(staff.authority))
    if follow_up is None:
        raise NotFound("整改事项不存在")
    changed = await RatingFollowUp.filter(id=follow_up.id, status="open").update(
        status="closed", response=response.strip(), responded_by_id=staff.id, responded_at=clock.now())
    if not changed:
        raise conflict("already_answered", "该事项已回复")
    return await RatingFollowUp.get(id=follow_up.id).prefetch_related("rating")


async def follow_ups(staff: Staff, status: str | None) -> list[RatingFollowUp]:
    query = RatingFollowUp.filter(authority_id__startswith=scope_prefix(staff.authority))
    if status:
        if status not in FollowUpStatus.values():
            raise Invalid("status", "状态应为 " + "、".join(FollowUpStatus.values()))
        query = query.filter(status=status)
    return await query.order_by("due_at").prefetch_related("rating", "rating__point", "rating__helper")


async def summary(staff: Staff) -> dict:
    """Ratings per point and per helper within the admin's authority, worst average first: count, average, bad
    (1–2) and open follow-ups, each row named."""
    scoped = Rating.filter(authority_id__startswith=scope_prefix(staff.authority))
    open_items = RatingFollowUp.filter(authority_id__startswith=scope_prefix(staff.authority), status="open")

    async def grouped(key: str, model) -> list[dict]:
        column = f"{key}_id"
        rows = await scoped.filter(**{f"{column}__isnull": False}).annotate(
            count=Count("id"), average=Avg("score")).group_by(column).values(column, "count", "average")
        bad = {row[column]: row["bad"] for row in await scoped.filter(score__in=BAD_SCORES).annotate(
            bad=Count("id")).group_by(column).values(column, "bad")}
        pending = {row[f"rating__{column}"]: row["open"] for row in await open_items.annotate(
            open=Count("id")).group_by(f"rating__{column}").values(f"rating__{column}", "open")}
        names = {row.id: row for row in await model.filter(id__in=[row[column] for row in rows])}
        answer = [{"id": row[column], "name": _name(names.get(row[column])), "count": row["count"],
                   "average": round(float(row["average"]), 2), "bad": bad.get(row[column], 0),
                   "open_follow_ups": pending.get(row[column], 0)} for row in rows]
        return sorted(answer, key=lambda row: (row["average"], -row["count"], row["id"]))

    return {"points": await grouped("point", ServicePoint), "helpers": await grouped("helper", Staff)}


def _name(row) -> str:
    if row is None:
        return "（已删除）"
    if isinstance(row, Staff):
        return row.display_name or row.username
    return row.name


def follow_up_view(follow_up: RatingFollowUp | None) -> dict | None:
    if follow_up is None:
        return None
    return {"id": follow_up.id, "status": follow_up.status, "status_label": FollowUpStatus(follow_up.status).label,
            "due_at": follow_up.due_at.isoformat(), "response": follow_up.response or None,
            "responded_at": follow_up.responded_at.isoformat() if follow_up.responded_at else None}


def rating_view(rating: Rating, *, with_follow_up: bool = True) -> dict:
    """`with_follow_up` needs the follow-up prefetched (rate, mine)."""
    view = {"id": rating.id, "subject_type": rating.subject_type, "subject_label": RatingSubject(rating.subject_type).label,
            "subject_id": rating.subject_id, "score": rating.score, "comment": rating.comment,
            "point": {"id": rating.point.id, "name": rating.point.name} if rating.point else None,
            "helper": {"id": rating.helper.id, "name": rating.helper.display_name or rating.helper.username}
            if rating.helper else None,
            "created_at": rating.created_at.isoformat()}
    if with_follow_up:
        view["follow_up"] = follow_up_view(rating.follow_up)
    return view

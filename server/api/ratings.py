"""好差评 over HTTP: the applicant rates; admins see ratings per point and helper and answer bad ones."""
from __future__ import annotations

from typing import Literal

from pydantic import Field
from sanic import Blueprint, Request, json
from sanic_ext import openapi

from server.api.http import RequestModel, current_applicant, current_staff, parse
from server.services.accounts import staff as staff_service
from server.services.appointments import ratings

applicant_bp = Blueprint("ratings", url_prefix="/api/v1/ratings")
admin_bp = Blueprint("ratings_admin", url_prefix="/api/v1/admin")


class RatingIn(RequestModel):
    subject_type: Literal["appointment", "application"]
    subject_id: str = Field(min_length=1, max_length=40)
    score: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=500)


class ResponseIn(RequestModel):
    response: str = Field(min_length=1, max_length=2000)


async def _admin(request: Request):
    staff = await current_staff(request)
    staff_service.require_role(staff, "admin")
    return staff


@applicant_bp.post("")
@openapi.summary("Rate a served appointment or a finished filing, once (1–5)")
@openapi.body({"application/json": RatingIn})
@openapi.secured("bearer")
@openapi.response(201, description="the rating; 1 or 2 opens a follow-up due in 3 working days")
@openapi.response(404, description="not my appointment or application")
@openapi.response(409, description="not_rateable (not served / not finished), already_rated")
async def rate(request: Request):
    principal = await current_applicant(request)
    data = parse(request, RatingIn)
    rating = await ratings.rate(request.app.ctx.settings, principal.id, data.subject_type, data.subject_id,
                                data.score, data.comment)
    return json(ratings.rating_view(rating), status=201)


@applicant_bp.get("")
@openapi.summary("My ratings with the written response to a bad one")
@openapi.secured("bearer")
async def mine(request: Request):
    principal = await current_applicant(request)
    return json([ratings.rating_view(rating) for rating in await ratings.mine(principal.id)])


@admin_bp.get("/ratings/summary")
@openapi.summary("Ratings per point and per helper within the admin's authority: count, average, bad (1–2)")
@openapi.secured("bearer")
async def summary(request: Request):
    return json(await ratings.summary(await _admin(request)))


@admin_bp.get("/rating-follow-ups")
@openapi.summary("Follow-ups of bad ratings, earliest due first")
@openapi.parameter("status", str, "query", description="open | closed")
@openapi.secured("bearer")
async def follow_ups(request: Request):
    items = await ratings.follow_ups(await _admin(request), request.args.get("status"))
    return json([{**ratings.follow_up_view(item), "rating": ratings.rating_view(item.rating, with_follow_up=False)} for item in items])


@admin_bp.post("/rating-follow-ups/<follow_up_id:int>/respond")
@openapi.summary("Answer a bad rating in writing; the applicant reads it with the rating")
@openapi.body({"application/json": ResponseIn})
@openapi.secured("bearer")
@openapi.response(409, description="already_answered")
async def respond(request: Request, follow_up_id: int):
    staff = await _admin(request)
    follow_up = await ratings.respond(staff, follow_up_id, parse(request, ResponseIn).response)
    return json(ratings.follow_up_view(follow_up))

"""自主核名: check a proposed name (no login) and reserve it for the applicant."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from sanic import Blueprint, Request, json
from sanic_ext import openapi

from server.api.http import RequestModel, current_applicant, parse
from server.errors import Unauthorized
from server.models.applications import ENTITY_TYPES
from server.services.applications import names
from server.services.applications.identifiers import credit_code_problem

bp = Blueprint("names", url_prefix="/api/v1/names")

EntityType = Literal[ENTITY_TYPES]  # type: ignore[valid-type]


class InvestorIn(RequestModel):
    """An enterprise investing in the enterprise being named: it shows an investment relationship (规定第十七条)."""

    name: str = Field(min_length=1, max_length=128)
    credit_code: str | None = None

    @field_validator("credit_code")
    @classmethod
    def _valid_credit_code(cls, value: str | None) -> str | None:
        problem = credit_code_problem(value) if value else None
        if problem:
            raise ValueError(problem)
        return value or None


class NameIn(RequestModel):
    name: str = Field(min_length=1, max_length=200)
    entity_type: EntityType
    authority_code: str = Field(pattern=r"^\d{6}$")
    investors: list[InvestorIn] = Field(default_factory=list, max_length=50)
    # An existing enterprise changing its name: its own registration is no conflict, and the registry's record of
    # whom it invests in shows an investment relationship.
    credit_code: str | None = None

    @field_validator("credit_code")
    @classmethod
    def _valid_own_credit_code(cls, value: str | None) -> str | None:
        return InvestorIn._valid_credit_code(value)


@bp.post("/check")
@openapi.summary("自主核名: parse the name, apply the naming rules, look for conflicts in the same city")
@openapi.description("→ {available, name, parsed: {region, trade_name, industry, org_form, region_code, industry_classes}, "
                     "problems: [{code, message, level, rule}], conflicts: [{name, kind, reason, rule}], "
                     "exceptions: [{name, kind, relation, reason, rule}], decisions: [{code, level, message, rule}]}. "
                     "`decisions` explains every rule applied, in Chinese with its 条款 (level pass/warning/error); "
                     "`problems` are the warnings and errors among them; warnings (近似、同音) leave the name available. "
                     "`investors` (enterprise investors of the enterprise being named, {name, credit_code?}) lift a "
                     "same-字号 conflict with one of them (`exceptions`, relation `invested_by_registered`); "
                     "`credit_code` (an enterprise changing its name) lifts one with an enterprise it invests in "
                     "(relation `invests_in_registered`).")
@openapi.body({"application/json": NameIn})
@openapi.response(200, description="the verdict")
@openapi.response(422, description="a field is missing or invalid")
async def check(request: Request):
    body = parse(request, NameIn)
    applicant_id = None
    if request.headers.get("authorization"):
        # Logged in, the applicant's own reservations are not conflicts; a stale token just checks anonymously.
        try:
            applicant_id = (await current_applicant(request)).id
        except Unauthorized:
            applicant_id = None
    return json(await names.check(body.name, body.entity_type, body.authority_code, applicant_id=applicant_id,
                                  exclude_credit_code=body.credit_code, investors=_investors(body)),
                ensure_ascii=False)


def _investors(body: NameIn) -> list:
    return names.investors_from(investor.model_dump() for investor in body.investors)


@bp.post("/reservations")
@openapi.summary("Reserve an available name for the applicant (名称保留, names.reservation_days)")
@openapi.body({"application/json": NameIn})
@openapi.secured("bearer")
@openapi.response(201, description="{id, name, expires_at}")
@openapi.response(401, description="not logged in")
@openapi.response(409, description="the name is not available (error.check holds the verdict)")
@openapi.response(422, description="a field is missing or invalid")
async def reserve(request: Request):
    me = await current_applicant(request)
    body = parse(request, NameIn)
    reservation = await names.reserve(me.id, body.name, body.entity_type, body.authority_code,
                                      request.app.ctx.settings.names.reservation_days, investors=_investors(body),
                                      own_credit_code=body.credit_code)
    return json(reservation, status=201, ensure_ascii=False)


@bp.get("/reservations")
@openapi.summary("My live name reservations")
@openapi.secured("bearer")
@openapi.response(200, description="[{id, name, entity_type, authority_code, expires_at}]")
@openapi.response(401, description="not logged in")
async def my_reservations(request: Request):
    me = await current_applicant(request)
    return json(await names.reservations_of(me.id), ensure_ascii=False)

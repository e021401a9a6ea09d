"""The form contract: what the mini-program renders each form from (no login; the same data the server checks)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel
from sanic import Blueprint, Request, json
from sanic_ext import openapi

from server.api.schemas import content
from server.errors import NotFound
from server.services.applications import materials
from server.vocabulary import AttachmentKind, BusinessType, EntityType, IdType, PartyKind, PartyRole

bp = Blueprint("forms", url_prefix="/api/v1/forms")


class FormField(BaseModel):
    key: str
    label: str
    type: str
    required: bool
    options: list[str] | None = None
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    unit: str | None = None


class PartyRoleRule(BaseModel):
    role: PartyRole
    label: str
    min: int
    max: int | None
    kinds: list[PartyKind]
    id_types: list[IdType]
    shares_total: int | None


class AttachmentRule(BaseModel):
    kind: AttachmentKind
    label: str
    required: bool
    # Needed only when the parties are such (has_person_party, has_enterprise_investor); `note` says it in words.
    when: Literal["has_person_party", "has_enterprise_investor"] | None
    note: str
    basis: str


class GeneratedDocument(BaseModel):
    kind: AttachmentKind
    label: str
    when_field: str | None


class FormContract(BaseModel):
    business_type: BusinessType
    business_label: str
    entity_type: EntityType
    entity_label: str
    fields: list[FormField]
    party_roles: list[PartyRoleRule]
    attachments: list[AttachmentRule]
    generated_documents: list[GeneratedDocument]


@bp.get("/<business_type:str>/<entity_type:str>")
@openapi.summary("The form contract of a business and entity type: fields, party roles, attachments, documents")
@openapi.response(200, content(FormContract), description="the form contract")
@openapi.response(404, description="no such business or entity type")
async def form(request: Request, business_type: str, entity_type: str):
    if business_type not in BusinessType.values() or entity_type not in EntityType.values():
        raise NotFound("没有这种业务类型或主体类型")
    contract = FormContract.model_validate(materials.form_contract(business_type, entity_type))
    return json(contract.model_dump(mode="json", exclude_none=False), ensure_ascii=False)

"""Response models of the applicant's journey, so /docs/openapi.json types what the mini-program receives.

Documentation only: the routes answer with the services' dicts, which these describe field by field. `content()`
hands OpenAPI each model's own pydantic JSON schema as a named component (sanic-ext's introspection of the class
would list dict methods as properties and drop null from optional enums).
"""
from __future__ import annotations

from pydantic import BaseModel, RootModel
from sanic_ext.extensions.openapi.definitions import Component

from server.vocabulary import (ApplicationAction, ApplicationStatus, AttachmentKind, BusinessType, EntityType, Flow,
                               IdType, PartyKind, PartyOrigin, PartyRole)


class ApplicantOut(BaseModel):
    id: int
    phone: str | None


class LoginOut(BaseModel):
    token: str
    expires_in: int
    applicant: ApplicantOut


class MissingItem(BaseModel):
    field: str
    message: str
    attachment_kind: AttachmentKind | None = None


class PartyOut(BaseModel):
    id: str
    role: PartyRole
    kind: PartyKind
    name: str
    id_type: IdType | None
    id_number: str | None
    phone: str | None
    email: str | None
    contact_name: str | None
    origin: PartyOrigin | None
    credit_code: str | None
    share_percent: str | None


class AttachmentOut(BaseModel):
    id: str
    kind: AttachmentKind
    sha256: str
    content_type: str
    size: int
    filename: str
    has_thumbnail: bool
    created_at: str


class ApplicationOut(BaseModel):
    id: str
    business_type: BusinessType
    entity_type: EntityType
    authority_code: str
    name: str | None
    credit_code: str | None
    status: ApplicationStatus
    flow: Flow | None
    snapshot_hash: str | None
    created_at: str
    updated_at: str
    entity: dict
    parties: list[PartyOut]
    attachments: list[AttachmentOut]
    missing: list[MissingItem]
    materials_version: int
    auto_submit: bool


class SubmitOut(BaseModel):
    id: str
    status: ApplicationStatus
    flow: Flow | None
    status_label: str
    resubmission: bool
    first_submitted_at: str | None
    submitted_at: str | None
    due_at: str | None
    snapshot_hash: str | None
    notice: str | None


class TimelineComment(BaseModel):
    message: str
    field: str | None = None
    attachment_id: str | None = None
    attachment_kind: AttachmentKind | None = None
    subject: str | None = None


class TimelineEntryOut(BaseModel):
    at: str
    actor: str
    action: ApplicationAction
    action_label: str
    from_status: ApplicationStatus | None
    to_status: ApplicationStatus | None
    comments: list[TimelineComment]


class TimelineOut(RootModel[list[TimelineEntryOut]]):
    pass


def content(model: type[BaseModel]) -> dict:
    """The `content` of a documented JSON response of this model."""
    return {"application/json": {"schema": Component(model)}}

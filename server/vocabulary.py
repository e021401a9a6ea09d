"""The one vocabulary: every code the product stores or sends, as a StrEnum whose members carry their Chinese label.

Codes are English identifiers (what the database, the API and the code say); labels are what a person reads. The
labels live only in the `vocabulary` section of server/data/materials.yaml, read once; a member without a label there
fails at import, so a new code cannot reach a page untranslated.
"""
from __future__ import annotations

import re
from enum import StrEnum
from functools import cache, lru_cache
from pathlib import Path

import yaml

MATERIALS_FILE = Path(__file__).resolve().parent / "data" / "materials.yaml"


@lru_cache(maxsize=1)
def materials_data() -> dict:
    """server/data/materials.yaml, parsed once (the vocabulary here, the materials rules in services)."""
    return yaml.safe_load(MATERIALS_FILE.read_text(encoding="utf-8"))


@cache
def _section(enum_class: type) -> str:
    # ApplicationStatus → application_status: the yaml section of that enum.
    return re.sub(r"(?<!^)(?=[A-Z])", "_", enum_class.__name__).lower()


@cache
def _labels(enum_class: type) -> dict[str, str]:
    """code -> label of one vocabulary, built once: list rows label several codes each."""
    return {member.value: member.label for member in enum_class}


class Labelled(StrEnum):
    @property
    def label(self) -> str:
        return materials_data()["vocabulary"][_section(type(self))][self.value]

    @classmethod
    def label_of(cls, code: str | None, default: str | None = "") -> str | None:
        """The label of a stored code; `default` for no code or one this vocabulary does not know."""
        return _labels(cls).get(code, default)

    @classmethod
    def values(cls) -> tuple[str, ...]:
        return tuple(member.value for member in cls)

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """(code, label) pairs, in declaration order: what a <select> or a form contract lists."""
        return [(member.value, member.label) for member in cls]


class BusinessType(Labelled):
    ESTABLISH = "establish"
    CHANGE = "change"
    DEREGISTER = "deregister"
    SIMPLE_DEREGISTER = "simple_deregister"


class EntityType(Labelled):
    LLC = "llc"
    JOINT_STOCK = "joint_stock"
    SOLE_PROPRIETORSHIP = "sole_proprietorship"
    PARTNERSHIP = "partnership"
    COOPERATIVE = "cooperative"
    INDIVIDUAL_BUSINESS = "individual_business"
    BRANCH = "branch"


class ApplicationStatus(Labelled):
    DRAFT = "draft"
    CLOUD_REVIEW = "cloud_review"
    RETURNED = "returned"
    LOCKED_SIGNING = "locked_signing"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class ApplicationAction(Labelled):
    """What a timeline entry records: a transition of the lifecycle table, or an event that is not one."""
    CREATE = "create"
    SUBMIT_CLOUD = "submit_cloud"
    SUBMIT_GENERAL = "submit_general"
    APPROVE_LOCK = "approve_lock"
    SUBMIT_SIGNED = "submit_signed"
    UNLOCK = "unlock"
    RETURN = "return"
    ACCEPT = "accept"
    APPROVE = "approve"
    REJECT = "reject"
    WITHDRAW = "withdraw"
    SIGN = "sign"
    DECLINE = "decline"
    SIGNATURES_VOIDED = "signatures_voided"
    HELPER_GRANT = "helper_grant"
    HELPER_REVOKE = "helper_revoke"
    HELPER_EDIT = "helper_edit"
    HELPER_UPLOAD = "helper_upload"
    HELPER_REMOVE_ATTACHMENT = "helper_remove_attachment"


class Flow(Labelled):
    CLOUD = "cloud"
    GENERAL = "general"


class PartyRole(Labelled):
    INVESTOR = "investor"
    LEGAL_REP = "legal_rep"
    DIRECTOR = "director"
    SUPERVISOR = "supervisor"
    MANAGER = "manager"
    LIAISON = "liaison"
    FINANCE_OFFICER = "finance_officer"


class PartyKind(Labelled):
    PERSON = "person"
    ENTERPRISE = "enterprise"


class IdType(Labelled):
    RESIDENT_ID = "resident_id"
    HK_MACAO_PERMIT = "hk_macao_permit"
    TAIWAN_PERMIT = "taiwan_permit"
    FOREIGN_PERMANENT_ID = "foreign_permanent_id"
    PASSPORT = "passport"
    OTHER = "other"


class PartyOrigin(Labelled):
    HOME_PROVINCE = "home_province"
    OTHER_PROVINCE = "other_province"
    FOREIGN = "foreign"


class SigningMethod(Labelled):
    FACE = "face"
    E_SEAL = "e_seal"
    E_LICENSE = "e_license"
    NONE = "none"


class AttachmentKind(Labelled):
    APPLICATION_FORM = "application_form"
    PREMISES_PROOF = "premises_proof"
    ID_DOCUMENT = "id_document"
    INVESTOR_QUALIFICATION = "investor_qualification"
    ARTICLES_OF_ASSOCIATION = "articles_of_association"
    APPOINTMENT_DOCUMENTS = "appointment_documents"
    FOUNDING_MEETING_MINUTES = "founding_meeting_minutes"
    CAPITAL_VERIFICATION = "capital_verification"
    INVESTOR_RESIDENCE_PROOF = "investor_residence_proof"
    PARTNERSHIP_AGREEMENT = "partnership_agreement"
    CAPITAL_CONTRIBUTION_CONFIRMATION = "capital_contribution_confirmation"
    MANAGING_PARTNER_APPOINTMENT = "managing_partner_appointment"
    MEMBER_ROSTER = "member_roster"
    PARENT_LICENSE = "parent_license"
    CHANGE_RESOLUTION = "change_resolution"
    ARTICLES_AMENDMENT = "articles_amendment"
    DISSOLUTION_RESOLUTION = "dissolution_resolution"
    LIQUIDATION_REPORT = "liquidation_report"
    TAX_CLEARANCE = "tax_clearance"
    ALL_INVESTORS_COMMITMENT = "all_investors_commitment"


class PointType(Labelled):
    REGISTRATION_WINDOW = "registration_window"
    BANK_BRANCH = "bank_branch"
    MALL = "mall"
    COMMUNITY = "community"
    VILLAGE = "village"


class StaffRole(Labelled):
    REVIEWER = "reviewer"
    HELPER = "helper"
    ADMIN = "admin"


class MessageClass(Labelled):
    """Outbox message classes, in the order the sender claims them (codes first, notices last)."""
    CODE = "code"
    TRANSACTIONAL = "transactional"
    NOTICE = "notice"


class LicenseStatus(Labelled):
    """A license's way from approval to the applicant's hands (services/licenses holds the transitions)."""
    AWAITING_CHOICE = "awaiting_choice"
    ELECTRONIC_ONLY = "electronic_only"
    AWAITING_PRINT = "awaiting_print"
    READY_FOR_PICKUP = "ready_for_pickup"
    HANDED_OVER = "handed_over"
    AWAITING_POST = "awaiting_post"
    POSTED = "posted"


class LicenseMethod(Labelled):
    ELECTRONIC = "electronic"
    WINDOW = "window"
    POST = "post"


class OldLicenseStatus(Labelled):
    """The license a 变更 replaces, collected when the new one is handed out."""
    NOT_APPLICABLE = "not_applicable"
    OUTSTANDING = "outstanding"
    COLLECTED = "collected"
    LOST = "lost"


class LicenseAction(Labelled):
    CHOOSE_ELECTRONIC = "choose_electronic"
    CHOOSE_WINDOW = "choose_window"
    CHOOSE_POST = "choose_post"
    READY = "ready"
    HAND_OVER = "hand_over"
    POST = "post"


class EnterpriseAccountStatus(Labelled):
    DRAFT = "draft"
    SIGNING = "signing"
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    DECLINED = "declined"
    REVOKED = "revoked"


class Registrant(Labelled):
    """Who registers a legal-person account (法人注册): the legal representative, or an agent they authorise."""
    LEGAL_REP = "legal_rep"
    AGENT = "agent"


class EnterpriseAccountAction(Labelled):
    """What a legal-person account's history entry records (法人注册结果)."""
    CREATE = "create"
    EDIT = "edit"
    SUBMIT_VERIFIED = "submit_verified"
    REQUEST_SIGNATURE = "request_signature"
    CANCEL = "cancel"
    SIGN = "sign"
    DECLINE = "decline"
    EXPIRE = "expire"
    RESUBMIT = "resubmit"
    APPROVE = "approve"
    REJECT = "reject"
    REVOKE = "revoke"
    RELINK = "relink"


class AppointmentStatus(Labelled):
    """booked → checked_in → served; booked → cancelled | no_show (services/appointments holds the rules)."""
    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    SERVED = "served"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class RatingSubject(Labelled):
    """What a rating (好差评) is about: a served appointment or a finished filing."""
    APPOINTMENT = "appointment"
    APPLICATION = "application"


class FollowUpStatus(Labelled):
    OPEN = "open"
    CLOSED = "closed"


class GuideKind(Labelled):
    VIDEO = "video"
    FORM = "form"
    GUIDE = "guide"


class SixHas(Labelled):
    """The six "有" of a proper help point (帮办网点"六有"标准); each code is a ServicePoint flag."""
    HAS_SIGN = "has_sign"
    HAS_COMPUTER = "has_computer"
    HAS_STAFF = "has_staff"
    HAS_GUIDE = "has_guide"
    HAS_HOTLINE = "has_hotline"
    HAS_PUBLIC_NOTICE = "has_public_notice"



class SignatoryStatus(Labelled):
    """Where one required signatory stands on the current materials (services/signing/links.signatory_statuses)."""
    NOT_REQUIRED = "not_required"
    NOT_REQUESTED = "not_requested"
    PENDING = "pending"
    SIGNED = "signed"
    DECLINED = "declined"
    EXPIRED = "expired"


class StatisticsPeriod(Labelled):
    """The named periods of the statistics (a from/to range is the other way to choose one)."""
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"
    LAST_YEAR = "last_year"


class StatisticsTable(Labelled):
    """The tables of the statistics export, one sheet (or PDF section) each, in this order."""
    SUMMARY = "summary"
    BUSINESS_TYPES = "business_types"
    AUTHORITIES = "authorities"
    MONTHLY = "monthly"
    DURATIONS = "durations"
    POINTS = "points"



class NameCheckLevel(Labelled):
    """A name-check decision's verdict on one rule."""
    PASS = "pass"
    WARNING = "warning"
    ERROR = "error"


class DocumentKind(Labelled):
    """A document the platform generates from the materials: the 申请书, the model 章程, the signed result."""
    APPLICATION_FORM = "application_form"
    ARTICLES_OF_ASSOCIATION = "articles_of_association"
    SIGNED = "signed"


class EvidenceKind(Labelled):
    """What an evidence-chain entry records."""
    SIGNATURE = "signature"
    DECLINE = "decline"
    ACCOUNT_AUTHORISATION = "account_authorisation"
    ACCOUNT_AUTHORISATION_DECLINED = "account_authorisation_declined"


VOCABULARY: tuple[type[Labelled], ...] = (
    BusinessType, EntityType, ApplicationStatus, ApplicationAction, Flow, PartyRole, PartyKind, IdType, PartyOrigin,
    SigningMethod, AttachmentKind, PointType, StaffRole, MessageClass, LicenseStatus, LicenseMethod, OldLicenseStatus,
    LicenseAction, EnterpriseAccountStatus, EnterpriseAccountAction, AppointmentStatus, RatingSubject, FollowUpStatus,
    GuideKind, SixHas, SignatoryStatus, StatisticsPeriod, StatisticsTable,
    NameCheckLevel, EvidenceKind, Registrant, DocumentKind,
)


def _check_labels() -> None:
    vocabulary = materials_data()["vocabulary"]
    for enum_class in VOCABULARY:
        labels = vocabulary.get(_section(enum_class), {})
        if set(labels) != set(enum_class.values()):
            raise RuntimeError(f"materials.yaml vocabulary.{_section(enum_class)} does not match {enum_class.__name__}: "
                               f"{sorted(set(labels) ^ set(enum_class.values()))}")


_check_labels()

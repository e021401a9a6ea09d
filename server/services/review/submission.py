"""The applicant's submit: 云帮办 (no signature) → cloud_review, 一般流程 (≥1 valid signature) → submitted, and
from locked_signing, once every required signature is in → submitted. Due times are set here."""
from __future__ import annotations

from tortoise.transactions import in_transaction

from server.config import Settings
from server.errors import Invalid
from server.models.applications import Application
from server.services import signing
from server.clock import now
from server.services.applications import lifecycle, names
from server.services.applications import service as applications
from server.services.notifications import messages as notifications
from server.services.enterprise_accounts import holders as enterprise_accounts
from server.services.review import access, views, worktime
from server.services.review.access import as_uuid
from server.services.signing.exits import close_open_links
from server.vocabulary import ApplicationStatus, BusinessType



def submit_action(application: Application, flow: str) -> str:
    """Which transition a submit is, from where the application stands (409 when none)."""
    if application.status == "locked_signing":
        if flow != "cloud":
            raise access.conflict("flow_locked", "材料已经云帮办锁定，只能在全部签名完成后按云帮办流程提交")
        return "submit_signed"
    action = "submit_cloud" if flow == "cloud" else "submit_general"
    lifecycle.target_status(action, application.status)
    return action


def _asks_for_a_name(application: Application) -> bool:
    """An establishment, or a change to a new name: the name must still be free (or reserved by this applicant)."""
    return application.business_type == "establish" or (
        application.business_type == "change" and names.proposed_name(application) != application.name)


async def _check_preconditions(application: Application, action: str, flow: str) -> None:
    if application.business_type != "establish":
        # Seed 001: an authority revoked since the draft was made no longer lets the applicant file.
        await enterprise_accounts.require_account_holder(application.applicant_id, application.credit_code)
    if action == "submit_signed":
        if not await signing.all_required_signed(application):
            raise access.conflict("signatures_incomplete", "尚有有权签字人未完成电子签名，全部签名完成后才能提交")
        return
    if _asks_for_a_name(application) and not await names.name_usable_by(application):
        raise access.conflict("name_unavailable", "名称不符合规定或已被他人登记、保留，请重新核名后再提交")
    missing = await applications.missing(application)
    if missing:
        raise Invalid(missing[0]["field"], f"申请尚有{len(missing)}项未填写或未上传，请一并补全后提交",
                      code="incomplete", missing=missing)
    options = await applications.flow_options(application, missing)
    if not options[flow]["available"]:
        reasons = options[flow]["reasons"]
        raise access.conflict("flow_unavailable", "；".join(reason["message"] for reason in reasons), reasons=reasons)
    if action == "submit_general" and not await signing.has_valid_signature_on_current_materials(application):
        raise access.conflict("signature_required",
                              "一般流程提交需要至少一名有权签字人在当前材料上完成有效电子签名；也可选择云帮办免签名提交")


def _due_at(settings: Settings, action: str, resubmission: bool, moment):
    """云帮办 reviews and resubmissions: within working hours; 受理/核准 within working days (条例 §19)."""
    if action == "submit_cloud" or resubmission:
        return worktime.add_working_hours(moment, settings.review.cloud_review_working_hours, settings)
    return worktime.add_working_days(moment, settings.review.registration_working_days, settings)


def _submission_updates(settings: Settings, application: Application, action: str) -> dict:
    moment = now()
    resubmission = action != "submit_signed" and application.status == "returned"
    return {"submitted_at": moment, "due_at": _due_at(settings, action, resubmission, moment),
            "resubmission": resubmission, "first_submitted_at": application.first_submitted_at or moment}


async def complete_signing(settings: Settings, application: Application, connection) -> None:
    """The last required signature of a locked case is in (called inside the signature's transaction).

    The applicant is told at once; the case moves to submitted by itself unless the applicant chose to confirm
    it (auto_submit false: their POST …/submit then does it, as before).
    """
    if application.auto_submit:
        await lifecycle.transition(application, "submit_signed", lifecycle.SYSTEM_ACTOR, connection=connection,
                                   comments=[{"message": views.CLOUD_ALL_SIGNED}],
                                   **_submission_updates(settings, application, "submit_signed"))
        next_step = "申请已自动提交登记机关，请等待受理"
    else:
        next_step = "请在一窗通小程序中确认提交"
    await notifications.notify_applicant(application, "signing_complete", {
        "name": application.name or "未命名", "business": BusinessType.label_of(application.business_type),
        "next": next_step}, connection=connection)


async def set_auto_submit(applicant_id: int, application_id, auto_submit: bool) -> dict:
    """The applicant's choice, until the case is submitted: submit by itself once all have signed, or confirm."""
    application = await applications.get_for_applicant(applicant_id, application_id)
    changed = await Application.filter(id=application.id, status__in=lifecycle.AUTO_SUBMIT_STATUSES).update(
        auto_submit=auto_submit)
    if changed != 1:
        raise access.conflict("already_submitted", "申请已提交，不能再更改签名完成后的提交方式")
    return {"id": str(application.id), "auto_submit": auto_submit}


async def submit(settings: Settings, applicant_id: int, application_id, flow: str) -> dict:
    await applications.get_for_applicant(applicant_id, application_id)
    async with in_transaction() as conn:
        # Locked for the checks, so an edit racing the submit waits and then finds the materials submitted.
        application = await Application.select_for_update().using_db(conn).get(id=as_uuid(application_id))
        action = submit_action(application, flow)
        await _check_preconditions(application, action, flow)
        updates = _submission_updates(settings, application, action)
        if action != "submit_signed":
            updates["flow"] = flow
        await lifecycle.transition(application, action, lifecycle.APPLICANT_ACTOR, connection=conn, **updates)
        if action == "submit_general":
            # Signatories not yet signed are no longer needed: their links and reminders end.
            await close_open_links(application.id, conn)
    return {
        "id": str(application.id), "status": application.status, "flow": application.flow,
        "status_label": ApplicationStatus(application.status).label, "resubmission": application.resubmission,
        "first_submitted_at": views.iso(application.first_submitted_at),
        "submitted_at": views.iso(application.submitted_at), "due_at": views.iso(application.due_at),
        "snapshot_hash": application.snapshot_hash,
        "notice": views.CLOUD_ALL_SIGNED if action == "submit_signed" else None,
    }

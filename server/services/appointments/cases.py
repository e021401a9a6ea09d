"""Helpers own a case (首问负责、一帮到底, 代办; seeds 002 and 003).

At the point the applicant scans the code the helper shows and grants that helper access to one application (or a
new one). The helper then fills and uploads through the very services the applicant's own edits use (the same
rules, nothing copied), each change on the timeline under the helper's masked name; the applicant can revoke the
grant at any time. The helper cannot submit, sign or review: there are no such helper routes, and reviewing stays
with reviewers of the case's authority. Helpers help with any authority's business (无差别帮办). The first helper
granted a case stays its owner, shown to the applicant with a landline.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from server import clock
from server.config import Settings
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.models.accounts import Staff
from server.models.applications import Application, Party
from server.models.appointments import HelperCase, HelperGrant
from server.services.accounts.staff import require_role
from server.services.applications import lifecycle
from server.services.applications import service as applications
from server.services.applications.identifiers import mask_id_number, mask_name, mask_phone
from server.services.appointments.directory import helper_name
from server.services.review.access import as_uuid, staff_actor

def conflict(code: str, message: str) -> Conflict:
    error = Conflict(message)
    error.code = code
    return error


def helper_actor(staff: Staff) -> str:
    """How a helper appears on the timeline: like every staff member, 帮办员 黄*."""
    return staff_actor(staff)


def require_helper(staff: Staff) -> None:
    require_role(staff, "helper")
    if staff.point_id is None:
        raise Forbidden("您尚未归属帮办网点，不能代办")


def _signature(settings: Settings, payload: str) -> str:
    return hmac.new(settings.secret_key.encode(), f"helper-grant:{payload}".encode(), hashlib.sha256).hexdigest()[:20]


def helper_code(settings: Settings, staff: Staff) -> dict:
    """The code behind the QR the helper shows: who they are and until when (appointments.helper_code_minutes ahead:
    scanning it means standing at the point), signed with the server secret."""
    require_helper(staff)
    expires = clock.now() + timedelta(minutes=settings.appointments.helper_code_minutes)
    payload = f"{staff.id}.{int(expires.timestamp())}"
    return {"code": f"{payload}.{_signature(settings, payload)}", "expires_at": expires.isoformat()}


async def helper_from_code(settings: Settings, code: str) -> Staff:
    invalid = Invalid("helper_code", "帮办码无效或已过期，请帮办员刷新后重新扫码")
    parts = (code or "").split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        raise invalid
    payload = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_signature(settings, payload), parts[2]):
        raise invalid
    if datetime.fromtimestamp(int(parts[1]), UTC) <= clock.now():
        raise invalid
    staff = await Staff.get_or_none(id=int(parts[0]), role="helper", active=True, point_id__isnull=False)
    if staff is None:
        raise invalid
    return staff


async def grant(settings: Settings, applicant_id: int, code: str, application_id: str | None = None,
                new_application: dict | None = None) -> HelperGrant:
    """The applicant lets the helper behind `code` work on one application; a second scan of the same helper
    answers the grant already held."""
    if application_id and new_application:
        raise Invalid("new_application", "授权已有申请或新建申请，二选一")
    helper = await helper_from_code(settings, code)
    if application_id:
        application = await applications.get_for_applicant(applicant_id, application_id)
    elif new_application:
        application = await applications.create(applicant_id, **new_application)
    else:
        raise Invalid("application_id", "请选择要授权代办的申请，或新建一件")
    if application.status not in lifecycle.EDITABLE_STATUSES:
        raise conflict("not_editable", "申请已提交或材料已锁定，帮办员无法代办")
    async with in_transaction() as conn:
        held = await HelperGrant.filter(application_id=application.id, helper_id=helper.id,
                                        revoked_at__isnull=True).using_db(conn).first()
        if held is not None:
            return await _loaded(held.id)
        moment = clock.now()
        created = await HelperGrant.create(application_id=application.id, applicant_id=applicant_id,
                                           helper_id=helper.id, point_id=helper.point_id, granted_at=moment,
                                           using_db=conn)
        # The first helper ever granted owns the case; the unique key keeps it so when two grants race.
        await HelperCase.bulk_create([HelperCase(application_id=application.id, owner_id=helper.id,
                                                 point_id=helper.point_id, taken_at=moment)],
                                     ignore_conflicts=True, using_db=conn)
        await lifecycle.record(application.id, lifecycle.APPLICANT_ACTOR, "helper_grant",
                               [{"helper": helper_actor(helper)}], connection=conn)
    return await _loaded(created.id)


async def revoke(applicant_id: int, grant_id: int) -> HelperGrant:
    found = await HelperGrant.get_or_none(id=grant_id, applicant_id=applicant_id).prefetch_related("helper")
    if found is None:
        raise NotFound("帮办授权不存在")
    async with in_transaction() as conn:
        changed = await HelperGrant.filter(id=grant_id, revoked_at__isnull=True).using_db(conn).update(
            revoked_at=clock.now())
        if not changed:
            raise conflict("already_revoked", "该帮办授权已撤销")
        await lifecycle.record(found.application_id, lifecycle.APPLICANT_ACTOR, "helper_revoke",
                               [{"helper": helper_actor(found.helper)}], connection=conn)
    return await _loaded(grant_id)


async def _loaded(grant_id: int) -> HelperGrant:
    return await HelperGrant.get(id=grant_id).prefetch_related("helper", "point", "application__helper_case__owner",
                                                              "application__helper_case__point")


async def grants_for_applicant(applicant_id: int, application_id: str | None = None) -> list[HelperGrant]:
    query = HelperGrant.filter(applicant_id=applicant_id)
    if application_id:
        query = query.filter(application_id=(await applications.get_for_applicant(applicant_id, application_id)).id)
    return await query.order_by("-id").prefetch_related("helper", "point", "application__helper_case__owner",
                                                        "application__helper_case__point")


async def case_for_helper(staff: Staff, application_id) -> Application:
    """An application this helper holds a live grant for; revoked or never granted, it is as missing as an
    unknown id. Any authority's application will do (无差别帮办)."""
    require_helper(staff)
    key = as_uuid(application_id)
    if key is None or not await HelperGrant.exists(application_id=key, helper_id=staff.id, revoked_at__isnull=True):
        raise NotFound("申请不存在或未授权您代办")
    return await Application.get(id=key)


def delegate(staff: Staff, application_id) -> lifecycle.Delegate:
    """The helper as the writer of one case: each write re-checks the grant in its own transaction."""
    async def still_granted(connection) -> None:
        # The grant's row, locked: a revocation committed first leaves none (404); one coming later waits for this
        # write to commit, so no write of the helper's lands after the applicant revoked.
        held = await HelperGrant.filter(application_id=application_id, helper_id=staff.id, revoked_at__isnull=True
                                        ).select_for_update().using_db(connection).first()
        if held is None:
            raise NotFound("申请不存在或未授权您代办")

    return lifecycle.Delegate(helper_actor(staff), still_granted)


# What a helper is shown of a party: they help fill the form, the applicant's own data stays theirs (SPEC: masked
# wherever shown). The applicant dictates and the helper types a number; it is never read back in full.
_MASKED = {"id_number": mask_id_number, "phone": mask_phone}


async def case_view(application: Application) -> dict:
    view = await applications.application_view(application)
    view["parties"] = [{**party, **{key: mask(party[key]) for key, mask in _MASKED.items()}}
                       for party in view["parties"]]
    return view


async def _unmasked(application: Application, parties) -> list:
    """The parties of a helper's save, where a party sent back with its id and a masked value it was shown keeps
    the stored value: the helper's form holds only what the case view gave it."""
    if not isinstance(parties, list):
        return parties  # the applicant's own validation answers it
    stored = {str(party.id): party for party in await Party.filter(application_id=application.id)}
    result = []
    for raw in parties:
        party = stored.get(str(raw.get("id"))) if isinstance(raw, dict) else None
        if party is not None:
            raw = {**raw, **{key: getattr(party, key) for key, mask in _MASKED.items()
                             if raw.get(key) is not None and raw.get(key) == mask(getattr(party, key))}}
        result.append(raw)
    return result


async def save(staff: Staff, application: Application, patch: dict) -> Application:
    """Save part of the form on the applicant's behalf, by the applicant's own rules."""
    if patch.get("parties") is not None:
        patch = {**patch, "parties": await _unmasked(application, patch["parties"])}
    return await applications.update(application, patch, delegate(staff, application.id))


async def cases_for_helper(staff: Staff) -> list[HelperGrant]:
    require_helper(staff)
    return await HelperGrant.filter(helper_id=staff.id, revoked_at__isnull=True).order_by("-granted_at"
                                                                                       ).prefetch_related(
        "application__helper_case")


def helper_view(staff: Staff, point) -> dict:
    """What the applicant sees of a helper: masked name, landline (the point's hotline if the helper has none)."""
    return {"name": mask_name(helper_name(staff)), "landline": staff.landline or (point.hotline if point else "") or None,
            "point": {"code": point.code, "name": point.name} if point else None}


def owner_view(application: Application) -> dict | None:
    case = application.helper_case
    return helper_view(case.owner, case.point) if case else None


def grant_view(grant: HelperGrant) -> dict:
    return {"id": grant.id, "application_id": str(grant.application_id), "helper": helper_view(grant.helper, grant.point),
            "granted_at": grant.granted_at.isoformat(),
            "revoked_at": grant.revoked_at.isoformat() if grant.revoked_at else None,
            "active": grant.revoked_at is None, "case_owner": owner_view(grant.application)}


def helper_case_row(grant: HelperGrant, staff: Staff) -> dict:
    case = grant.application.helper_case
    return {**applications.summary_view(grant.application), "grant_id": grant.id,
            "granted_at": grant.granted_at.isoformat(), "owned": bool(case and case.owner_id == staff.id)}

"""Leaving locked_signing other than by completion (SPEC "No dead ends"): a decline, 撤销锁定, a withdrawal.

Each exit is a transition in the one table (lifecycle.TRANSITIONS); this module does what every exit shares,
inside the same transaction: the lock's signatures are voided, every open link dies (410) with its reminders,
and each signatory whose link died is told they need not sign.
"""
from __future__ import annotations

from server.clock import now
from server.models.applications import Application
from server.models.signing import Signature, SigningRequest
from server.services.applications import lifecycle
from server.services.notifications import messages as notifications
from server.services.signing.links import reference_of
from server.vocabulary import BusinessType

CAUSES = {
    "decline": "因有签字人拒绝签名已退回修改",
    "unlock": "已由登记机关撤销锁定、退回修改",
    "withdraw": "已由申请人撤回",
}


async def release_lock(application: Application, action: str, connection) -> None:
    """After the transition out of locked_signing (`action`): void, close, cancel, tell."""
    moment = now()
    voided = await Signature.filter(application_id=application.id, voided_at=None).using_db(connection).update(
        voided_at=moment)
    if voided:
        await lifecycle.record(application.id, lifecycle.SYSTEM_ACTOR, "signatures_voided",
                               [{"message": f"材料锁定已解除，此前的 {voided} 个签名作废，再次锁定后须重新签名"}],
                               connection=connection)
    for request in await close_open_links(application.id, connection):
        if request.phone and request.expires_at > moment:
            await notifications.enqueue_sms(request.phone, "signing_cancelled", {
                "signer": request.signer_name, "name": application.name or "",
                "business": BusinessType.label_of(application.business_type, ""), "cause": CAUSES[action],
            }, connection=connection, authority=application.authority_id)


async def close_open_links(application_id, connection) -> list[SigningRequest]:
    """Cancel every open link of the application with its reminders and expiry notice; the links closed.

    Also called when a link dies for other reasons: the materials change (一般流程) or the case is submitted.
    """
    open_requests = await SigningRequest.filter(application_id=application_id, status="pending").using_db(connection)
    if open_requests:
        await SigningRequest.filter(id__in=[r.id for r in open_requests], status="pending").using_db(
            connection).update(status="cancelled", closed_at=now())
        for request in open_requests:
            await notifications.cancel_scheduled(reference_of(request), connection=connection)
    return open_requests

"""Every transition a staff member or applicant can ask for, from every status: the allowed ones move the
application as SPEC's state machine says; every other one answers 409 and changes nothing."""
import pytest

from server.models.applications import STATUSES, Application, Attachment, TimelineEntry
from server.models.notifications import OutboxMessage
from server.models.review import AuditEntry
from server.services.applications.lifecycle import TRANSITIONS
from tests.helpers import create_review_application, create_staff, login_applicant

# Copied by hand from SPEC "The application lifecycle (state machine)", not from the code: action → {from: to}.
SPEC_TRANSITIONS = {
    "submit_cloud": {"draft": "cloud_review", "returned": "cloud_review"},        # submit(云帮办), edits after return
    "submit_general": {"draft": "submitted", "returned": "submitted"},            # submit(一般流程, ≥1 signature)
    "approve_lock": {"cloud_review": "locked_signing"},                           # approve & lock
    "submit_signed": {"locked_signing": "submitted"},                             # all required signed
    "decline": {"locked_signing": "returned"},                                    # a signatory declines
    "unlock": {"locked_signing": "returned"},                                     # staff 撤销锁定
    "return": {"cloud_review": "returned", "submitted": "returned", "accepted": "returned"},
    "accept": {"submitted": "accepted"},                                          # 受理
    "approve": {"accepted": "approved"},                                          # 核准
    "reject": {"accepted": "rejected"},                                           # 驳回
    "withdraw": {"draft": "withdrawn", "returned": "withdrawn", "locked_signing": "withdrawn"},
}
SPEC_STATUSES = ("draft", "cloud_review", "returned", "locked_signing", "submitted", "accepted", "approved",
                 "rejected", "withdrawn")


def test_the_transition_table_is_specs():
    assert set(STATUSES) == set(SPEC_STATUSES)
    assert {action: dict(moves) for action, moves in TRANSITIONS.items()} == SPEC_TRANSITIONS

STAFF_ACTIONS = {
    "approve_lock": ("approve-lock", None),
    "return": ("return", "comments"),
    "accept": ("accept", None),
    "approve": ("approve", None),
    "reject": ("reject", {"reason": "材料不符合法定形式"}),
    "unlock": ("unlock", {"reason": "申请人来电更正材料"}),
}
CASES = [(action, status) for action in STAFF_ACTIONS for status in STATUSES]


async def fingerprint(application_id):
    """What a refused request must leave exactly as it was."""
    stored = await Application.get(id=application_id)
    return (stored.status, stored.updated_at, stored.snapshot_hash, stored.credit_code,
            await TimelineEntry.filter(application_id=application_id).count(),
            await OutboxMessage.all().count(), await AuditEntry.filter(action__not="view").count())


@pytest.mark.parametrize("action, status", CASES, ids=[f"{a}-from-{s}" for a, s in CASES])
async def test_staff_action_from_every_status(client, server, action, status):
    applicant = await login_applicant(client)
    reviewer = await create_staff(client)
    # The general flow here: an accepted 云帮办 application would also need its locked snapshot.
    application = await create_review_application(applicant["applicant"]["id"], status=status, flow="general",
                                           uploads_dir=server.settings.uploads.dir)
    route, body = STAFF_ACTIONS[action]
    if body == "comments":
        attachment = await Attachment.get(application_id=application.id, kind="id_document")
        body = {"comments": [{"field": "entity.address", "message": "住所不完整"},
                             {"attachment_id": str(attachment.id), "message": "照片模糊"}]}
    before = await fingerprint(application.id)
    response = await client.post(f"/api/v1/review/applications/{application.id}/{route}", json=body,
                                 headers=reviewer["headers"])
    expected = SPEC_TRANSITIONS[action].get(status)
    if expected is None:
        assert response.status_code == 409, response.text
        assert response.json()["error"]["message"]
        assert await fingerprint(application.id) == before
    else:
        assert response.status_code == 200, response.text
        stored = await Application.get(id=application.id)
        assert stored.status == expected == response.json()["status"]
        entry = await TimelineEntry.filter(application_id=application.id).order_by("-id").first()
        assert (entry.action, entry.from_status, entry.to_status) == (action, status, expected)
        assert await AuditEntry.filter(application_id=application.id, action=action).count() == 1


SUBMIT_CASES = [(flow, status) for flow in ("cloud", "general") for status in STATUSES]


@pytest.mark.parametrize("flow, status", SUBMIT_CASES, ids=[f"{f}-from-{s}" for f, s in SUBMIT_CASES])
async def test_applicant_submit_from_every_status(client, server, flow, status):
    applicant = await login_applicant(client)
    application = await create_review_application(applicant["applicant"]["id"], status=status,
                                           uploads_dir=server.settings.uploads.dir)
    before = await fingerprint(application.id)
    response = await client.post(f"/api/v1/applications/{application.id}/submit", json={"flow": flow},
                                 headers=applicant["headers"])
    expected = SPEC_TRANSITIONS["submit_cloud"].get(status) if flow == "cloud" else None
    if expected is None:
        # 一般流程 needs a valid signature and locked_signing needs all of them: none exists here.
        assert response.status_code == 409, response.text
        assert await fingerprint(application.id) == before
    else:
        assert response.status_code == 200, response.text
        assert (await Application.get(id=application.id)).status == expected


@pytest.mark.parametrize("status", SPEC_STATUSES)
async def test_applicant_withdraw_from_every_status(client, server, status):
    applicant = await login_applicant(client)
    application = await create_review_application(applicant["applicant"]["id"], status=status,
                                                  uploads_dir=server.settings.uploads.dir)
    before = await fingerprint(application.id)
    response = await client.post(f"/api/v1/applications/{application.id}/withdraw", headers=applicant["headers"])
    expected = SPEC_TRANSITIONS["withdraw"].get(status)
    if expected is None:
        assert response.status_code == 409, response.text
        assert await fingerprint(application.id) == before
    else:
        assert response.status_code == 200, response.text
        assert (await Application.get(id=application.id)).status == expected == "withdrawn"
        entry = await TimelineEntry.filter(application_id=application.id).order_by("-id").first()
        assert (entry.actor, entry.action, entry.from_status, entry.to_status) == ("申请人", "withdraw", status, expected)

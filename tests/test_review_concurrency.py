"""Two staff acting on one application at once, through real concurrent HTTP requests: exactly one wins."""
import asyncio

import httpx

from server.models.applications import Application, TimelineEntry
from server.models.notifications import OutboxMessage
from tests.helpers import create_review_application, create_staff, login_applicant


async def two_reviewers(client, server, status):
    applicant = await login_applicant(client)
    first = await create_staff(client, "reviewer-a", "reviewer", "451402")
    second = await create_staff(client, "reviewer-b", "reviewer", "451400")
    application = await create_review_application(applicant["applicant"]["id"], status=status, flow="general",
                                           uploads_dir=server.settings.uploads.dir)
    return first, second, application


async def at_once(server, requests):
    """Each request on its own connection, all sent together."""
    async def send(method, path, headers, body):
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as own:
            return await own.request(method, path, headers=headers, json=body)

    return await asyncio.gather(*[send(*request) for request in requests])


async def test_two_reviewers_approving_and_locking_at_once_one_gets_409(client, server):
    first, second, application = await two_reviewers(client, server, "cloud_review")
    path = f"/api/v1/review/applications/{application.id}/approve-lock"
    answers = await at_once(server, [("POST", path, first["headers"], None), ("POST", path, second["headers"], None)])
    assert sorted(a.status_code for a in answers) == [200, 409]
    assert (await Application.get(id=application.id)).status == "locked_signing"
    assert await TimelineEntry.filter(application_id=application.id, action="approve_lock").count() == 1
    assert await OutboxMessage.filter(template="cloud_approved").count() == 1


async def test_lock_racing_a_return_leaves_one_outcome(client, server):
    first, second, application = await two_reviewers(client, server, "cloud_review")
    base = f"/api/v1/review/applications/{application.id}"
    comments = {"comments": [{"field": "name", "message": "名称缺少行业表述"}]}
    answers = await at_once(server, [("POST", f"{base}/approve-lock", first["headers"], None),
                                     ("POST", f"{base}/return", second["headers"], comments)])
    assert sorted(a.status_code for a in answers) == [200, 409]
    winner = "locked_signing" if answers[0].status_code == 200 else "returned"
    assert (await Application.get(id=application.id)).status == winner
    assert await TimelineEntry.filter(application_id=application.id).count() == 1


async def test_approve_racing_a_reject_leaves_one_decision(client, server):
    first, second, application = await two_reviewers(client, server, "accepted")
    base = f"/api/v1/review/applications/{application.id}"
    answers = await at_once(server, [("POST", f"{base}/approve", first["headers"], None),
                                     ("POST", f"{base}/reject", second["headers"], {"reason": "不符合条件"})])
    assert sorted(a.status_code for a in answers) == [200, 409]
    stored = await Application.get(id=application.id)
    assert stored.status in ("approved", "rejected")
    assert (stored.credit_code is not None) == (stored.status == "approved")
    assert await OutboxMessage.filter(template="application_result", channel="sms").count() == 0
    assert await OutboxMessage.filter(template="application_result").count() == 1

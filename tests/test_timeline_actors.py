"""Timeline rows stored before actors were named in Chinese (actor `applicant:<id>`) read as 申请人 (issue 19)."""
from server.models.applications import TimelineEntry
from tests.helpers import create_review_application, create_staff, login_applicant


async def test_a_stored_applicant_id_actor_reads_as_the_applicant_in_both_timelines(client, server):
    me = await login_applicant(client)
    application = await create_review_application(me["applicant"]["id"], status="cloud_review")
    await TimelineEntry.create(application_id=application.id, actor=f"applicant:{me['applicant']['id']}",
                               action="submit_cloud", from_status="draft", to_status="cloud_review", comments=[])
    reviewer = await create_staff(client)

    mine = await client.get(f"/api/v1/applications/{application.id}/timeline", headers=me["headers"])
    staff = await client.get(f"/api/v1/review/applications/{application.id}", headers=reviewer["headers"])
    assert mine.status_code == 200 and staff.status_code == 200, (mine.text, staff.text)
    for timeline in (mine.json(), staff.json()["timeline"]):
        assert [entry["actor"] for entry in timeline if entry["action"] == "submit_cloud"] == ["申请人"]

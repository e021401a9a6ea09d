"""云帮办 review through the real HTTP API: submit, the 待办 queue, approve-and-lock, return, accept, approve,
reject, scope and roles, timeline and the append-only audit log."""
import asyncio
import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest

from server.models.applications import Application, Attachment, TimelineEntry
from server.models.notifications import OutboxMessage
from server.models.review import AppendOnlyError, AuditEntry, IdempotencyRecord
from server.services.applications.identifiers import credit_code_problem
from server.services.applications.service import canonical_materials, materials_hash
from tests.helpers import create_review_application, create_staff, login_applicant


async def applicant_with_phone(client, openid="openid-review"):
    login = await login_applicant(client, openid)
    code = (await client.post("/_mock/wx/phone-code", json={"phone": "13712345678"})).json()["code"]
    assert (await client.post("/api/v1/mp/phone", json={"code": code}, headers=login["headers"])).status_code == 200
    return login


async def setup(client, server, status="draft", authority="451402", **fields):
    applicant = await applicant_with_phone(client)
    reviewer = await create_staff(client, "reviewer-jz", "reviewer", "451402")
    application = await create_review_application(applicant["applicant"]["id"], authority, status,
                                           uploads_dir=server.settings.uploads.dir, **fields)
    return applicant, reviewer, application


def url(application, action=""):
    return f"/api/v1/review/applications/{application.id}" + (f"/{action}" if action else "")


async def submit(client, applicant, application, flow="cloud", **headers):
    return await client.post(f"/api/v1/applications/{application.id}/submit", json={"flow": flow},
                             headers={**applicant["headers"], **headers})


# --- submit -----------------------------------------------------------------------------------------------

async def test_cloud_submit_goes_to_cloud_review_with_a_due_time(client, server):
    applicant, _, application = await setup(client, server)
    response = await submit(client, applicant, application)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "cloud_review" and body["flow"] == "cloud" and body["resubmission"] is False
    stored = await Application.get(id=application.id)
    assert stored.first_submitted_at and stored.submitted_at and stored.due_at > stored.submitted_at
    assert stored.due_at - stored.submitted_at <= timedelta(days=4)


async def test_general_submit_without_a_signature_is_refused_with_the_reason(client, server):
    applicant, _, application = await setup(client, server)
    response = await submit(client, applicant, application, "general")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "signature_required"
    assert "签名" in response.json()["error"]["message"]
    assert (await Application.get(id=application.id)).status == "draft"


async def test_submit_from_locked_signing_waits_for_every_signature(client, server):
    applicant, _, application = await setup(client, server, status="locked_signing", flow="cloud")
    response = await submit(client, applicant, application, "cloud")
    assert response.status_code == 409 and response.json()["error"]["code"] == "signatures_incomplete"
    general = await submit(client, applicant, application, "general")
    assert general.status_code == 409 and general.json()["error"]["code"] == "flow_locked"
    assert (await Application.get(id=application.id)).status == "locked_signing"


async def test_submit_with_unknown_flow_names_the_field(client, server):
    applicant, _, application = await setup(client, server)
    response = await submit(client, applicant, application, "fast")
    assert response.status_code == 422 and response.json()["error"]["field"] == "flow"


async def test_someone_elses_application_cannot_be_submitted(client, server):
    _, _, application = await setup(client, server)
    stranger = await login_applicant(client, "openid-stranger")
    assert (await submit(client, stranger, application)).status_code == 404
    assert (await Application.get(id=application.id)).status == "draft"


async def test_retry_with_the_same_idempotency_key_returns_the_first_answer(client, server):
    applicant, _, application = await setup(client, server)
    first = await submit(client, applicant, application, **{"Idempotency-Key": "k-1"})
    again = await submit(client, applicant, application, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    assert await TimelineEntry.filter(application_id=application.id, action="submit_cloud").count() == 1
    without_key = await submit(client, applicant, application)
    assert without_key.status_code == 409


async def test_concurrent_duplicate_submits_act_once(client, server):
    applicant, _, application = await setup(client, server)
    answers = await asyncio.gather(*[submit(client, applicant, application, **{"Idempotency-Key": "same"})
                                     for _ in range(4)])
    assert [a.status_code for a in answers] == [200] * 4
    assert all(a.json() == answers[0].json() for a in answers)
    assert await TimelineEntry.filter(application_id=application.id, action="submit_cloud").count() == 1


async def test_idempotency_key_reused_for_another_request_is_refused(client, server):
    applicant, _, application = await setup(client, server)
    assert (await submit(client, applicant, application, **{"Idempotency-Key": "k-2"})).status_code == 200
    other = await create_review_application(applicant["applicant"]["id"], uploads_dir=server.settings.uploads.dir)
    reused = await submit(client, applicant, other, **{"Idempotency-Key": "k-2"})
    assert reused.status_code == 422 and reused.json()["error"]["field"] == "Idempotency-Key"
    assert (await Application.get(id=other.id)).status == "draft"


async def test_refused_submit_is_not_remembered_under_its_key(client, server):
    applicant, _, application = await setup(client, server)
    refused = await submit(client, applicant, application, "general", **{"Idempotency-Key": "k-3"})
    assert refused.status_code == 409
    assert not await IdempotencyRecord.filter(key="k-3").exists()


# --- queue ------------------------------------------------------------------------------------------------

async def test_queue_puts_overdue_first_then_resubmissions_then_by_due_time(client, server):
    applicant, reviewer, _ = await setup(client, server)
    now = datetime.now(timezone.utc)
    me = applicant["applicant"]["id"]
    dir_ = server.settings.uploads.dir
    later = await create_review_application(me, status="cloud_review", due_at=now + timedelta(hours=3), name="甲")
    sooner = await create_review_application(me, status="cloud_review", due_at=now + timedelta(hours=1), name="乙")
    resubmitted = await create_review_application(me, status="cloud_review", due_at=now + timedelta(hours=4),
                                           resubmission=True, name="丙", uploads_dir=dir_)
    overdue = await create_review_application(me, status="submitted", due_at=now - timedelta(hours=1), name="丁")
    await create_review_application(me, status="approved", name="戊")
    response = await client.get("/api/v1/review/queue", headers=reviewer["headers"])
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [item["id"] for item in items] == [str(a.id) for a in (overdue, resubmitted, sooner, later)]
    assert [item["overdue"] for item in items] == [True, False, False, False]
    assert response.json()["total"] == 4


async def test_queue_pages_follow_the_cursor_through_every_segment(client, server):
    applicant, reviewer, _ = await setup(client, server)
    now = datetime.now(timezone.utc)
    me = applicant["applicant"]["id"]

    async def make(name, due, resubmission=False, status="cloud_review"):
        return str((await create_review_application(me, status=status, due_at=due, resubmission=resubmission,
                                                    name=name)).id)

    late_resubmitted = await make("甲", now - timedelta(hours=1), resubmission=True)
    very_late = await make("乙", now - timedelta(hours=5))
    late = await make("丙", now - timedelta(hours=2), status="accepted")
    resubmitted_soon = await make("丁", now + timedelta(hours=6), resubmission=True)
    soon = await make("戊", now + timedelta(hours=1), status="submitted")
    later = await make("己", now + timedelta(hours=2))
    no_due_time = await make("庚", None)
    expected = [late_resubmitted, very_late, late, resubmitted_soon, soon, later, no_due_time]
    for page_size in (1, 2, 3, 100):
        seen, cursor = [], None
        while True:
            query = f"page_size={page_size}" + (f"&cursor={cursor}" if cursor else "")
            page = (await client.get(f"/api/v1/review/queue?{query}", headers=reviewer["headers"])).json()
            assert page["total"] == 7
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == expected, page_size


async def test_queue_masks_personal_data(client, server):
    _, reviewer, application = await setup(client, server, status="cloud_review",
                                            due_at=datetime.now(timezone.utc) + timedelta(hours=2))
    item = (await client.get("/api/v1/review/queue", headers=reviewer["headers"])).json()["items"][0]
    assert item["legal_rep"]["id_number"] == "4514**********1235"
    assert item["legal_rep"]["phone"] == "138****1111" and item["applicant_phone"] == "137****5678"
    assert "13712345678" not in str(item)


async def test_queue_filters_and_paginates(client, server):
    applicant, reviewer, _ = await setup(client, server)
    me = applicant["applicant"]["id"]
    due = datetime.now(timezone.utc) + timedelta(hours=2)
    for index in range(5):
        await create_review_application(me, status="cloud_review", due_at=due + timedelta(minutes=index))
    await create_review_application(me, status="submitted", due_at=due, business_type="change", credit_code="x")
    await create_review_application(me, authority="451481", status="cloud_review", due_at=due)
    headers = reviewer["headers"]
    seen, cursor = [], None
    for _ in range(3):
        query = "page_size=2&status=cloud_review" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(f"/api/v1/review/queue?{query}", headers=headers)).json()
        assert page["total"] == 5 and page["total_exact"] is True and len(page["items"]) <= 2
        seen += [item["due_at"] for item in page["items"]]
        cursor = page["next_cursor"]
    assert cursor is None and len(seen) == 5 and seen == sorted(seen)  # each once, in due order
    changes = (await client.get("/api/v1/review/queue?business_type=change", headers=headers)).json()
    assert [i["business_type"] for i in changes["items"]] == ["change"]
    city = await create_staff(client, "city-reviewer", "reviewer", "451400")
    by_county = (await client.get("/api/v1/review/queue?authority=451481", headers=city["headers"])).json()
    assert by_county["total"] == 1 and by_county["items"][0]["authority_code"] == "451481"
    assert (await client.get("/api/v1/review/queue", headers=city["headers"])).json()["total"] == 7


@pytest.mark.parametrize("query, field", [("status=lost", "status"), ("business_type=x", "business_type"),
                                          ("cursor=bm9wZQ", "cursor"), ("page_size=1000", "page_size"),
                                          ("cursor=%%%", "cursor"), ("cursor=WzEsMiwzLDQsNV0", "cursor")])
async def test_queue_rejects_bad_filters_by_name(client, server, query, field):
    _, reviewer, _ = await setup(client, server)
    response = await client.get(f"/api/v1/review/queue?{query}", headers=reviewer["headers"])
    assert response.status_code == 422 and response.json()["error"]["field"] == field


async def test_queue_refuses_an_authority_outside_the_scope(client, server):
    _, reviewer, _ = await setup(client, server)
    response = await client.get("/api/v1/review/queue?authority=450100", headers=reviewer["headers"])
    assert response.status_code == 404 and response.json()["error"]["field"] == "authority"


async def test_queue_needs_a_staff_login(client, server):
    applicant, _, _ = await setup(client, server)
    client.cookies.clear()
    assert (await client.get("/api/v1/review/queue")).status_code == 401
    assert (await client.get("/api/v1/review/queue", headers=applicant["headers"])).status_code == 401


# --- scope and roles --------------------------------------------------------------------------------------

async def test_county_a_staff_gets_404_for_county_b_application(client, server):
    _, _, application = await setup(client, server, status="cloud_review", authority="451481")
    county_a = await create_staff(client, "jiangzhou", "reviewer", "451402")
    for method, action in [("get", ""), ("post", "approve-lock"), ("post", "accept"), ("post", "approve")]:
        response = await getattr(client, method)(url(application, action), headers=county_a["headers"])
        assert response.status_code == 404, (action, response.text)
    items = (await client.get("/api/v1/review/queue", headers=county_a["headers"])).json()["items"]
    assert str(application.id) not in [item["id"] for item in items]
    assert (await Application.get(id=application.id)).status == "cloud_review"


async def test_city_staff_sees_its_counties(client, server):
    _, _, application = await setup(client, server, status="cloud_review", authority="451481")
    city = await create_staff(client, "chongzuo", "reviewer", "451400")
    assert (await client.get(url(application), headers=city["headers"])).status_code == 200


async def test_helper_may_look_but_not_act(client, server):
    _, _, application = await setup(client, server, status="cloud_review")
    helper = await create_staff(client, "helper1", "helper", "451402")
    assert (await client.get(url(application), headers=helper["headers"])).status_code == 200
    assert (await client.get("/api/v1/review/queue", headers=helper["headers"])).status_code == 200
    refused = await client.post(url(application, "approve-lock"), headers=helper["headers"])
    assert refused.status_code == 403
    assert (await Application.get(id=application.id)).status == "cloud_review"


# --- detail -----------------------------------------------------------------------------------------------

async def test_detail_has_full_parties_attachments_and_timeline(client, server):
    applicant, reviewer, application = await setup(client, server)
    await submit(client, applicant, application)
    detail = (await client.get(url(application), headers=reviewer["headers"])).json()
    assert detail["parties"][0]["id_number"] == "451402199003071235"
    assert detail["applicant"]["phone"] == "13712345678"
    assert [t["action"] for t in detail["timeline"]] == ["submit_cloud"]
    assert "entity.address" in detail["comment_fields"] and "parties[1].id_number" in detail["comment_fields"]
    attachment = detail["attachments"][0]
    content = await client.get(attachment["url"], headers=reviewer["headers"])
    assert content.status_code == 200 and content.headers["content-type"] == "image/png"
    stored = await Attachment.get(id=attachment["id"])
    assert len(content.content) == stored.size


async def test_attachment_of_another_county_is_404(client, server):
    _, _, application = await setup(client, server, authority="451481")
    attachment = await Attachment.get(application_id=application.id, kind="id_document")
    county_a = await create_staff(client, "jz2", "reviewer", "451402")
    response = await client.get(f"/api/v1/applications/{application.id}/attachments/{attachment.id}",
                                headers=county_a["headers"])
    assert response.status_code == 404


# --- approve-and-lock -------------------------------------------------------------------------------------

async def test_approve_lock_freezes_the_snapshot_and_tells_the_applicant(client, server):
    applicant, reviewer, application = await setup(client, server)
    await submit(client, applicant, application)
    response = await client.post(url(application, "approve-lock"), headers=reviewer["headers"])
    assert response.status_code == 200, response.text
    stored = await Application.get(id=application.id)
    assert stored.status == "locked_signing"
    assert stored.snapshot == await canonical_materials(stored)
    assert response.json()["snapshot_hash"] == stored.snapshot_hash == materials_hash(stored.snapshot)
    messages = await OutboxMessage.filter(template="cloud_approved").order_by("channel")
    assert [(m.channel, m.recipient) for m in messages] == [("sms", "13712345678"), ("wechat", "openid-review")]


async def test_approve_lock_without_a_phone_sends_only_wechat(client, server):
    login = await login_applicant(client, "openid-nophone")
    reviewer = await create_staff(client)
    application = await create_review_application(login["applicant"]["id"], "451400", "cloud_review",
                                           uploads_dir=server.settings.uploads.dir)
    assert (await client.post(url(application, "approve-lock"), headers=reviewer["headers"])).status_code == 200
    assert [m.channel for m in await OutboxMessage.filter(template="cloud_approved")] == ["wechat"]


# --- return -----------------------------------------------------------------------------------------------

async def test_return_records_the_comments_on_the_timeline_and_notifies(client, server):
    applicant, reviewer, application = await setup(client, server)
    await submit(client, applicant, application)
    attachment = await Attachment.get(application_id=application.id, kind="id_document")
    comments = [{"field": "entity.address", "message": "住所请写到门牌号"},
                {"attachment_id": str(attachment.id), "message": "身份证照片不清晰"}]
    response = await client.post(url(application, "return"), json={"comments": comments}, headers=reviewer["headers"])
    assert response.status_code == 200, response.text
    timeline = (await client.get(f"/api/v1/applications/{application.id}/timeline",
                                 headers=applicant["headers"])).json()
    assert [t["action"] for t in timeline] == ["submit_cloud", "return"]
    returned = timeline[-1]
    assert returned["from_status"] == "cloud_review" and returned["to_status"] == "returned"
    assert [c["message"] for c in returned["comments"]] == ["住所请写到门牌号", "身份证照片不清晰"]
    assert returned["comments"][1]["attachment_kind"] == "id_document"
    assert {m.channel for m in await OutboxMessage.filter(template="cloud_returned")} == {"sms", "wechat"}


@pytest.mark.parametrize("comments, field", [
    ([], "comments"),
    ([{"message": "没有指明位置"}], "comments[0]"),
    ([{"field": "entity.address", "message": "  "}], "comments[0].message"),
    ([{"field": "entity.address", "message": "好"}, {"field": "entity.nothing", "message": "无此项"}],
     "comments[1].field"),
    ([{"attachment_id": "00000000-0000-0000-0000-000000000000", "message": "无此附件"}], "comments[0].attachment_id"),
    ([{"field": "parties[5].name", "message": "无此人"}], "comments[0].field"),
])
async def test_return_refuses_an_incomplete_or_foreign_comment_list(client, server, comments, field):
    _, reviewer, application = await setup(client, server, status="cloud_review")
    response = await client.post(url(application, "return"), json={"comments": comments}, headers=reviewer["headers"])
    assert response.status_code == 422 and response.json()["error"]["field"] == field
    assert (await Application.get(id=application.id)).status == "cloud_review"
    assert not await OutboxMessage.exists()


async def test_other_applications_attachment_cannot_be_commented(client, server):
    applicant, reviewer, application = await setup(client, server, status="cloud_review")
    other = await create_review_application(applicant["applicant"]["id"], uploads_dir=server.settings.uploads.dir)
    foreign = await Attachment.get(application_id=other.id, kind="id_document")
    response = await client.post(url(application, "return"), headers=reviewer["headers"],
                                 json={"comments": [{"attachment_id": str(foreign.id), "message": "x"}]})
    assert response.status_code == 422 and response.json()["error"]["field"] == "comments[0].attachment_id"


async def test_resubmission_goes_to_the_front_of_the_queue(client, server):
    applicant, reviewer, application = await setup(client, server)
    me = applicant["applicant"]["id"]
    earlier = await create_review_application(me, status="cloud_review",
                                       due_at=datetime.now(timezone.utc) + timedelta(minutes=5))
    await submit(client, applicant, application)
    await client.post(url(application, "return"), headers=reviewer["headers"],
                      json={"comments": [{"field": "name", "message": "名称请补充行业"}]})
    again = await submit(client, applicant, application)
    assert again.json()["resubmission"] is True and again.json()["status"] == "cloud_review"
    items = (await client.get("/api/v1/review/queue", headers=reviewer["headers"])).json()["items"]
    assert [i["id"] for i in items] == [str(application.id), str(earlier.id)]
    assert items[0]["resubmission"] is True


# --- accept / approve / reject ----------------------------------------------------------------------------

async def locked_and_submitted(client, server):
    """A 云帮办 application locked by the reviewer and (all signatures being in) submitted for acceptance."""
    applicant, reviewer, application = await setup(client, server)
    await submit(client, applicant, application)
    await client.post(url(application, "approve-lock"), headers=reviewer["headers"])
    await Application.filter(id=application.id).update(status="submitted")
    return applicant, reviewer, application


async def test_accepting_a_cloud_application_says_all_signatures_are_in(client, server):
    _, reviewer, application = await locked_and_submitted(client, server)
    detail = (await client.get(url(application), headers=reviewer["headers"])).json()
    assert detail["notice"] == "云帮办所有签名已完成"
    response = await client.post(url(application, "accept"), headers=reviewer["headers"])
    assert response.status_code == 200, response.text
    assert response.json()["notice"] == "云帮办所有签名已完成"
    assert (await Application.get(id=application.id)).status == "accepted"


async def test_accept_refuses_materials_changed_since_the_lock(client, server):
    _, reviewer, application = await locked_and_submitted(client, server)
    await Attachment.filter(application_id=application.id).update(sha256="0" * 64)
    response = await client.post(url(application, "accept"), headers=reviewer["headers"])
    assert response.status_code == 409 and response.json()["error"]["code"] == "snapshot_mismatch"
    assert (await Application.get(id=application.id)).status == "submitted"


async def test_a_snapshot_carries_its_format_and_the_hash_of_its_canonical_json(client, server):
    applicant, reviewer, application = await setup(client, server)
    await submit(client, applicant, application)
    body = (await client.post(url(application, "approve-lock"), headers=reviewer["headers"])).json()
    stored = await Application.get(id=application.id)
    assert stored.snapshot["format"] == 2
    # Sorted keys, no spaces, non-ASCII as \\u escapes: anyone can recompute it from the JSON alone.
    text = json.dumps(stored.snapshot, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    assert body["snapshot_hash"] == stored.snapshot_hash == hashlib.sha256(text.encode("ascii")).hexdigest()


async def test_a_case_locked_before_the_format_number_still_verifies_at_acceptance(client, server):
    _, reviewer, application = await locked_and_submitted(client, server)
    stored = await Application.get(id=application.id)
    # Format 1, as locked before the number existed: no "format" key, hashed as UTF-8 text.
    legacy = {key: value for key, value in stored.snapshot.items() if key != "format"}
    text = json.dumps(legacy, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    await Application.filter(id=application.id).update(snapshot=legacy,
                                                       snapshot_hash=hashlib.sha256(text.encode("utf-8")).hexdigest())
    response = await client.post(url(application, "accept"), headers=reviewer["headers"])
    assert response.status_code == 200, response.text
    assert (await Application.get(id=application.id)).status == "accepted"


@pytest.mark.parametrize("entity_type, category", [("llc", "91"), ("individual_business", "92"),
                                                   ("cooperative", "93")])
async def test_approving_an_establishment_issues_a_valid_credit_code(client, server, entity_type, category):
    _, reviewer, application = await setup(client, server, status="accepted", entity_type=entity_type)
    response = await client.post(url(application, "approve"), headers=reviewer["headers"])
    assert response.status_code == 200, response.text
    code = response.json()["credit_code"]
    assert credit_code_problem(code) is None and code[:2] == category and code[2:8] == "451402"
    stored = await Application.get(id=application.id)
    assert stored.status == "approved" and stored.credit_code == code and stored.decided_at
    assert await OutboxMessage.filter(template="application_result", channel="sms").exists()


async def test_an_approved_entitys_own_name_is_no_conflict_on_its_own_case(client, server):
    applicant, reviewer, application = await setup(client, server, status="accepted")
    assert (await client.post(url(application, "approve"), headers=reviewer["headers"])).status_code == 200
    staff_view = (await client.get(url(application), headers=reviewer["headers"])).json()
    assert staff_view["name_check"]["available"] is True, staff_view["name_check"]
    mine = (await client.get(f"/api/v1/applications/{application.id}", headers=applicant["headers"])).json()
    assert [item for item in mine["missing"] if item["field"] == "name"] == []


async def test_approving_a_change_updates_the_registry_and_a_deregistration_closes_it(client, server):
    from server.models.names import RegisteredEntity
    from server.services.applications.identifiers import new_credit_code
    from server.services.applications.registry import upsert_entity

    code = new_credit_code("451402")
    await upsert_entity("崇左海川科技有限公司", code, "451402", "llc", "registered")
    _, reviewer, change = await setup(client, server, status="accepted", business_type="change", credit_code=code,
                                      name="崇左海川科技有限公司",
                                      entity={"changes": [{"item": "name", "after": "崇左海川信息技术有限公司"}]})
    response = await client.post(url(change, "approve"), headers=reviewer["headers"])
    assert response.status_code == 200, response.text
    assert response.json()["credit_code"] == code
    entity = await RegisteredEntity.get(credit_code=code)
    assert (entity.name, entity.status) == ("崇左海川信息技术有限公司", "registered")
    closing = await create_review_application(change.applicant_id, status="accepted", business_type="deregister",
                                              credit_code=code, name="崇左海川信息技术有限公司",
                                              uploads_dir=server.settings.uploads.dir)
    assert (await client.post(url(closing, "approve"), headers=reviewer["headers"])).status_code == 200
    assert (await RegisteredEntity.get(credit_code=code)).status == "cancelled"


async def test_approved_establishment_enters_the_registry(client, server):
    from server.models.names import RegisteredEntity

    _, reviewer, application = await setup(client, server, status="accepted")
    code = (await client.post(url(application, "approve"), headers=reviewer["headers"])).json()["credit_code"]
    entity = await RegisteredEntity.get(credit_code=code)
    assert (entity.name, entity.status, entity.authority_code) == ("崇左云帆科技有限公司", "registered", "451402")


async def test_reject_needs_a_reason(client, server):
    applicant, reviewer, application = await setup(client, server, status="accepted")
    empty = await client.post(url(application, "reject"), json={"reason": "  "}, headers=reviewer["headers"])
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "reason"
    done = await client.post(url(application, "reject"), json={"reason": "经营范围涉及前置许可，未提交许可文件"},
                             headers=reviewer["headers"])
    assert done.status_code == 200 and done.json()["status"] == "rejected"
    timeline = (await client.get(f"/api/v1/applications/{application.id}/timeline",
                                 headers=applicant["headers"])).json()
    assert timeline[-1]["comments"] == [{"message": "经营范围涉及前置许可，未提交许可文件"}]


# --- timeline and audit -----------------------------------------------------------------------------------

async def test_timeline_is_only_for_the_owner(client, server):
    _, _, application = await setup(client, server)
    stranger = await login_applicant(client, "openid-other")
    response = await client.get(f"/api/v1/applications/{application.id}/timeline", headers=stranger["headers"])
    assert response.status_code == 404


async def test_every_staff_action_is_audited_with_ip_and_user_agent(client, server):
    applicant, reviewer, application = await setup(client, server)
    await submit(client, applicant, application)
    headers = {**reviewer["headers"], "User-Agent": "Console-Test/1.0"}
    await client.get(url(application), headers=headers)
    await client.post(url(application, "approve-lock"), headers=headers)
    entries = await AuditEntry.filter(application_id=application.id).order_by("id")
    assert [(e.action, e.from_status, e.to_status) for e in entries] == [
        ("view", None, None), ("approve_lock", "cloud_review", "locked_signing")]
    assert all(e.username == "reviewer-jz" and e.ip == "127.0.0.1" and e.user_agent == "Console-Test/1.0" for e in entries)


async def test_audit_log_refuses_updates_and_deletes(client, server):
    _, reviewer, application = await setup(client, server)
    await client.get(url(application), headers=reviewer["headers"])
    entry = await AuditEntry.get(application_id=application.id)
    entry.action = "nothing"
    with pytest.raises(AppendOnlyError):
        await entry.save()
    with pytest.raises(AppendOnlyError):
        await entry.delete()
    with pytest.raises(AppendOnlyError):
        await AuditEntry.filter(id=entry.id).update(action="nothing")
    with pytest.raises(AppendOnlyError):
        await AuditEntry.filter(id=entry.id).delete()
    assert (await AuditEntry.get(id=entry.id)).action == "view"


async def test_admin_reads_the_audit_log_of_the_scope_and_others_may_not(client, server):
    applicant, reviewer, application = await setup(client, server)
    await submit(client, applicant, application)
    await client.post(url(application, "approve-lock"), headers=reviewer["headers"])
    admin = await create_staff(client, "city-admin", "admin", "451400")
    log = await client.get(f"/api/v1/review/audit?application_id={application.id}", headers=admin["headers"])
    assert log.status_code == 200
    assert [e["action"] for e in log.json()["items"]] == ["approve_lock"]
    assert log.json()["items"][0]["username"] == "reviewer-jz"
    other = await create_staff(client, "nanning-admin", "admin", "450100")
    assert (await client.get("/api/v1/review/audit", headers=other["headers"])).json()["total"] == 0
    assert (await client.get("/api/v1/review/audit", headers=reviewer["headers"])).status_code == 403
    bad = await client.get("/api/v1/review/audit?application_id=nope", headers=admin["headers"])
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "application_id"
    await client.get(f"/api/v1/review/applications/{application.id}", headers=reviewer["headers"])  # a "view"
    first = (await client.get("/api/v1/review/audit?page_size=1", headers=admin["headers"])).json()
    assert [e["action"] for e in first["items"]] == ["view"] and first["total"] == 2
    second = (await client.get(f"/api/v1/review/audit?page_size=1&cursor={first['next_cursor']}",
                               headers=admin["headers"])).json()
    assert [e["action"] for e in second["items"]] == ["approve_lock"] and second["next_cursor"] is None


# --- submit preconditions (applications' missing, flow options, names) -----------------------------------

async def test_incomplete_draft_is_refused_with_everything_missing_at_once(client, server):
    applicant, _, application = await setup(client, server, entity={"address": "崇左市江州区新民路1号"})
    response = await submit(client, applicant, application)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "incomplete" and error["field"] == error["missing"][0]["field"]
    assert {"entity.business_scope", "entity.registered_capital"} <= {item["field"] for item in error["missing"]}
    assert (await Application.get(id=application.id)).status == "draft"


async def test_name_taken_since_the_check_is_refused(client, server):
    from server.services.applications.identifiers import new_credit_code
    from server.services.applications.registry import upsert_entity

    applicant, _, application = await setup(client, server)
    await upsert_entity("崇左云帆科技有限公司", new_credit_code("451402"), "451402", "llc", "registered")
    response = await submit(client, applicant, application)
    assert response.status_code == 409 and response.json()["error"]["code"] == "name_unavailable"
    assert (await Application.get(id=application.id)).status == "draft"


async def test_cloud_is_refused_when_the_legal_rep_has_no_resident_id(client, server):
    from server.models.applications import Party

    applicant, _, application = await setup(client, server)
    await Party.filter(application_id=application.id, role="legal_rep").update(id_type="passport",
                                                                             id_number="E12345678")
    response = await submit(client, applicant, application)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "flow_unavailable" and error["reasons"][0]["code"] == "legal_rep_not_resident_id"
    assert "居民身份证" in error["message"]


async def test_detail_rechecks_the_name(client, server):
    from server.services.applications.identifiers import new_credit_code
    from server.services.applications.registry import upsert_entity

    _, reviewer, application = await setup(client, server, status="cloud_review")
    fresh = (await client.get(url(application), headers=reviewer["headers"])).json()
    assert fresh["name_check"]["available"] is True and fresh["missing"] == []
    await upsert_entity("崇左云帆科技有限公司", new_credit_code("451402"), "451402", "llc", "registered")
    taken = (await client.get(url(application), headers=reviewer["headers"])).json()
    assert taken["name_check"]["available"] is False and taken["name_check"]["conflicts"]


async def test_locked_application_refuses_every_write_path(client, server):
    applicant, reviewer, application = await setup(client, server)
    await submit(client, applicant, application)
    await client.post(url(application, "approve-lock"), headers=reviewer["headers"])
    locked = await Application.get(id=application.id)
    base = f"/api/v1/applications/{application.id}"
    headers = applicant["headers"]
    attachment = await Attachment.get(application_id=application.id, kind="id_document")
    attempts = [
        await client.patch(base, json={"entity": {"address": "改到别处"}}, headers=headers),
        await client.patch(base, json={"parties": []}, headers=headers),
        await client.post(f"{base}/attachments", data={"kind": "id_document"},
                          files={"file": ("a.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")}, headers=headers),
        await client.delete(f"{base}/attachments/{attachment.id}", headers=headers),
    ]
    # Withdrawing stays possible (an exit from the lock, tested in test_signing_exits); editing does not.
    assert [a.status_code for a in attempts] == [409] * 4, [a.text for a in attempts]
    after = await Application.get(id=application.id)
    assert (after.status, after.materials_version, after.entity) == ("locked_signing", locked.materials_version,
                                                                     locked.entity)
    assert materials_hash(await canonical_materials(after)) == locked.snapshot_hash

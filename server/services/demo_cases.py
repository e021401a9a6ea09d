"""seed-demo's sample applications: one 有限责任公司 设立 in each state the console and the queue show, so a first
look at the demo has something to open. Written through the models, as the cases would stand after each step, except
the locked one: the demo reviewer locks it through 云帮办通过 (documents rendered, signing links sent) and the legal
representative signs through the signing service, so it stands at one signature of two. Seeded once (a demo
applicant that already has cases is left alone)."""
from __future__ import annotations

import base64
import hashlib
import io
import time
import uuid
from datetime import timedelta

from PIL import Image, ImageDraw
from tortoise import connections

from server import storage
from server.clock import now
from server.config import Settings
from server.cache import make_cache
from server.models.accounts import Applicant, Staff
from server.models.applications import Application, Attachment, Party, TimelineEntry
from server.models.signing import SigningRequest
from server.services.applications import lifecycle, materials
from server.services.applications.identifiers import new_credit_code
from server.services.applications.service import canonical_materials, materials_hash
from server.services.demo import DEMO_ACCOUNTS
from server.services.documents import service as documents_service
from server.services.review import decisions, worktime
from server.services.review.audit import Origin
from server.services.signing import face, signatures
from server.services.statistics import rollups
from server.vocabulary import ApplicationAction as A
from server.vocabulary import ApplicationStatus as S

DEMO_OPENID = "demo-openid"
DEMO_PHONE = "13800000000"
AUTHORITY = "451402"
REVIEWER = "审核员 李**"
ENTITY = {"address": "崇左市江州区新民路1号", "business_scope": "软件开发；信息技术咨询服务", "contact_phone": DEMO_PHONE,
          "operating_term": "长期", "registered_capital": "100"}
PEOPLE = [("legal_rep", "李明", "451402198805121236", "13800138011", None),
          ("investor", "李明", "451402198805121236", "13800138011", 60),
          ("investor", "王芳", "451421199202280047", "13800138012", 40),
          ("liaison", "王芳", "451421199202280047", "13800138012", None)]
RETURN_COMMENTS = [{"field": "entity.address", "message": "住所请写到门牌号"},
                   {"field": "parties[2].phone", "message": "投资人王芳的手机号码请核对"}]
# name, final status, the timeline that got it there: (action, from, to, comments)
CASES = [
    ("崇左云帆科技有限公司", S.DRAFT, []),
    ("崇左青禾农业科技有限公司", S.CLOUD_REVIEW, [(A.SUBMIT_CLOUD, S.DRAFT, S.CLOUD_REVIEW)]),
    ("崇左山岚文化传媒有限公司", S.RETURNED, [(A.SUBMIT_CLOUD, S.DRAFT, S.CLOUD_REVIEW),
                                             (A.RETURN, S.CLOUD_REVIEW, S.RETURNED)]),
    # Locked and signed by the services from 云帮办 review on (see _lock_with_one_signature).
    ("崇左林溪电子商务有限公司", S.LOCKED_SIGNING, [(A.SUBMIT_CLOUD, S.DRAFT, S.CLOUD_REVIEW)]),
    ("崇左海川物流有限公司", S.SUBMITTED, [(A.SUBMIT_CLOUD, S.DRAFT, S.CLOUD_REVIEW),
                                        (A.APPROVE_LOCK, S.CLOUD_REVIEW, S.LOCKED_SIGNING),
                                        (A.SUBMIT_SIGNED, S.LOCKED_SIGNING, S.SUBMITTED)]),
    ("崇左星河餐饮管理有限公司", S.APPROVED, [(A.SUBMIT_CLOUD, S.DRAFT, S.CLOUD_REVIEW),
                                           (A.APPROVE_LOCK, S.CLOUD_REVIEW, S.LOCKED_SIGNING),
                                           (A.SUBMIT_SIGNED, S.LOCKED_SIGNING, S.SUBMITTED),
                                           (A.ACCEPT, S.SUBMITTED, S.ACCEPTED), (A.APPROVE, S.ACCEPTED, S.APPROVED)]),
]
_ACTORS = {A.SUBMIT_CLOUD: lifecycle.APPLICANT_ACTOR, A.SUBMIT_SIGNED: lifecycle.SYSTEM_ACTOR}
_SEED_ORIGIN = Origin(ip="127.0.0.1", user_agent="seed-demo")
# A 1×1 PNG stands in for each photo the applicant would have taken.
_PHOTO = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                       "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5f1d3"
                       "0a0000000049454e44ae426082")


async def seed_demo_cases(settings: Settings) -> list[str]:
    applicant, _ = await Applicant.get_or_create(openid=DEMO_OPENID, defaults={"phone": DEMO_PHONE})
    if await Application.exists(applicant_id=applicant.id):
        return [f"sample applications: already there (applicant {DEMO_OPENID})"]
    for name, status, steps in CASES:
        if status == S.LOCKED_SIGNING:
            await _lock_with_one_signature(settings, await _case(settings, applicant, name, S.CLOUD_REVIEW, steps))
        else:
            await _case(settings, applicant, name, status, steps)
    return [f"sample applications: {len(CASES)} in 江州区 ({'、'.join(status.label for _, status, _ in CASES)}), "
            f"applicant openid {DEMO_OPENID}"]


async def _case(settings: Settings, applicant: Applicant, name: str, status: S, steps: list) -> Application:
    application = await Application.create(applicant_id=applicant.id, authority_id=AUTHORITY, business_type="establish",
                                           entity_type="llc", name=name, entity=dict(ENTITY), status=S.DRAFT)
    for position, (role, person, id_number, phone, share) in enumerate(PEOPLE):
        await Party.create(application=application, position=position, role=role, kind="person", name=person,
                           id_type="resident_id", id_number=id_number, phone=phone, share_percent=share)
    for item in materials.required_materials("establish", "llc"):
        if item.get("when") == "has_enterprise_investor" or materials.is_generated(item, application.entity):
            continue
        relative = f"{application.id}/{uuid.uuid4()}.png"
        await storage.put(settings, storage.UPLOADS, relative, _PHOTO)
        await Attachment.create(application=application, kind=item["kind"], filename="photo.png",
                                content_type="image/png", size=len(_PHOTO), sha256=hashlib.sha256(_PHOTO).hexdigest(),
                                storage_path=relative)
    await TimelineEntry.create(application_id=application.id, actor=lifecycle.APPLICANT_ACTOR, action=A.CREATE,
                               comments=[])
    for action, before, after in steps:
        entry = await TimelineEntry.create(application_id=application.id, actor=_ACTORS.get(action, REVIEWER),
                                           action=action, from_status=before, to_status=after,
                                           comments=RETURN_COMMENTS if action == A.RETURN else [])
        # Prepared outside lifecycle.transition, so added to the statistics as transition adds its entries.
        await rollups.record(application.id, entry.id, action, connections.get("default"))
    moment = now()
    updates: dict = {"status": status}
    if steps:
        updates.update(flow="cloud", submitted_at=moment - timedelta(hours=2),
                       first_submitted_at=moment - timedelta(hours=2))
    if status in (S.CLOUD_REVIEW, S.SUBMITTED):
        updates["due_at"] = worktime.add_working_hours(moment, settings.review.cloud_review_working_hours, settings) \
            if status == S.CLOUD_REVIEW else \
            worktime.add_working_days(moment, settings.review.registration_working_days, settings)
    if status in (S.LOCKED_SIGNING, S.SUBMITTED, S.APPROVED):
        snapshot = await canonical_materials(application)
        updates.update(snapshot=snapshot, snapshot_hash=materials_hash(snapshot))
    if status == S.APPROVED:
        updates.update(credit_code=new_credit_code(AUTHORITY), decided_at=moment)
    await Application.filter(id=application.id).update(**updates)
    return application


class _PassedFace:
    """Stands in for WeChat's 人脸核验 getinfo answer: the signatory has just passed, as themself."""

    def __init__(self, request: SigningRequest):
        self._request = request

    async def face_identify(self, verify_result: str) -> dict:
        return {"identify_ret": 0, "identify_time": int(time.time()),
                "id_card_number_md5": face.md5_hex((self._request.id_number or "").upper()),
                "name_utf8_md5": face.md5_hex(self._request.signer_name)}


def _handwriting() -> str:
    image = Image.new("RGBA", (240, 80), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(20, 60), (70, 20), (110, 55), (160, 25), (220, 50)], fill=(0, 0, 0, 255), width=5)
    png = io.BytesIO()
    image.save(png, format="PNG")
    return base64.b64encode(png.getvalue()).decode("ascii")


async def _lock_with_one_signature(settings: Settings, application: Application) -> None:
    """云帮办通过 by the demo reviewer, then the legal representative opens the 申请书, passes face verification
    and signs; the other investor's link stays pending."""
    reviewer = await Staff.get(username=DEMO_ACCOUNTS[0][0]).prefetch_related("authority")
    await decisions.approve_and_lock(reviewer, application.id, _SEED_ORIGIN, settings)
    legal_rep = await Party.get(application_id=application.id, role="legal_rep")
    request = await SigningRequest.get(application_id=application.id, party_id=legal_rep.id,
                                       status="pending").prefetch_related("application")
    for document in await documents_service.current_documents(settings, request.application):
        await documents_service.record_opened(request, document, now())
    cache = make_cache(settings.cache.url)
    try:
        await face.verify_face(request, f"seed-demo:{request.id}", settings, cache, _PassedFace(request))
        await signatures.sign(request, settings, cache, signature_png_base64=_handwriting(), geolocation=None,
                              ip=_SEED_ORIGIN.ip, user_agent=_SEED_ORIGIN.user_agent)
    finally:
        await cache.close()

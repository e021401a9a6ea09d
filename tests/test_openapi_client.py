"""/docs/openapi.json is the contract: a client generated from it by openapi-python-client (pinned, installed in a
scratch venv) walks the applicant's journey — form contract, create, fill, read, submit, timeline — with typed
answers. Skipped only when the generator cannot be installed."""
import asyncio
import json
import subprocess
import sys

import pytest

from tests.helpers import person_form, png_bytes

GENERATOR = "openapi-python-client==0.29.1"

JOURNEY = '''
import json, sys
import httpx
from client import AuthenticatedClient, Client
from client.api.accounts import postaccounts_login
from client.api.applications import getapplications_read, patchapplications_update, postapplications_create
from client.api.forms import getforms_form
from client.api.review_applicant import getreview_applicant_timeline, postreview_applicant_submit
from client.models import (ApplicationOut, FormContract, LoginOut, PatchapplicationsUpdateBody, PostaccountsLoginBody,
                           PostapplicationsCreateBody, PostreviewApplicantSubmitBody, SubmitOut)

base, parties, photo = sys.argv[1], json.loads(sys.argv[2]), open(sys.argv[3], "rb").read()
code = httpx.post(base + "/_mock/wx/code", json={"openid": "openid-generated"}).json()["code"]
anonymous = Client(base_url=base, raise_on_unexpected_status=True)
login = postaccounts_login.sync(client=anonymous, body=PostaccountsLoginBody.from_dict({"code": code}))
assert isinstance(login, LoginOut)
token = login.token
me = AuthenticatedClient(base_url=base, token=token, raise_on_unexpected_status=True)
form = getforms_form.sync(business_type="establish", entity_type="llc", client=anonymous)
assert isinstance(form, FormContract)
answers = {"address": "崇左市江州区新民路1号", "business_scope": "软件开发", "contact_phone": "13800138000",
           "registered_capital": "100"}
entity = {field.key: answers.get(field.key, (field.options or [None])[0]) for field in form.fields if field.required}
created = postapplications_create.sync(client=me, body=PostapplicationsCreateBody.from_dict(
    {"business_type": "establish", "entity_type": "llc", "authority_code": "451402", "name": "崇左云帆科技有限公司"}))
assert isinstance(created, ApplicationOut)
filled = patchapplications_update.sync(created.id, client=me, body=PatchapplicationsUpdateBody.from_dict(
    {"entity": entity, "parties": parties}))
for kind in dict.fromkeys(item.attachment_kind for item in filled.missing if item.attachment_kind):
    # multipart: the generator's upload body is not part of this check.
    httpx.post(f"{base}/api/v1/applications/{created.id}/attachments", data={"kind": kind.value},
               files={"file": ("a.png", photo, "image/png")},
               headers={"Authorization": "Bearer " + token}).raise_for_status()
read = getapplications_read.sync(created.id, client=me)
submitted = postreview_applicant_submit.sync(created.id, client=me, body=PostreviewApplicantSubmitBody.from_dict(
    {"flow": "cloud"}))
assert isinstance(submitted, SubmitOut)
timeline = getreview_applicant_timeline.sync(created.id, client=me)
print(json.dumps({"form_fields": [f.key for f in form.fields], "roles": [r.role.value for r in form.party_roles],
                  "created": created.status.value, "missing_after_fill": [m.to_dict() for m in read.missing],
                  "entity_type": read.entity_type.value, "submitted": submitted.status.value,
                  "timeline": [entry.action.value for entry in timeline]}))
'''


def _run(args, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, timeout=600, **kwargs)


async def test_a_generated_client_walks_the_applicant_journey(client, server, tmp_path):
    venv = tmp_path / "venv"
    installed = await asyncio.to_thread(
        lambda: _run([sys.executable, "-m", "venv", str(venv)]).returncode == 0
        and _run([str(venv / "bin" / "pip"), "install", "-q", GENERATOR]).returncode == 0)
    if not installed:
        pytest.skip(f"{GENERATOR} is not installable here")
    spec = tmp_path / "openapi.json"
    spec.write_text((await client.get("/docs/openapi.json")).text, encoding="utf-8")
    generated = await asyncio.to_thread(_run, [str(venv / "bin" / "openapi-python-client"), "generate", "--path",
                                               str(spec), "--output-path", str(tmp_path / "client"), "--meta", "none"])
    assert (tmp_path / "client" / "client.py").exists(), generated.stdout + generated.stderr
    (tmp_path / "journey.py").write_text(JOURNEY, encoding="utf-8")
    parties = [person_form("legal_rep", "张三"), person_form("liaison", "李四", "45140219850101123"),
               person_form("investor", "王五", "45140219800101123", share_percent="100")]
    (tmp_path / "photo.png").write_bytes(png_bytes())
    walked = await asyncio.to_thread(_run, [str(venv / "bin" / "python"), "journey.py", server.base_url,
                                            json.dumps(parties, ensure_ascii=False), "photo.png"], cwd=tmp_path)
    assert walked.returncode == 0, walked.stderr
    result = json.loads(walked.stdout)
    assert "address" in result["form_fields"] and "registered_capital" in result["form_fields"]
    assert {"investor", "legal_rep", "liaison"} <= set(result["roles"])
    assert result["created"] == "draft" and result["entity_type"] == "llc"
    assert result["missing_after_fill"] == []
    assert result["submitted"] == "cloud_review"
    assert result["timeline"] == ["create", "submit_cloud"]

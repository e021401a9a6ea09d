"""The scripted phone signs from the links it was given, as a signatory's phone would."""
import asyncio

from server.models.signing import Signature
from server.services import signing
from tests.test_signing import _locked
from wxmock.phone import PhoneClient


async def test_scripted_phone_signs_every_link(server, client):
    application, _, links = await _locked(client)

    def journey():
        with PhoneClient(server.base_url, "openid-signer") as phone:
            return [phone.sign_link(item["link"]) for item in links.values()]

    results = await asyncio.to_thread(journey)
    assert sorted(r["evidence"]["seq"] for r in results) == [1, 2, 3]
    assert await Signature.all().count() == 3
    assert await signing.all_required_signed(application) is True


async def test_scripted_phone_face_mismatch_is_refused(server, client):
    _, _, links = await _locked(client)

    def journey():
        with PhoneClient(server.base_url, "openid-signer") as phone:
            view = phone.open_link(links["张三"]["link"])
            assert "*" in view["signer"]["id_number"]
            return phone.pass_face(links["张三"]["link"], outcome="mismatch")

    refused = await asyncio.to_thread(journey)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "face_mismatch"

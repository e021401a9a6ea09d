"""The scripted phone logs in and binds a phone exactly as the mini-program would, over real HTTP."""
import asyncio

from wxmock.phone import PhoneClient


async def test_scripted_phone_logs_in_and_binds_phone(server):
    def journey():
        with PhoneClient(server.base_url, "openid-script") as phone:
            login = phone.login()
            bound = phone.bind_phone("13700001111")
            return login, bound, phone.my_applications()

    login, bound, mine = await asyncio.to_thread(journey)
    assert login["applicant"]["id"] == bound["id"] and bound["phone"] == "13700001111" and mine == []


async def test_scripted_phone_checks_a_name_and_fills_each_business_type(server):
    from server.models.accounts import Applicant
    from tests.helpers import create_approved_account, create_registered, person_form

    changed = await create_registered("崇左海川科技有限公司", authority_code="451402")
    closing = await create_registered("崇左山岚科技有限公司", authority_code="451402")
    simple = await create_registered("崇左林溪科技有限公司", authority_code="451402")
    holder = await Applicant.create(openid="openid-forms")
    for entity in (changed, closing, simple):
        await create_approved_account(holder.id, entity)
    people = [person_form(), person_form("liaison", "李四", "45140219850101123"),
              person_form("investor", "王五", "45140219800101123", share_percent="100")]

    def journey():
        with PhoneClient(server.base_url, "openid-forms") as phone:
            phone.login()
            verdict = phone.check_name("崇左云帆科技有限公司")
            reservation = phone.reserve_name("崇左云帆科技有限公司")
            establish = phone.fill_application(
                "establish", name="崇左云帆科技有限公司", parties=people,
                entity={"address": "崇左市江州区新民路1号", "business_scope": "软件开发", "contact_phone": "13800138000",
                        "operating_term": "长期", "registered_capital": "100"})
            change = phone.fill_application("change", credit_code=changed.credit_code, parties=people[:1] + people[2:],
                                            entity={"changes": [{"item": "address", "after": "崇左市友谊大道8号"}],
                                                    "contact_phone": "13800138000"})
            deregister = phone.fill_application("deregister", credit_code=closing.credit_code, upload_missing=False)
            simple_app = phone.fill_application("simple_deregister", credit_code=simple.credit_code, upload_missing=False)
            photo = phone.upload_photo(simple_app["id"], "all_investors_commitment")
            return verdict, reservation, establish, change, deregister, simple_app, photo, phone.flow_options(establish["id"])

    verdict, reservation, establish, change, deregister, simple_app, photo, options = await asyncio.to_thread(journey)
    assert verdict["available"] and reservation["name"] == "崇左云帆科技有限公司"
    assert establish["missing"] == [] and options["cloud"]["available"]
    assert change["missing"] == [] and change["entity"]["changes"][0]["item"] == "address"
    assert deregister["business_type"] == "deregister" and deregister["name"] == "崇左山岚科技有限公司"
    assert simple_app["business_type"] == "simple_deregister"
    assert photo["content_type"] == "image/jpeg" and len(photo["sha256"]) == 64

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

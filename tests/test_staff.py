"""Staff accounts: argon2 passwords, login, lockout after repeated failures."""
from server.models.accounts import Staff
from tests.helpers import STAFF_PASSWORD, create_staff


async def test_staff_login_gives_token_and_console_cookie(client):
    login = await create_staff(client, "li.reviewer", "reviewer", "451402")
    assert login["staff"]["authority"] == {"code": "451402", "name": "江州区"}
    me = await client.get("/api/v1/staff/me", headers=login["headers"])
    assert me.status_code == 200 and me.json()["role"] == "reviewer"
    assert "yct_staff" in client.cookies


async def test_password_is_stored_as_argon2(client):
    await create_staff(client, "wang", "admin")
    stored = await Staff.get(username="wang")
    assert stored.password_hash.startswith("$argon2") and STAFF_PASSWORD not in stored.password_hash


async def test_wrong_password_and_unknown_user_are_the_same_401(client):
    await create_staff(client, "zhao")
    wrong = await client.post("/api/v1/staff/login", json={"username": "zhao", "password": "nope-nope"})
    unknown = await client.post("/api/v1/staff/login", json={"username": "nobody", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]


async def test_account_locks_after_repeated_failures(client, server):
    await create_staff(client, "qian")
    for _ in range(server.settings.auth.staff_max_failed_logins):
        await client.post("/api/v1/staff/login", json={"username": "qian", "password": "wrong-password"})
    locked = await client.post("/api/v1/staff/login", json={"username": "qian", "password": STAFF_PASSWORD})
    assert locked.status_code == 403


async def test_applicant_token_is_not_a_staff_token(client):
    from tests.helpers import login_applicant

    applicant = await login_applicant(client)
    assert (await client.get("/api/v1/staff/me", headers=applicant["headers"])).status_code == 401

"""Staff accounts: argon2 passwords, login, lockout after repeated failures."""
import asyncio

from server.models.accounts import Staff
from server.models.review import AuditEntry
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


async def _login(client, username: str, password: str):
    return await client.post("/api/v1/staff/login", json={"username": username, "password": password})


async def test_unknown_user_wrong_password_and_locked_account_get_the_same_answer(client, server):
    await create_staff(client, "zhao")
    await create_staff(client, "sun")
    for _ in range(server.settings.auth.staff_max_failed_logins):
        await _login(client, "sun", "wrong-password")
    answers = [await _login(client, "zhao", "nope-nope"), await _login(client, "nobody", "nope-nope"),
               await _login(client, "sun", "nope-nope"), await _login(client, "sun", STAFF_PASSWORD)]
    assert {answer.status_code for answer in answers} == {401}
    assert len({answer.content for answer in answers}) == 1
    assert answers[0].json()["error"]["code"] == "unauthorized"


async def test_account_locks_after_repeated_failures_and_the_lock_is_audited(client, server):
    await create_staff(client, "qian")
    for _ in range(server.settings.auth.staff_max_failed_logins):
        await _login(client, "qian", "wrong-password")
    assert (await _login(client, "qian", STAFF_PASSWORD)).status_code == 401
    staff = await Staff.get(username="qian")
    assert staff.locked_until is not None
    assert await AuditEntry.filter(action="staff_locked", staff_id=staff.id).count() == 1


async def test_concurrent_wrong_passwords_all_count(client, server):
    """The probe: 12 wrong passwords at once used to leave failed_logins=2 and the account open."""
    await create_staff(client, "race")
    answers = await asyncio.gather(*(_login(client, "race", f"wrong-{n}") for n in range(12)))
    assert {answer.status_code for answer in answers} == {401}
    staff = await Staff.get(username="race")
    assert staff.locked_until is not None or staff.failed_logins == 12
    assert (await _login(client, "race", STAFF_PASSWORD)).status_code == 401


async def test_admin_unlocks_a_locked_account(client, server):
    admin = await create_staff(client, "boss", "admin", "451400")
    await create_staff(client, "zhou", "reviewer", "451402")
    for _ in range(server.settings.auth.staff_max_failed_logins):
        await _login(client, "zhou", "wrong-password")
    zhou = await Staff.get(username="zhou")
    other = await create_staff(client, "far", "admin", "450100")
    assert (await client.post(f"/api/v1/admin/staff/{zhou.id}/unlock", headers=other["headers"])).status_code == 404
    reviewer = await create_staff(client, "rev", "reviewer", "451400")
    assert (await client.post(f"/api/v1/admin/staff/{zhou.id}/unlock",
                              headers=reviewer["headers"])).status_code == 403
    unlocked = await client.post(f"/api/v1/admin/staff/{zhou.id}/unlock", headers=admin["headers"])
    assert unlocked.status_code == 200 and unlocked.json()["username"] == "zhou"
    assert (await _login(client, "zhou", STAFF_PASSWORD)).status_code == 200
    assert await AuditEntry.filter(action="staff_unlocked", username="boss").count() == 1


async def test_applicant_token_is_not_a_staff_token(client):
    from tests.helpers import login_applicant

    applicant = await login_applicant(client)
    assert (await client.get("/api/v1/staff/me", headers=applicant["headers"])).status_code == 401

"""The client's address behind reverse proxies: believed from X-Forwarded-For only when the connection comes
from a configured trusted proxy. Each case runs a real Sanic server configured as create_app configures ours."""
import httpx
import pytest
from sanic import Sanic, text

from server.api.http import client_ip, configure_proxies
from tests.conftest import held_socket, make_test_settings


@pytest.fixture
async def address_server(tmp_path):
    servers = []

    async def start(**server_settings):
        sock = held_socket()
        port = sock.getsockname()[1]
        settings = make_test_settings(tmp_path, port, server={"host": "127.0.0.1", "port": port, **server_settings})
        app = Sanic(f"yct_address_{len(servers)}_{settings.server.port}")
        app.config.TOUCHUP = False  # the test server in this process has already touched up Sanic's classes
        configure_proxies(app, settings)

        @app.get("/whoami")
        async def whoami(request):
            return text(client_ip(request))

        server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
        await server.startup()
        await server.before_start()
        await server.after_start()
        servers.append(server)
        return f"http://127.0.0.1:{settings.server.port}/whoami"

    yield start
    for server in servers:
        await server.before_stop()
        await server.close()
        await server.after_stop()


async def ask(url: str, forwarded_for: str | None = None) -> str:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    async with httpx.AsyncClient() as http:
        return (await http.get(url, headers=headers)).text


async def test_without_trusted_proxies_a_forwarded_header_is_ignored(address_server):
    url = await address_server()
    assert await ask(url, "203.0.113.7") == "127.0.0.1"


async def test_a_trusted_proxy_names_the_client(address_server):
    url = await address_server(trusted_proxies=["127.0.0.1/32"])
    assert await ask(url, "203.0.113.7") == "203.0.113.7"


async def test_an_address_the_client_put_before_the_proxys_entry_is_not_believed(address_server):
    url = await address_server(trusted_proxies=["127.0.0.0/8"])
    # The client sent "X-Forwarded-For: 198.51.100.1"; our proxy appended the address it saw.
    assert await ask(url, "198.51.100.1, 203.0.113.7") == "203.0.113.7"


async def test_two_trusted_proxies_in_a_row(address_server):
    url = await address_server(trusted_proxies=["127.0.0.1"], proxies_count=2)
    # client → CDN (appends the client) → our proxy (appends the CDN) → us
    assert await ask(url, "198.51.100.1, 203.0.113.7, 10.1.2.3") == "203.0.113.7"


async def test_a_peer_that_is_not_a_trusted_proxy_cannot_name_a_client(address_server):
    url = await address_server(trusted_proxies=["10.0.0.0/8"])
    assert await ask(url, "203.0.113.7") == "127.0.0.1"


async def test_a_trusted_proxy_without_the_header_is_the_client_itself(address_server):
    url = await address_server(trusted_proxies=["127.0.0.1/32"])
    assert await ask(url) == "127.0.0.1"


def test_a_trusted_proxy_entry_must_be_an_address_or_range(tmp_path):
    from server.config import ConfigError

    with pytest.raises(ConfigError, match="trusted_proxies"):
        make_test_settings(tmp_path, server={"trusted_proxies": ["not-an-address"]})


async def test_our_server_without_trusted_proxies_keeps_a_forged_header_out_of_limits_and_the_audit_log(client, server):
    """The suite's server trusts no proxy: whatever X-Forwarded-For a client sends, the audit log records the
    connection's address and the per-address login limit counts the connection."""
    from server.models.accounts import Applicant
    from server.models.review import AuditEntry
    from tests.helpers import create_review_application, create_staff

    reviewer = await create_staff(client, "reviewer-proxy", "reviewer", "451402")
    applicant = await Applicant.create(openid="openid-proxy")
    application = await create_review_application(applicant.id)
    viewed = await client.get(f"/api/v1/review/applications/{application.id}",
                              headers={**reviewer["headers"], "X-Forwarded-For": "203.0.113.7"})
    assert viewed.status_code == 200
    assert await AuditEntry.filter(application_id=application.id).values_list("ip", flat=True) == ["127.0.0.1"]

    limit = server.settings.auth.login_attempts_per_minute
    answers = [(await client.post("/api/v1/mp/login", json={"code": "no-such-code"},
                                  headers={"X-Forwarded-For": f"198.51.100.{n}"})).status_code for n in range(limit + 1)]
    assert 429 not in answers[:limit] and answers[limit] == 429

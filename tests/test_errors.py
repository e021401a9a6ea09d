"""The error contract: bad input of any kind is a 4xx in the JSON error shape naming the problem."""


async def test_malformed_json_is_400(client):
    response = await client.post("/api/v1/mp/login", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed"


async def test_non_object_body_is_400(client):
    assert (await client.post("/api/v1/mp/login", json=["code"])).status_code == 400


async def test_wrong_type_names_the_field(client):
    response = await client.post("/api/v1/mp/login", json={"code": 12})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "code"


async def test_missing_field_names_it(client):
    response = await client.post("/api/v1/mp/login", json={})
    assert response.status_code == 422 and response.json()["error"]["field"] == "code"


async def test_unknown_field_is_refused_by_name(client):
    response = await client.post("/api/v1/mp/login", json={"code": "x", "admin": True})
    assert response.status_code == 422 and response.json()["error"]["field"] == "admin"


async def test_oversized_body_is_413_before_it_is_read(server):
    """A phone announcing a body over the limit is told at once, without uploading it."""
    import asyncio
    import json

    reader, writer = await asyncio.open_connection("127.0.0.1", server.settings.server.port)
    size = server.settings.server.max_body_bytes + 10
    writer.write(f"POST /api/v1/mp/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {size}\r\n\r\n".encode())
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(65536), timeout=10)
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert json.loads(body)["error"]["code"] == "too_large"


async def test_unknown_route_is_json_404(client):
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


async def test_wrong_method_is_405(client):
    assert (await client.delete("/api/v1/mp/login")).status_code == 405


async def test_openapi_documents_every_route(client, server):
    spec = (await client.get("/docs/openapi.json")).json()
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    for route in server.app.router.routes:
        path = "/" + route.path.strip("/")
        if path.startswith(("/docs", "/_mock")) or "static" in route.name:
            continue
        for method in route.methods - {"HEAD", "OPTIONS"}:
            assert any(doc_method == method and _same_path(doc_path, path) for doc_path, doc_method in documented), (path, method)


def _same_path(openapi_path: str, sanic_path: str) -> bool:
    import re

    return re.sub(r"\{[^}]+\}", "<>", openapi_path.rstrip("/")) == re.sub(r"<[^>]+>", "<>", sanic_path.rstrip("/"))


async def test_healthz_answers_without_asking_anything_else(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_database_cache_and_storage(client):
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok", "storage": "ok"}


async def test_with_cache_and_storage_down_healthz_still_answers_and_readyz_names_them(client, server, tmp_path,
                                                                                      paused_outbox):
    """/healthz touches nothing (liveness); /readyz asks each dependency and answers 503 naming what is down."""
    from server.cache import make_cache
    from tests.conftest import held_socket

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    ctx = server.app.ctx
    settings, cache = ctx.settings, ctx.cache
    # A Redis nobody listens on, and file storage in directories that cannot be made (under a plain file).
    nobody_listens = held_socket()  # bound, never listening: a connection is refused
    ctx.cache = make_cache(f"redis://127.0.0.1:{nobody_listens.getsockname()[1]}/0")
    ctx.settings = settings.model_copy(update={
        "storage": settings.storage.model_copy(update={"url": ""}),
        "uploads": settings.uploads.model_copy(update={"dir": str(blocker / "uploads")})})
    try:
        alive = await client.get("/healthz")
        ready = await client.get("/readyz")
    finally:
        await ctx.cache.close()
        nobody_listens.close()
        ctx.settings, ctx.cache = settings, cache
    assert alive.status_code == 200 and alive.json() == {"status": "ok"}
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "degraded" and body["database"] == "ok"
    assert body["cache"].startswith("down") and body["storage"].startswith("down")
    assert (await client.get("/readyz")).status_code == 200


def _metric(text: str, name: str, **labels) -> float:
    """The sum of a metric's samples whose labels include `labels`, from the Prometheus text exposition."""
    from prometheus_client.parser import text_string_to_metric_families

    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == name and labels.items() <= sample.labels.items())


async def test_metrics_count_requests_per_route_outbox_outcomes_and_login_failures(client, server, paused_outbox):
    from server.services.notifications.messages import enqueue_sms
    from server.services.notifications.outbox import deliver_due

    before = (await client.get("/metrics")).text
    assert (await client.get("/healthz")).status_code == 200
    refused = await client.post("/api/v1/staff/login", json={"username": "nobody", "password": "wrong-password"})
    assert refused.status_code == 401
    await enqueue_sms("13912345678", "application_result",
                      {"name": "云帆（崇左）科技有限公司", "business": "设立登记", "result": "已核准"})
    await enqueue_sms("13912345679", "sms_code", {"code": "246810", "minutes": "5"})
    response = await client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    waiting = response.text
    # Latency per route is a histogram: every bucket up to +Inf counted the one /healthz request.
    route = {"method": "GET", "route": "/healthz", "status": "200"}
    assert _metric(waiting, "yct_http_request_duration_seconds_count", **route) == \
        _metric(before, "yct_http_request_duration_seconds_count", **route) + 1
    assert _metric(waiting, "yct_http_request_duration_seconds_bucket", le="+Inf", **route) == \
        _metric(before, "yct_http_request_duration_seconds_bucket", le="+Inf", **route) + 1
    assert _metric(waiting, "yct_http_request_duration_seconds_sum", **route) > 0
    failures = {"route": "/api/v1/staff/login", "status": "401"}
    assert _metric(waiting, "yct_login_failures_total", **failures) == \
        _metric(before, "yct_login_failures_total", **failures) + 1
    # Outbox depth per channel, message class and status, counted at the scrape.
    for message_class in ("transactional", "code"):
        assert _metric(waiting, "yct_outbox_messages", channel="sms", status="pending", **{"class": message_class}) == 1

    await deliver_due(server.app.ctx)
    after = (await client.get("/metrics")).text
    for message_class in ("transactional", "code"):
        sent = {"channel": "sms", "provider": "dev_sink", "outcome": "sent", "class": message_class}
        assert _metric(after, "yct_outbox_outcomes_total", **sent) == \
            _metric(before, "yct_outbox_outcomes_total", **sent) + 1
        assert _metric(after, "yct_outbox_messages", channel="sms", status="sent", **{"class": message_class}) == 1
        assert _metric(after, "yct_outbox_messages", channel="sms", status="pending", **{"class": message_class}) == 0

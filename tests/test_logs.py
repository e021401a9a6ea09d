"""Request ids (X-Request-ID in and out) and JSON log lines that carry them."""
import io
import json
import logging

from server import logs


async def test_a_plain_request_id_is_kept_and_answered(client):
    response = await client.get("/healthz", headers={"X-Request-ID": "nginx-7f3a9c21e4b5"})
    assert response.headers["x-request-id"] == "nginx-7f3a9c21e4b5"


async def test_a_missing_or_unsafe_request_id_is_replaced_by_a_fresh_one(client):
    fresh = (await client.get("/healthz")).headers["x-request-id"]
    again = (await client.get("/healthz")).headers["x-request-id"]
    assert len(fresh) == 32 and int(fresh, 16) >= 0 and fresh != again
    for unsafe in ("a b c d e f g h", "x" * 65, 'abc"def}{ghij', "short"):
        answered = (await client.get("/healthz", headers={"X-Request-ID": unsafe})).headers["x-request-id"]
        assert answered != unsafe and len(answered) == 32
    failed = await client.get("/api/v1/applications", headers={"X-Request-ID": "req-000000001"})
    assert failed.status_code == 401 and failed.headers["x-request-id"] == "req-000000001"


def test_log_lines_are_json_objects_with_the_request_id():
    out = io.StringIO()
    logger = logging.getLogger("yct.test-logs")
    logger.addHandler(logs.handler(out))
    try:
        logger.warning("outbox message %s held", "m-1")
    finally:
        logger.handlers.clear()
    line = json.loads(out.getvalue().splitlines()[-1])
    assert line["level"] == "WARNING" and line["logger"] == "yct.test-logs"
    assert line["message"] == "outbox message m-1 held" and "request_id" in line and line["time"]

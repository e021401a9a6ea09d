"""Prometheus metrics at GET /metrics (prometheus-client): request latency per route, outbox depth and outcomes per
provider and message class, login failures.

With several worker processes on a machine set PROMETHEUS_MULTIPROC_DIR to an empty directory shared by them
(web workers and `python -m server worker` alike) and /metrics adds up every process's figures; an outbox worker
on a machine without a web server exposes its own with `python -m server worker --metrics-port N`.
"""
from __future__ import annotations

import os
import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess
from sanic import Blueprint, Request
from sanic.response import raw
from sanic_ext import openapi
from tortoise.functions import Count

REQUEST_SECONDS = Histogram(
    "yct_http_request_duration_seconds", "Time from the request's arrival to its response, per route",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
LOGIN_FAILURES = Counter("yct_login_failures_total", "Refused logins, per login route and answer",
                         ["route", "status"])
OUTBOX_OUTCOMES = Counter("yct_outbox_outcomes_total",
                          "Outbox deliveries by channel, provider, message class and outcome",
                          ["channel", "provider", "class", "outcome"])
OUTBOX_DEPTH = Gauge("yct_outbox_messages", "Outbox messages per channel, message class and status, as of the scrape",
                     ["channel", "class", "status"], multiprocess_mode="mostrecent")

LOGIN_ROUTES = {"/api/v1/mp/login", "/api/v1/staff/login", "/console/login"}

metrics = Blueprint("metrics")


def record_outcome(channel: str, provider: str, message_class: str, outcome: str) -> None:
    OUTBOX_OUTCOMES.labels(channel, provider, message_class, outcome).inc()


# (method, route, status) -> the histogram's child: `labels()` takes a lock and builds its key on every call.
_children: dict[tuple, Histogram] = {}


def request_arrived(request: Request) -> None:
    request.ctx.started = time.perf_counter()


def request_answered(request: Request, response) -> None:
    """Times the request: on the hot path two clock reads, one dict lookup and one histogram observation."""
    started = getattr(request.ctx, "started", None)
    if started is None:
        return
    route = request.uri_template or "unmatched"
    key = (request.method, route, response.status)
    child = _children.get(key)
    if child is None:
        child = _children[key] = REQUEST_SECONDS.labels(*key)
    child.observe(time.perf_counter() - started)
    if response.status >= 400 and route in LOGIN_ROUTES and request.method == "POST":
        LOGIN_FAILURES.labels(route, response.status).inc()


async def _measure_outbox_depth() -> None:
    from server.models.notifications import OutboxMessage

    rows = await (OutboxMessage.annotate(n=Count("id")).group_by("channel", "kind", "status")
                  .values_list("channel", "kind", "status", "n"))
    OUTBOX_DEPTH.clear()
    for channel, message_class, status, count in rows:
        OUTBOX_DEPTH.labels(channel, message_class, status).set(count)


def exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest()


@metrics.get("/metrics")
@openapi.summary("Prometheus metrics (text exposition format)")
async def metrics_endpoint(request: Request):
    await _measure_outbox_depth()
    return raw(exposition(), content_type=CONTENT_TYPE_LATEST)

"""Schemathesis against our own OpenAPI (/docs/openapi.json) on the running test server, as an applicant and as an
administrator: no answer is a 5xx and no request the document calls invalid is accepted.

Checks used: not_a_server_error and negative_data_rejection. Left out: positive_data_acceptance (our documents do
not spell out every rule a handler enforces — a valid-looking authority code that does not exist is a 422, not a
200), status_code_conformance and response_schema_conformance (most routes document only some answers, and the
response models are issue 19's), ignored_auth and use_after_free (sessions and deletions are tested directly).
Logout routes are left out so the tokens survive; /_mock and /dev are development stand-ins, not our API. The
examples are few per operation (derandomized, so a run is repeatable) to keep the test near a minute in CI.
"""
from __future__ import annotations

import asyncio

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import negative_data_rejection

from tests.helpers import create_staff, login_applicant

EXAMPLES_PER_MODE = 2
SKIPPED_PREFIXES = ("/_mock", "/dev/", "/docs", "/metrics")


def _fuzz(base_url: str, spec: dict, identities: dict[str, dict]) -> list[str]:
    schema = schemathesis.openapi.from_dict(spec)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.endswith("/logout") or operation.path.startswith(SKIPPED_PREFIXES):
            continue
        for who, headers in identities.items():
            for mode in schemathesis.GenerationMode:

                @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
                @hypothesis.settings(max_examples=EXAMPLES_PER_MODE, deadline=None, database=None, derandomize=True,
                                     phases=[Phase.generate], suppress_health_check=list(HealthCheck))
                def run(case):
                    response = case.call(base_url=base_url, headers=headers, timeout=30)
                    case.validate_response(response, checks=[not_a_server_error, negative_data_rejection])

                try:
                    run()
                except Unsatisfiable:
                    continue  # nothing the document calls invalid can be sent here (no parameters, free text only)
                except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 — all collected, reported together
                    failures.append(f"{operation.method.upper()} {operation.path} as {who} ({mode.value}): "
                                    f"{str(exc)[:600]}")
    return failures


async def test_fuzz_finds_no_server_error_and_no_accepted_invalid_request(client, server):
    applicant = await login_applicant(client)
    admin = await create_staff(client, "fuzz-admin", "admin", "451400")
    client.cookies.clear()
    spec = (await client.get("/docs/openapi.json")).json()
    identities = {"applicant": applicant["headers"], "admin": admin["headers"]}
    failures = await asyncio.to_thread(_fuzz, server.base_url, spec, identities)
    assert not failures, "\n\n".join(failures)


async def test_request_bodies_do_not_show_model_config(client):
    spec = (await client.get("/docs/openapi.json")).json()
    body = spec["paths"]["/api/v1/staff/login"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["properties"]) == {"username", "password"} and body["additionalProperties"] is False
    assert "model_config" not in str(spec)

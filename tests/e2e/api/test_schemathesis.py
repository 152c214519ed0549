"""Property-based run over the OpenAPI document: no 5xx, every answer matches its schema."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.api.conftest import new_job

EXAMPLES = 25  # per operation and mode: bounded, so the whole run stays well under a minute
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_every_operation_conforms(api_url: str, http: httpx.Client) -> None:
    job = new_job(http)
    execution = http.post(f"/api/v1/jobs/{job['id']}/execute").json()
    known = {"job_id": job["id"], "execution_id": execution["id"]}
    # Long-lived streams are tested in test_live.py; a generator would wait on them for ever.
    schema = schemathesis.openapi.from_url(f"{api_url}/docs/openapi.json").exclude(
        path_regex=r"/stream$"
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run(operation, mode, api_url, known)


def _run(operation: object, mode: GenerationMode, base_url: str, known: dict[str, str]) -> None:
    strategy = operation.as_strategy(mode)  # type: ignore[attr-defined]
    ids = st.sampled_from([None, known])

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy, path=ids)
    def check(case: object, path: dict[str, str] | None) -> None:
        params = getattr(case, "path_parameters", None)
        if path and params:
            for name in params:
                if name in path:
                    params[name] = path[name]
        case.call_and_validate(base_url=base_url, checks=CHECKS)  # type: ignore[attr-defined]

    try:
        check()
    except Unsatisfiable:
        return  # nothing can be invalid about it (e.g. only a string path parameter)
    except Exception as error:
        label = f"{operation.method.upper()} {operation.path} [{mode}]"  # type: ignore[attr-defined]
        pytest.fail(f"{label}: {error}")

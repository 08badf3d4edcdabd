"""The OpenAPI document, fuzzed: schemathesis sends generated requests (valid and invalid)
to every operation of the running service, which must never answer 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis

# Imported at collection, while no test's server thread is running: schemathesis imports
# this lazily in from_url(), and pytest's assertion rewriting then compiles it beside other
# threads, which CPython 3.11.7 can fail with "AST constructor recursion depth mismatch"
# (its AST recursion counter is process-wide; fixed in 3.12).
import schemathesis.specs.openapi.schemas
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from summarizer.config import load_settings
from summarizer.service.app import create_app
from summarizer.serving.settings import ServiceSettings
from summarizer.store import Store
from summarizer.testing.openai_server import FakeOpenAI, Reply
from tests.slack_fake import LiveServer

KEY = "fuzz-key-0123456789"

# A fixed, valid brief with no quotes: the fuzz is about the HTTP layer, so any text the
# generator invents gets a brief rather than a grounding failure.
FIXED = {
    "title": "Fuzz",
    "summary": "A summary.",
    "key_points": ["One point."],
    "stances": [],
    "open_questions": [],
}


OPERATIONS = [
    "POST /v1/briefs",
    "GET /v1/jobs/{job_id}",
    "GET /v1/briefs/{brief_id}",
    "GET /healthz",
    "GET /metrics",
    "GET /v1/kinds",
    "GET /v1/stories/{story_id}",
    "GET /v1/questions",
]


@pytest.fixture
def api_schema(tmp_path: Path) -> Iterator[Any]:
    with FakeOpenAI(lambda _req: Reply(FIXED)) as fake:
        app = create_app(
            load_settings(base_url=fake.base_url, http_retries=0),
            ServiceSettings(
                api_keys=KEY, rate_limit_per_minute=0, max_documents=5, max_body_bytes=200_000
            ),
            Store(tmp_path / "store.db"),
        )
        with LiveServer(app) as server:
            yield schemathesis.openapi.from_url(f"{server.url}/openapi.json")


# schemathesis' own pytest loader (from_fixture) does not run on pytest 9, so each
# operation's strategy is driven by hypothesis directly: the same generated cases.
@pytest.mark.parametrize(
    ("label", "mode"),
    [(op, GenerationMode.POSITIVE) for op in OPERATIONS]
    # Negative cases need an input to break: the two ops endpoints take none.
    + [(op, GenerationMode.NEGATIVE) for op in OPERATIONS if "/v1/" in op],
)
def test_no_operation_answers_5xx(api_schema: Any, label: str, mode: GenerationMode) -> None:
    assert {op.ok().label for op in api_schema.get_all_operations()} == set(OPERATIONS)
    operation = api_schema.find_operation_by_label(label)
    statuses: list[int] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(headers={"Authorization": f"Bearer {KEY}"}, timeout=30)
        statuses.append(response.status_code)
        case.validate_response(response, checks=[not_a_server_error])

    run()
    assert statuses and max(statuses) < 500

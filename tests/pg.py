"""A real PostgreSQL for the tests: one throwaway database per test, dropped after.

The server is the machine's own (127.0.0.1:5432, trust auth, user postgres) or the one
TEST_POSTGRES_URL names; `scripts/check` installs and starts it when it is missing and can.
When it cannot be had at all, the tests that need it are skipped with the reason, unless
TEST_POSTGRES_REQUIRED=1 (scripts/check sets it once the server is up), when they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from summarizer.plumbing import redact

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRED = os.environ.get("TEST_POSTGRES_REQUIRED") == "1"
_unavailable: list[str] = []  # the reason, once known, so a missing server is probed once


def _admin_connect() -> object:
    import psycopg

    return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)


def _reason_unavailable() -> str | None:
    if not _unavailable:
        try:
            import psycopg

            with _admin_connect():
                pass
            _unavailable.append("")
        except ImportError:
            _unavailable.append("psycopg is not installed (pip install -e '.[dev]')")
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            where = redact.url(ADMIN_URL)
            _unavailable.append(f"no PostgreSQL at {where} ({first}); run scripts/check")
    return _unavailable[0] or None


def url_for(database: str) -> str:
    parts = urlsplit(ADMIN_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


@pytest.fixture
def pg_url() -> Iterator[str]:
    """The URL of a new, empty database on the test server; dropped after the test."""
    reason = _reason_unavailable()
    if reason:
        if REQUIRED:
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"summarizer_test_{uuid.uuid4().hex[:12]}"
    with _admin_connect() as admin:  # type: ignore[attr-defined]
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url_for(name)
    finally:
        with _admin_connect() as admin:  # type: ignore[attr-defined]
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

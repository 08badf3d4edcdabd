"""Opening a store: the backends, imported here so that they register with `Store`.

The interface (store/base.py) never imports a backend; each backend's module registers its
class when imported (`Store.__init_subclass__`), and this module imports every built-in
one. A new backend is one module with a `Store` subclass that says which targets it
`opens`, and one import here. The package imports this module, so `Store(target)` and
`open_store(target)` both find every backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from summarizer.store import postgres as postgres  # registers PostgresStore
from summarizer.store import sqlite as sqlite  # registers SQLiteStore
from summarizer.store.base import Store


def open_store(target: Path | str, **options: Any) -> Store:
    """The store at `target`: a SQLite file for a path, PostgreSQL for a postgresql:// URL.
    Options are the backend's (busy_timeout, pool_max)."""
    return Store(target, **options)

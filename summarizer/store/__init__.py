"""The store: one interface (`Store`), an embedded SQLite backend and a PostgreSQL one, and
`AsyncStore` (store/aio.py) for callers on an event loop."""

from summarizer.store.base import Row, Store, default_store_path, is_database_url, new_id
from summarizer.store.migrations import MIGRATIONS
from summarizer.store.open import open_store

__all__ = [
    "MIGRATIONS",
    "Row",
    "Store",
    "default_store_path",
    "is_database_url",
    "new_id",
    "open_store",
]

"""The store: one interface (`Store`), an embedded SQLite backend and a PostgreSQL one."""

from summarizer.store.base import Row, Store, default_store_path, is_database_url, new_id
from summarizer.store.migrations import MIGRATIONS

__all__ = ["MIGRATIONS", "Row", "Store", "default_store_path", "is_database_url", "new_id"]

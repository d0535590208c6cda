"""The store: tables, transactions and queries, on SQLite or PostgreSQL."""

from callblock.store import queries
from callblock.store.engine import Store, create_store_engine, is_sqlite

__all__ = ["Store", "create_store_engine", "is_sqlite", "queries"]

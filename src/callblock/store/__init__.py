"""The store: tables, transactions and queries by area, on SQLite or PostgreSQL.

``accounts``, ``credentials`` (keys, tokens, failed authentications, secrets), ``groups``,
``entries``, ``audit`` and ``changes`` (the change log) each hold one area's queries; each
query takes an open connection and the use cases own transactions.
"""

from callblock.store.engine import Store, create_store_engine, is_sqlite

__all__ = ["Store", "create_store_engine", "is_sqlite"]

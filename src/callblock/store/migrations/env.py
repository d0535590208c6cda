"""Alembic environment: runs on the connection that callblock hands it."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from callblock.store.tables import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through `callblock db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite alters tables by copying them; batch mode does that for us.
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

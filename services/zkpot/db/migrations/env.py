"""Alembic environment, run only from ``zkpot.db.engine``: it hands over an open connection and the schema.

The connection is already inside a transaction holding the schema's advisory lock, so Alembic neither begins
nor commits; the caller commits. Offline (SQL script) mode is not supported.
"""

from alembic import context
from zkpot.db.tables import METADATA

config = context.config
schema: str = config.attributes["schema"]


def _only_this_schema(name: str | None, type_: str, parent_names: object) -> bool:
    return type_ != "schema" or name == schema


if context.is_offline_mode():
    raise RuntimeError("zkpot migrations run online only, from zkpot.db.engine.migrate")

context.configure(
    connection=config.attributes["connection"],
    target_metadata=METADATA[schema],
    version_table_schema=schema,
    include_schemas=True,
    include_name=_only_this_schema,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

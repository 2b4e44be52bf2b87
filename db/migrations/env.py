from alembic import context

import db.models  # noqa: F401
from db.base import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("migrations run through db.migrations.run with a connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

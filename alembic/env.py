"""Alembic environment: the connection comes from the service (app.migrations) or, when run
as `alembic upgrade head` by hand, from the service settings."""

from sqlalchemy import Connection, create_engine

from alembic import context
from app.access_log import access_log  # noqa: F401
from app.keys import api_keys  # noqa: F401  (registers the table on the metadata)
from app.settings import Settings
from projections.seals import event_seals  # noqa: F401
from projections.tables import metadata

connection = context.config.attributes.get("connection")


def run(conn: Connection) -> None:
    context.configure(connection=conn, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:
    engine = create_engine(Settings().read_model_url())
    with engine.begin() as conn:
        run(conn)

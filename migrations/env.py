"""Alembic environment: migrate the app's database (Flask-Migrate supplies the app)."""

import logging

from alembic import context
from flask import current_app

config = context.config
logger = logging.getLogger("alembic.env")
migrate = current_app.extensions["migrate"]
engine = migrate.db.engine
metadata = migrate.db.metadata
config.set_main_option(
    "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
)


def skip_empty_autogenerate(context, revision, directives):
    """`db migrate` with no schema change writes no empty revision."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def run_migrations_offline() -> None:
    """Write the SQL instead of running it (`db upgrade --sql`)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    args = {"process_revision_directives": skip_empty_autogenerate, **migrate.configure_args}
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, **args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

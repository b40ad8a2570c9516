"""Schema migrations with Alembic: ``ytmaker db upgrade`` and the automatic upgrade in ``make``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from ytmaker.db.session import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(db: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = db.engine
    return config


def upgrade(db: Database, revision: str = "head") -> None:
    """Create or migrate the schema to ``revision``; safe to run any number of times."""
    with db.engine.begin() as connection:
        if not db.is_sqlite:  # two workers starting at once must not both run the DDL
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(74657937)")
        config = alembic_config(db)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

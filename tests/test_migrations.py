"""The schema is created and migrated by Alembic, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect

from ytmaker.db.migrate import upgrade
from ytmaker.db.session import Database


def test_upgrade_creates_every_table_and_is_idempotent(database_url):
    db = Database(database_url)
    upgrade(db)
    upgrade(db)
    tables = set(inspect(db.engine).get_table_names())
    assert {"projects", "scripts", "assets", "videos", "thumbnails", "publications", "stage_runs", "alembic_version"} <= tables
    uniques = {u["name"] for u in inspect(db.engine).get_unique_constraints("assets")}
    assert "uq_asset_segment" in uniques
    db.dispose()

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


def _alembic(db, action, revision):
    from alembic import command

    from ytmaker.db.migrate import alembic_config

    with db.engine.begin() as connection:
        config = alembic_config(db)
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def test_0002_adds_avatar_talks_and_caption_ids_keeping_existing_rows_and_goes_back(database_url):
    from sqlalchemy import text

    db = Database(database_url)
    upgrade(db, "0001")
    with db.engine.begin() as connection:
        connection.execute(text("INSERT INTO projects (id, content, language, voice, prompt_template, llm_model, video_format, "
                                "publish_target, status, created_at, updated_at) VALUES ('p1', 'text', 'en', '', 'default', "
                                "'m', '16:9', 'youtube', 'uploading', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        connection.execute(text("INSERT INTO publications (project_id, target, status, session_uri, created_at) "
                                "VALUES ('p1', 'youtube', 'pending', 'https://upload/s1', CURRENT_TIMESTAMP)"))
    assert "avatar_talks" not in inspect(db.engine).get_table_names()

    upgrade(db)

    assert "avatar_talks" in inspect(db.engine).get_table_names()
    assert {c["name"] for c in inspect(db.engine).get_columns("avatar_talks")} >= {"project_id", "segment_index", "talk_id", "status"}
    assert inspect(db.engine).get_pk_constraint("avatar_talks")["constrained_columns"] == ["project_id", "segment_index"]
    with db.engine.connect() as connection:
        row = connection.execute(text("SELECT session_uri, caption_id FROM publications")).one()
    assert tuple(row) == ("https://upload/s1", None)

    _alembic(db, "downgrade", "0001")
    assert "avatar_talks" not in inspect(db.engine).get_table_names()
    assert "caption_id" not in {c["name"] for c in inspect(db.engine).get_columns("publications")}
    upgrade(db)
    db.dispose()


def test_the_migrations_match_the_models(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from ytmaker.db.models import Base

    db = Database(database_url)
    upgrade(db)
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    db.dispose()
    assert differences == []

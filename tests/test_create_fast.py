"""Creating and starting a project in one go (``create_project(start=True)``, what the API and the CLI use):
the row and its first stage's claim stored together or not at all, one message, progress shown, nothing sent twice."""

from __future__ import annotations

import dramatiq
import pytest
from sqlalchemy import select, text

from tests.helpers import SHORT_TEXT
from ytmaker.db.models import Project, StageRun
from ytmaker.errors import InvalidInput
from ytmaker.pipelines import start_generation
from ytmaker.projects import ProjectOptions, create_project

REFUSE_CLAIMS = {
    "sqlite": ["CREATE TRIGGER refuse_claims BEFORE INSERT ON stage_runs BEGIN SELECT RAISE(ABORT, 'no claims today'); END"],
    "postgresql": ["CREATE FUNCTION refuse_claims() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN RAISE EXCEPTION 'no claims today'; END $$",
                   "CREATE TRIGGER refuse_claims BEFORE INSERT ON stage_runs FOR EACH ROW EXECUTE FUNCTION refuse_claims()"],
}


def _messages(broker, queue: str) -> list[dramatiq.Message]:
    return [dramatiq.Message.decode(raw) for raw in broker.queues[queue].queue]


def _stored(rt) -> tuple[list[str], list[tuple]]:
    with rt.db.session() as session:
        projects = list(session.scalars(select(Project.id)))
        runs = [tuple(r) for r in session.execute(select(StageRun.project_id, StageRun.stage, StageRun.status))]
    return projects, runs


def test_a_started_project_is_stored_with_its_first_stage_claimed_and_sent_once(rt, stub_broker):
    options = ProjectOptions(title="Bees", video_format="9:16", captions="words", caption_style={"font_size": 64})
    project = create_project(rt, SHORT_TEXT, options, start=True)

    with rt.db.session() as session:
        row = session.get(Project, project.id)
        runs = list(session.scalars(select(StageRun).where(StageRun.project_id == project.id)))
    assert (row.status, row.title, row.video_format, row.max_duration_s) == ("queued", "Bees", "9:16", 60)
    assert row.captions == {"font_size": 64, "mode": "words"} and row.content == project.content
    assert row.language == "en" and row.voice == "" and row.created_at is not None and row.error is None
    assert [(r.stage, r.status, r.attempts) for r in runs] == [("script", "queued", 0)]
    assert runs[0].queued_at == row.created_at

    sent = _messages(stub_broker, "scripts")
    assert [(m.actor_name, list(m.args), m.options["ytmaker_generation"]) for m in sent] == [("generate_script", [project.id], "0")]
    progress = rt.progress.get(project.id)
    assert (progress["status"], progress["message"]) == ("queued", "queued")

    start_generation(project.id, rt)  # a second start (a re-drive, a repeated call) claims and sends nothing more
    assert len(_messages(stub_broker, "scripts")) == 1
    assert _stored(rt)[1] == [(project.id, "script", "queued")]


def test_a_project_whose_claim_cannot_be_stored_is_not_stored_and_nothing_is_sent(rt, stub_broker):
    with rt.db.engine.begin() as connection:
        for statement in REFUSE_CLAIMS["sqlite" if rt.db.is_sqlite else "postgresql"]:
            connection.execute(text(statement))
    folders = []

    def media(project_id: str) -> None:
        folders.append(rt.project_dir(project_id) / "media")
        folders[-1].mkdir(parents=True)
        (folders[-1] / "01.png").write_bytes(b"png")

    with pytest.raises(Exception, match="no claims today"):
        create_project(rt, SHORT_TEXT, start=True, before_store=media)
    assert _stored(rt) == ([], [])  # the row went with its claim
    assert _messages(stub_broker, "scripts") == [] and not folders[0].parent.exists()

    unstarted = create_project(rt, SHORT_TEXT)  # without start: no claim to refuse
    assert _stored(rt) == ([unstarted.id], []) and _messages(stub_broker, "scripts") == []


def test_a_failing_before_store_stores_nothing_and_removes_the_folder(rt, stub_broker):
    def media(project_id: str) -> None:
        (rt.project_dir(project_id) / "media").mkdir(parents=True)
        raise InvalidInput("media file 'x.exe' is not an image")

    with pytest.raises(InvalidInput, match=r"x\.exe"):
        create_project(rt, SHORT_TEXT, start=True, before_store=media)
    assert _stored(rt) == ([], []) and _messages(stub_broker, "scripts") == []
    assert not (rt.data_dir / "projects").exists() or list((rt.data_dir / "projects").iterdir()) == []


@pytest.mark.redis
def test_on_redis_the_message_and_the_progress_are_there_once(redis_rt, redis_client):
    rt = redis_rt
    project = create_project(rt, SHORT_TEXT, start=True)
    start_generation(project.id, rt)

    assert redis_client.llen("dramatiq:scripts") == 1
    sent = [dramatiq.Message.decode(raw) for raw in redis_client.hvals("dramatiq:scripts.msgs")]
    assert [(m.actor_name, list(m.args), m.options["ytmaker_generation"]) for m in sent] == [("generate_script", [project.id], "0")]
    assert rt.progress.get(project.id)["status"] == "queued"
    assert _stored(rt) == ([project.id], [(project.id, "script", "queued")])

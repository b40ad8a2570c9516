"""The polled reads (GET /projects/{id}, GET /projects): one SQL statement each, the response models' own JSON, and
"is there any token?" read once a second per process without loosening what a token or its revocation does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, insert, update

from tests.helpers import SHORT_TEXT
from tests.service_support import service_rt  # noqa: F401  (fixture)
from ytmaker.db.models import ApiToken, Publication, Script, StageRun, Thumbnail, Video
from ytmaker.db.session import Database
from ytmaker.graph import STAGES
from ytmaker.projects import create_project
from ytmaker.service import schemas, tokens
from ytmaker.service.app import create_app

API = "/api/v1/projects"


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements ``db`` sends meanwhile, through either of its pools."""
    sent: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        sent.append(statement)

    engines = {db.engine, db._single_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", note)


def _seed(rt) -> str:
    """A project with every kind of output: stage runs stored out of order, a video with one subtitle file beside it,
    a thumbnail whose file is gone, a folder and a YouTube publication, the script's title, live progress."""
    project_id = create_project(rt, SHORT_TEXT).id
    now = datetime.now(UTC)
    folder = rt.project_dir(project_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "video.mp4").write_bytes(b"mp4")
    (folder / "subtitles.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nBees\n")
    with rt.db.session() as session:
        session.query(StageRun).filter_by(project_id=project_id).delete()
        for i, stage in enumerate(reversed(STAGES[:4])):
            session.add(StageRun(project_id=project_id, stage=stage, status="completed", attempts=i,
                                 started_at=now, finished_at=now if i % 2 else None, error="retried" if i == 1 else None))
        session.add(Script(project_id=project_id, title="How bees talk", description="", tags=[], segments=[]))
        session.add(Video(project_id=project_id, path=f"projects/{project_id}/video.mp4", checksum="0", duration_ms=12345))
        session.add(Thumbnail(project_id=project_id, path=f"projects/{project_id}/gone.jpg", checksum="0"))
        session.add(Publication(project_id=project_id, target="folder", status="published", url=str(folder)))
        session.add(Publication(project_id=project_id, target="youtube", status="published", url="https://youtu.be/b"))
    rt.progress.update(project_id, status="assets_generating", stage=STAGES[1], stage_progress=0.5, message="halfway")
    return project_id


def test_a_project_is_read_in_one_statement_and_sent_as_its_response_model_writes_it(redis_rt):
    project_id = _seed(redis_rt)
    with TestClient(create_app(redis_rt, worker=False)) as client:
        client.get(API)  # whether any token exists is known from here on
        with statements(redis_rt.db) as sent:
            read = client.get(f"{API}/{project_id}")
    assert read.status_code == 200 and read.headers["content-type"] == "application/json"
    assert len(sent) == 1, sent  # project, script title, outputs, stage runs, publications: one round trip
    assert schemas.ProjectOut.model_validate_json(read.content).model_dump_json().encode() == read.content
    body = read.json()
    assert body["title"] == "How bees talk" and body["progress"]["message"] == "halfway"
    assert [(s["stage"], s["attempts"], s["error"]) for s in body["stages"]] == [
        (STAGES[0], 3, None), (STAGES[1], 2, None), (STAGES[2], 1, "retried"), (STAGES[3], 0, None)]
    links, outputs = body["links"], body["outputs"]
    assert (outputs["video"], outputs["duration_s"], outputs["thumbnail"]) == (links["video"], 12.345, None)
    assert (outputs["subtitles_srt"], outputs["subtitles_vtt"]) == (links["subtitles_srt"], None)
    assert outputs["publications"] == [{"target": "folder", "status": "published", "url": None},  # a path here: not sent
                                       {"target": "youtube", "status": "published", "url": "https://youtu.be/b"}]
    assert client.get(f"{API}/{project_id[:-1]}x").status_code == 404


def test_the_list_is_read_in_one_statement_with_each_projects_progress(redis_rt):
    ids = [_seed(redis_rt) for _ in range(3)]
    redis_rt.progress.update(ids[0], message="first")
    with TestClient(create_app(redis_rt, worker=False)) as client:
        client.get(API)
        with statements(redis_rt.db) as sent:
            listed = client.get(API, params={"limit": 2})
        assert len(sent) == 1, sent  # the projects and their scripts' titles
        assert schemas.ProjectPage.model_validate_json(listed.content).model_dump_json().encode() == listed.content
        page = listed.json()
        assert [p["id"] for p in page["items"]] == ids[:0:-1] and page["next_cursor"]
        last = client.get(API, params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [p["id"] for p in last["items"]] == ids[:1] and last["next_cursor"] is None
    assert last["items"][0]["progress"] == redis_rt.progress.get(ids[0]) and last["items"][0]["progress"]["message"] == "first"
    assert all(p["title"] == "How bees talk" for p in page["items"])


def test_whether_tokens_exist_is_read_once_per_freshness_and_at_once_after_this_process_changes_them(service_rt,  # noqa: F811
                                                                                                       monkeypatch):
    monkeypatch.setattr(tokens, "TOKENS_FRESH_S", 3600.0)
    with TestClient(create_app(service_rt, worker=False)) as client:
        assert client.get(API).status_code == 200  # no token yet: open (on loopback)
        with statements(service_rt.db) as sent:
            assert client.get(API).status_code == 200
        assert not [s for s in sent if "api_tokens" in s]
        with service_rt.db.session() as session:  # a token made by another process, behind this one's back
            session.execute(insert(ApiToken).values(name="elsewhere", token_hash=tokens.token_hash("ytm_x"), admin=False))
        assert client.get(API).status_code == 200  # this process's answer is still fresh
        monkeypatch.setattr(tokens, "TOKENS_FRESH_S", 0.0)
        assert client.get(API).status_code == 401  # once stale, read again
        monkeypatch.setattr(tokens, "TOKENS_FRESH_S", 3600.0)
        assert tokens.revoke_token(Database(service_rt.settings.database_url), "elsewhere")  # as the CLI would, here
        assert client.get(API).status_code == 200  # at once: this process revoked it
        token = tokens.create_token(Database(service_rt.settings.database_url), "alice")
        assert client.get(API).status_code == 401  # at once: this process made it
        assert client.get(API, headers={"Authorization": f"Bearer {token}"}).status_code == 200


@pytest.mark.parametrize("path", [API, f"{API}/00000000-0000-4000-8000-000000000000"])
def test_a_token_is_checked_on_every_read_and_its_revocation_anywhere_counts_at_once(service_rt, path):  # noqa: F811
    token = tokens.create_token(service_rt.db, "alice")
    bearer = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(service_rt, worker=False)) as client:
        assert client.get(path, headers=bearer).status_code in (200, 404)
        assert client.get(path).status_code == 401 and client.get(path, headers={"Authorization": "Basic x"}).status_code == 401
        assert client.get(path, params={"limit": 0}).status_code == 401  # refused before any reason about the query
        with service_rt.db.session() as session:  # revoked by another process: nothing here is told
            session.execute(update(ApiToken).where(ApiToken.name == "alice").values(revoked_at=datetime.now(UTC)))
        refused = client.get(path, headers=bearer)
        assert refused.status_code == 401 and "revoked" in refused.json()["detail"]

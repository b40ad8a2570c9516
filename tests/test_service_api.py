"""The JSON API on an embedded runtime: create (JSON, file upload), read, list, cancel, retry, delete, files, health."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from tests.conftest import fast_settings
from tests.helpers import SHORT_TEXT, wait_until
from tests.service_support import service_rt  # noqa: F401  (fixture)
from ytmaker.runtime import build_runtime
from ytmaker.service.app import WARM_CONNECTIONS, create_app

API = "/api/v1/projects"


@pytest.fixture
def client(service_rt):  # noqa: F811
    with TestClient(create_app(service_rt)) as c:
        yield c


@pytest.fixture
def idle(service_rt):  # noqa: F811
    """A client of an app without a worker: projects stay where the test leaves them."""
    with TestClient(create_app(service_rt, worker=False)) as c:
        yield c


def _finished(client, project_id):
    body = client.get(f"{API}/{project_id}").json()
    return body if body["status"] in ("completed", "failed", "cancelled") else None


def test_a_project_created_with_json_is_made_and_its_files_served_with_range(client, service_rt):  # noqa: F811
    created = client.post(API, json={"text": SHORT_TEXT, "title": "Bees", "format": "9:16", "max_duration": 0})
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == body["links"]["self"] == f"{API}/{body['id']}"
    assert body["status"] == "queued" and body["links"]["events"].endswith("/events")

    done = wait_until(lambda: _finished(client, body["id"]), 60, "the project to finish")
    assert done["status"] == "completed", done["error"]
    assert done["title"] == "Bees" and done["format"] == "9:16" and done["progress"]["progress"] == "100"
    assert [s["stage"] for s in done["stages"]][:1] == ["script"] and all(s["attempts"] >= 1 for s in done["stages"])
    assert done["outputs"]["video"] == body["links"]["video"] and done["outputs"]["duration_s"] > 0

    whole = client.get(body["links"]["video"])
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
    part = client.get(body["links"]["video"], headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == whole.content[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(whole.content)}"
    thumbnail = client.get(body["links"]["thumbnail"])
    assert thumbnail.status_code == 200 and thumbnail.content[:2] == b"\xff\xd8"
    for kind in ("srt", "vtt"):  # the instant renderer writes no subtitles: said so, not a 500
        subtitles = client.get(body["links"][f"subtitles_{kind}"])
        assert subtitles.status_code == (200 if done["outputs"][f"subtitles_{kind}"] else 404)


def test_a_file_upload_is_checked_as_the_cli_checks_a_file(idle, service_rt):  # noqa: F811
    made = idle.post(API, files={"file": ("bees.txt", SHORT_TEXT.encode(), "text/plain")}, data={"language": "en"})
    assert made.status_code == 201, made.text
    assert idle.get(made.json()["links"]["self"]).json()["language"] == "en"

    binary = idle.post(API, files={"file": ("x.bin", b"\x00\x01binary", "application/octet-stream")})
    assert binary.status_code == 422 and "binary" in binary.json()["detail"]
    service_rt.settings.max_text_bytes = 100
    large = idle.post(API, files={"file": ("big.txt", SHORT_TEXT.encode(), "text/plain")})
    assert large.status_code == 413 and "YTMAKER_MAX_TEXT_BYTES" in large.json()["detail"]
    unknown = idle.post(API, files={"file": ("b.txt", b"Bees.", "text/plain")}, data={"colour": "red"})
    assert unknown.status_code == 422 and "colour" in unknown.json()["detail"]
    assert len(idle.get(API).json()["items"]) == 1


def test_a_created_project_is_claimed_sent_once_and_shows_its_progress(idle, service_rt):  # noqa: F811
    import dramatiq

    created = idle.post(API, json={"text": SHORT_TEXT, "title": "Bees"})
    assert created.status_code == 201, created.text
    project_id = created.json()["id"]
    detail = idle.get(f"{API}/{project_id}").json()
    assert (detail["status"], detail["title"]) == ("queued", "Bees")
    assert [(s["stage"], s["status"], s["attempts"]) for s in detail["stages"]] == [("script", "queued", 0)]
    assert (detail["progress"]["status"], detail["progress"]["message"]) == ("queued", "queued")
    sent = [dramatiq.Message.decode(raw) for raw in service_rt.broker.queues["scripts"].queue]
    assert [(m.actor_name, list(m.args)) for m in sent] == [("generate_script", [project_id])]


def test_a_caller_without_a_token_is_refused_before_any_reason_about_the_body(idle, service_rt):  # noqa: F811
    from ytmaker.service.tokens import create_token

    token = create_token(service_rt.db, "alice")
    for body in [dict(content=b"{not json", headers={"content-type": "application/json"}),
                 dict(content=b"bees", headers={"content-type": "text/plain"}),
                 dict(files={"file": ("x.bin", b"\x00binary", "application/octet-stream")})]:
        assert idle.post(API, **body).status_code == 401
    bearer = {"authorization": f"Bearer {token}"}
    assert idle.post(API, content=b"{not json", headers={"content-type": "application/json", **bearer}).status_code == 422
    assert idle.post(API, content=b"bees", headers={"content-type": "text/plain", **bearer}).status_code == 415
    assert idle.post(API, json={"text": SHORT_TEXT}, headers=bearer).status_code == 201


def test_bad_options_get_the_projects_own_reasons(idle):
    wrong_format = idle.post(API, json={"text": SHORT_TEXT, "format": "4:3"})
    assert wrong_format.status_code == 422 and "format '4:3' is not one of" in wrong_format.json()["detail"]
    empty = idle.post(API, json={"text": "   "})
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]
    past = idle.post(API, json={"text": SHORT_TEXT, "publish": "youtube", "publish_at": "2020-01-01T10:00:00Z"})
    assert past.status_code == 422 and "in the past" in past.json()["detail"]
    assert idle.get(API).json()["items"] == []
    scheduled = idle.post(API, json={"text": SHORT_TEXT, "publish": "youtube", "publish_at": "+1d"})
    assert scheduled.status_code == 201  # kept with the project for its upload


def test_the_list_filters_by_status_and_pages_with_a_cursor(idle):
    ids = [idle.post(API, json={"text": SHORT_TEXT}).json()["id"] for _ in range(5)]
    for project_id in ids[:2]:
        assert idle.post(f"{API}/{project_id}/cancel").json()["status"] == "cancelled"

    seen, cursor = [], None
    while True:
        page = idle.get(API, params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))  # newest first, each once
    cancelled = idle.get(API, params={"status": "cancelled"}).json()["items"]
    assert {p["id"] for p in cancelled} == set(ids[:2])
    assert idle.get(API, params={"status": "sleeping"}).status_code == 422
    assert idle.get(API, params={"cursor": "bm90IGEgY3Vyc29y"}).status_code == 422


def test_cancel_retry_and_delete(idle, service_rt):  # noqa: F811
    project_id = idle.post(API, json={"text": SHORT_TEXT}).json()["id"]
    assert idle.delete(f"{API}/{project_id}").status_code == 409  # still live
    assert idle.post(f"{API}/{project_id}/retry").status_code == 409
    assert idle.post(f"{API}/{project_id}/cancel").json()["status"] == "cancelled"
    retried = idle.post(f"{API}/{project_id}/retry").json()
    assert retried["status"] not in ("cancelled", "failed") and "error" not in retried["progress"]
    idle.post(f"{API}/{project_id}/cancel")
    folder = service_rt.project_dir(project_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "video.mp4").write_bytes(b"x")

    assert idle.delete(f"{API}/{project_id}").status_code == 204
    assert idle.get(f"{API}/{project_id}").status_code == 404 and not folder.exists()
    assert idle.delete(f"{API}/{project_id}").status_code == 404


def test_health_readiness_metrics_and_security_headers(idle):
    assert idle.get("/healthz").json() == {"status": "ok"}
    ready = idle.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"
    metrics = idle.get("/metrics")
    assert metrics.status_code == 200 and "ytmaker_api_stream_listeners" in metrics.text
    headers = idle.get(f"{API}/{uuid.uuid4()}").headers
    assert "default-src 'self'" in headers["content-security-policy"] and "unsafe-inline" not in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"
    preflight = idle.options(API, headers={"Origin": "https://cms.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers  # CORS is off by default


def test_cors_answers_only_the_configured_origins(service_rt):  # noqa: F811
    service_rt.settings.cors_origins = "https://cms.example"
    with TestClient(create_app(service_rt, worker=False)) as client:
        asked = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
        allowed = client.options(API, headers={"Origin": "https://cms.example", **asked})
        assert allowed.headers["access-control-allow-origin"] == "https://cms.example"
        refused = client.options(API, headers={"Origin": "https://evil.example", **asked})
        assert "access-control-allow-origin" not in refused.headers


def test_readiness_names_what_is_down(tmp_path, stub_broker):
    settings = fast_settings(tmp_path, database_url="postgresql://postgres@127.0.0.1:9/none", redis_url="redis://127.0.0.1:9/0")
    runtime = build_runtime(settings, broker=stub_broker)
    try:
        with TestClient(create_app(runtime, worker=False)) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["database"].startswith("down") and ready.json()["redis"].startswith("down: ConnectionError")
            assert client.get("/healthz").status_code == 200  # the process itself is up
    finally:
        runtime.close()


def test_the_openapi_schema_documents_the_shapes_the_page_reads(idle):
    schema = idle.get("/openapi.json").json()
    assert {"/api/v1/projects", "/api/v1/projects/{project_id}", "/api/v1/projects/{project_id}/events",
            "/api/v1/events", "/api/v1/session", "/healthz", "/readyz"} <= set(schema["paths"])
    assert {"ProjectOut", "ProjectPage", "Created"} <= set(schema["components"]["schemas"])
    create = schema["paths"]["/api/v1/projects"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(create)
    body = create["application/json"]["schema"]
    assert {"text", "title", "format", "publish_at"} <= set(body["properties"]) and body["additionalProperties"] is False
    assert idle.get("/docs").status_code == 200


@pytest.mark.redis
@pytest.mark.xdist_group("redis_scripts")  # Redis keeps scripts server-wide: see tests/test_wakeup.py
def test_the_server_warms_its_pools_and_the_enqueue_script_before_taking_requests(redis_rt, redis_client):
    # A burst reaching a cold server waited for PostgreSQL backends to start and for NOSCRIPT (bench/live).
    redis_client.script_flush()
    sha = redis_rt.broker.scripts["dispatch"].sha
    assert redis_client.script_exists(sha) == [False]
    redis_rt.db.dispose()  # the migration's connections closed: the pools start empty
    pools = [redis_rt.db.engine.pool, redis_rt.db._single_engine.pool]
    assert [pool.checkedin() for pool in pools] == [0, 0]
    with TestClient(create_app(redis_rt, worker=False)) as client:
        assert redis_client.script_exists(sha) == [True]
        if not redis_rt.db.is_sqlite:
            assert [pool.checkedin() for pool in pools] == [WARM_CONNECTIONS, WARM_CONNECTIONS]
        assert client.get("/readyz").status_code == 200

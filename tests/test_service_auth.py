"""Tokens: made and revoked by the CLI, hashes only; bearer or cookie; a token's own projects; loopback without tokens."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from tests.helpers import SHORT_TEXT
from tests.service_support import service_rt  # noqa: F401  (fixture)
from ytmaker.cli import app as cli
from ytmaker.errors import InvalidInput
from ytmaker.runtime import set_runtime
from ytmaker.service.app import create_app
from ytmaker.service.server import check_host, is_loopback
from ytmaker.service.tokens import create_token

API = "/api/v1/projects"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(service_rt):  # noqa: F811
    with TestClient(create_app(service_rt, worker=False)) as c:
        yield c


def test_the_cli_prints_a_token_once_keeps_its_hash_only_and_revokes_it(service_rt, client):  # noqa: F811
    env = {"YTMAKER_DATA_DIR": str(service_rt.settings.data_dir), "YTMAKER_DATABASE_URL": service_rt.settings.database_url}
    runner = CliRunner()
    made = runner.invoke(cli, ["token", "create", "alice"], env=env)
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("ytm_") and len(token) > 40
    assert client.get(API, headers=bearer(token)).status_code == 200
    listed = runner.invoke(cli, ["token", "list"], env=env)
    assert "alice" in listed.stdout and token not in listed.stdout
    assert runner.invoke(cli, ["token", "create", "alice"], env=env).exit_code == 1  # names are unique
    with service_rt.db.engine.connect() as connection:
        stored = " ".join(str(v) for row in connection.execute(text("SELECT * FROM api_tokens")) for v in row)
    assert token not in stored and token[4:] not in stored

    assert runner.invoke(cli, ["token", "revoke", "alice"], env=env).exit_code == 0
    refused = client.get(API, headers=bearer(token))
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"] and token not in refused.text
    assert runner.invoke(cli, ["token", "revoke", "alice"], env=env).exit_code == 1


def test_without_tokens_the_server_is_open_on_loopback_only(service_rt, client):  # noqa: F811
    assert client.get(API).status_code == 200
    with TestClient(create_app(service_rt, worker=False, public=True)) as public:
        refused = public.get(API)
        assert refused.status_code == 401 and "ytmaker token create" in refused.json()["detail"]
    create_token(service_rt.db, "first")
    needed = client.get(API)  # a token now exists: every request needs one
    assert needed.status_code == 401 and needed.headers["www-authenticate"] == "Bearer"
    assert client.get(API, headers={"Authorization": "Basic abc"}).status_code == 401


def test_serve_refuses_a_public_address_until_a_token_exists(service_rt, monkeypatch):  # noqa: F811
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and not is_loopback("0.0.0.0")
    with pytest.raises(InvalidInput, match="token create"):
        check_host("0.0.0.0", tokens_exist=False)
    check_host("0.0.0.0", tokens_exist=True)
    check_host("127.0.0.1", tokens_exist=False)
    env = {"YTMAKER_DATA_DIR": str(service_rt.settings.data_dir), "YTMAKER_DATABASE_URL": service_rt.settings.database_url}
    try:
        refused = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "1"], env=env)
    finally:
        set_runtime(None)  # the command built the process's runtime from its environment
    assert refused.exit_code == 1 and "refusing to serve on 0.0.0.0" in refused.output


def test_a_token_sees_and_acts_on_its_own_projects_and_an_admin_on_all(service_rt, client):  # noqa: F811
    alice, bob = create_token(service_rt.db, "alice"), create_token(service_rt.db, "bob")
    root = create_token(service_rt.db, "root", admin=True)
    mine = client.post(API, json={"text": SHORT_TEXT}, headers=bearer(alice)).json()["id"]
    theirs = client.post(API, json={"text": SHORT_TEXT}, headers=bearer(bob)).json()["id"]

    assert [p["id"] for p in client.get(API, headers=bearer(alice)).json()["items"]] == [mine]
    assert {p["id"] for p in client.get(API, headers=bearer(root)).json()["items"]} == {mine, theirs}
    for method, path in [("GET", ""), ("POST", "/cancel"), ("POST", "/retry"), ("DELETE", ""), ("GET", "/video"),
                         ("GET", "/events")]:
        answer = client.request(method, f"{API}/{theirs}{path}", headers=bearer(alice))
        assert answer.status_code == 404 and "no project" in answer.json()["detail"], (method, path)
    assert client.get(f"{API}/{theirs}", headers=bearer(bob)).json()["status"] == "queued"  # untouched
    assert client.post(f"{API}/{theirs}/cancel", headers=bearer(root)).json()["status"] == "cancelled"


def test_a_session_cookie_carries_the_token_for_the_page(service_rt, client):  # noqa: F811
    token = create_token(service_rt.db, "browser")
    wrong = client.post("/api/v1/session", json={"token": "ytm_wrong"})
    assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
    opened = client.post("/api/v1/session", json={"token": token})
    assert opened.status_code == 200 and opened.json() == {"name": "browser", "admin": False}
    cookie = opened.headers["set-cookie"]
    assert cookie.startswith("ytmaker_token=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert client.post(API, json={"text": SHORT_TEXT}).status_code == 201  # the client sends the cookie back
    assert client.delete("/api/v1/session").status_code == 204
    assert client.get(API).status_code == 401


def test_creation_is_rate_limited_per_token_with_retry_after(redis_rt):
    redis_rt.settings.api_create_limit = 2
    with TestClient(create_app(redis_rt, worker=False)) as client:
        alice, bob = create_token(redis_rt.db, "alice"), create_token(redis_rt.db, "bob")
        for _ in range(2):
            assert client.post(API, json={"text": SHORT_TEXT}, headers=bearer(alice)).status_code == 201
        limited = client.post(API, json={"text": SHORT_TEXT}, headers=bearer(alice))
        assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 60
        assert "per token" in limited.json()["detail"]
        assert client.post(API, json={"text": SHORT_TEXT}, headers=bearer(bob)).status_code == 201
        assert len(client.get(API, headers=bearer(alice)).json()["items"]) == 2


def test_a_token_never_reaches_progress_records_or_logs(service_rt, client, caplog):  # noqa: F811
    token = create_token(service_rt.db, "quiet")
    project_id = client.post(API, json={"text": SHORT_TEXT}, headers=bearer(token)).json()["id"]
    client.get(API, headers=bearer(token + "x"))
    body = client.get(f"{API}/{project_id}", headers=bearer(token)).text
    with service_rt.db.engine.connect() as connection:
        row = " ".join(str(v) for v in connection.execute(text("SELECT * FROM projects")).one())
    assert token not in body and token not in row and token not in str(service_rt.progress.get(project_id))
    assert token not in caplog.text

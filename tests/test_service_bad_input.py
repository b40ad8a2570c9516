"""Bad requests: each gets its 4xx with a reason, and nothing is created or read."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.helpers import SHORT_TEXT
from tests.service_support import service_rt  # noqa: F401  (fixture)
from ytmaker.service.app import create_app
from ytmaker.service.tokens import create_token

API = "/api/v1/projects"
SECRET = "TOP-SECRET-CONTENT"
#: every route with a path parameter, as (method, template)
ROUTES = [("GET", "{id}"), ("POST", "{id}/cancel"), ("POST", "{id}/retry"), ("DELETE", "{id}"), ("GET", "{id}/video"),
          ("GET", "{id}/thumbnail"), ("GET", "{id}/subtitles.srt"), ("GET", "{id}/subtitles.vtt"), ("GET", "{id}/events")]
TRAVERSALS = ["..", "%2e%2e", "..%2f..%2fsecret.txt", "%2e%2e%2f%2e%2e%2fapi.db", "..%5c..%5csecret.txt",
              "%2fetc%2fpasswd", "secret.txt", "....//....//etc/passwd", "%00", "C:%5cWindows"]


@pytest.fixture
def client(service_rt):  # noqa: F811
    with TestClient(create_app(service_rt, worker=False)) as c:
        yield c


def _count(client) -> int:
    return len(client.get(API, params={"limit": 100}).json()["items"])


def test_malformed_json_an_unknown_field_and_a_wrong_type_are_422_with_the_reason(client):
    broken = client.post(API, content=b'{"text": "Bees dance.",', headers={"Content-Type": "application/json"})
    assert broken.status_code == 422 and "json" in broken.json()["detail"].lower()
    unknown = client.post(API, json={"text": SHORT_TEXT, "colour": "red"})
    assert unknown.status_code == 422 and "colour" in unknown.json()["detail"] and "Extra" in unknown.json()["detail"]
    wrong = client.post(API, json={"text": SHORT_TEXT, "max_duration": "long"})
    assert wrong.status_code == 422 and "max_duration" in wrong.json()["detail"]
    missing = client.post(API, json={"title": "no text"})
    assert missing.status_code == 422 and "text" in missing.json()["detail"]
    plain = client.post(API, content=SHORT_TEXT.encode(), headers={"Content-Type": "text/plain"})
    assert plain.status_code == 415
    assert _count(client) == 0


def test_a_10_mb_body_is_refused_before_it_is_parsed(client):
    big = b'{"text": "' + b"a" * (10 * 1024 * 1024) + b'"}'
    declared = client.post(API, content=big, headers={"Content-Type": "application/json"})
    assert declared.status_code == 413 and "YTMAKER_API_MAX_BODY_BYTES" in declared.json()["detail"]

    def chunks():  # no Content-Length: counted as it arrives
        for i in range(0, len(big), 1 << 20):
            yield big[i:i + (1 << 20)]

    streamed = client.post(API, content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    upload = client.post(API, files={"file": ("big.txt", b"a" * (10 * 1024 * 1024), "text/plain")})
    assert upload.status_code == 413
    assert _count(client) == 0


def test_a_wrong_id_and_another_tokens_project_are_404(service_rt, client):  # noqa: F811
    owner, other = create_token(service_rt.db, "owner"), create_token(service_rt.db, "other")
    project_id = client.post(API, json={"text": SHORT_TEXT}, headers={"Authorization": f"Bearer {owner}"}).json()["id"]
    for method, template in ROUTES:
        for wrong, token in [(str(uuid.uuid4()), owner), ("not-an-id", owner), (project_id, other)]:
            answer = client.request(method, f"{API}/{template.format(id=wrong)}", headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 404 and "no project" in answer.json()["detail"], (method, template, wrong)
    mine = client.get(f"{API}/{project_id}", headers={"Authorization": f"Bearer {owner}"}).json()
    assert mine["status"] == "queued"  # neither cancelled, retried nor deleted by the other token


@pytest.mark.parametrize("attempt", TRAVERSALS)
def test_a_traversal_in_any_path_parameter_reads_nothing(service_rt, client, attempt):  # noqa: F811
    (service_rt.data_dir / "secret.txt").write_text(SECRET)
    project_id = client.post(API, json={"text": SHORT_TEXT}).json()["id"]
    for method, template in ROUTES:
        url = f"{API}/{template.format(id=attempt)}"
        if httpx.URL("http://testserver" + url).path == "/api/v1/events":
            continue  # the client itself resolved "../events": that is the (endless) stream of every project, not a traversal
        answer = client.request(method, url)
        assert 400 <= answer.status_code < 500, (method, template, answer.status_code)
        assert SECRET not in answer.text and "root:" not in answer.text
        if answer.headers.get("content-type", "").startswith("application/json") and answer.status_code != 405:
            assert answer.json()["detail"]  # a reason, not an empty refusal
    assert client.get(f"{API}/{project_id}").json()["status"] == "queued" and _count(client) == 1

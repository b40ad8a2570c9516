"""POST /api/v1/batches and GET /api/v1/batches/{id}: the batch file's rows over HTTP, checked whole, made once."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.helpers import wait_until
from tests.service_support import service_rt  # noqa: F401  (fixture)
from ytmaker.db.models import Project
from ytmaker.service.app import create_app

API = "/api/v1/batches"
TEXTS = ["Solar panels got cheap because factories learned to make them at scale.",
         "Wind turbines grew taller every decade, and taller towers reach steadier winds."]


@pytest.fixture
def client(service_rt):  # noqa: F811
    with TestClient(create_app(service_rt)) as c:
        yield c


def projects(rt) -> int:
    with rt.db.single() as session:
        return session.scalar(select(func.count()).select_from(Project))


def test_a_named_batch_is_made_followed_and_sent_again_makes_nothing_new(client, service_rt):  # noqa: F811
    rows = [{"text": TEXTS[0], "title": "Solar"}, {"text": TEXTS[1], "format": "9:16"}]
    created = client.post(API, json={"name": "energy", "rows": rows})
    assert created.status_code == 201, created.text
    batch = created.json()
    assert [r["action"] for r in batch["rows"]] == ["made", "made"] and batch["rows"][0]["title"] == "Solar"

    done = wait_until(lambda: (b := client.get(f"{API}/{batch['id']}").json())["ended"] == 2 and b, 60, "the batch to end")
    assert [r["status"] for r in done["rows"]] == ["completed", "completed"] and done["progress"] == 100
    assert done["summary"].startswith("2 made, 0 done before, 0 failed")

    again = client.post(API, json={"name": "energy", "rows": rows}).json()
    assert [r["action"] for r in again["rows"]] == ["done", "done"]
    assert [r["project_id"] for r in again["rows"]] == [r["project_id"] for r in batch["rows"]]
    assert projects(service_rt) == 2


def test_one_bad_row_refuses_the_request_with_its_line_and_creates_nothing(client, service_rt):  # noqa: F811
    refused = client.post(API, json={"rows": [{"text": TEXTS[0]}, {"text": TEXTS[1], "format": "4:3"},
                                              {"file": "/etc/passwd"}, {"text": TEXTS[0], "colour": "red"}]})
    assert refused.status_code == 422
    detail = refused.json()["detail"]
    assert "line 2: format '4:3' is not one of" in detail
    assert "line 3: file is not accepted here" in detail  # no path of this machine is ever read for a caller
    assert "line 4: unknown field(s) colour" in detail
    assert projects(service_rt) == 0
    assert client.post(API, json={"rows": []}).status_code == 422
    assert client.get(f"{API}/not-a-batch").status_code == 404
    assert client.get(f"{API}/00000000-0000-0000-0000-000000000000").status_code == 404

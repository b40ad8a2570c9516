"""Progress hashes on real Redis: fields, the project's percentage, publishing, terminal states."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from ytmaker.progress import STAGE_WEIGHTS, ProgressStore

pytestmark = pytest.mark.redis


@pytest.fixture
def store(redis_client):
    redis_client.flushdb()
    yield ProgressStore(redis_client, ttl_s=60)
    redis_client.flushdb()


def test_update_writes_every_field_and_stamps_utc_time(store, redis_client):
    store.update("p1", status="script_generating", stage="script", stage_progress=30, message="writing")
    data = store.get("p1")
    assert data["status"] == "script_generating" and data["stage"] == "script"
    assert data["stage_progress"] == "30" and data["message"] == "writing"
    assert data["progress"] == str(round(STAGE_WEIGHTS["script"] * 0.3))
    assert datetime.fromisoformat(data["updated_at"]).utcoffset().total_seconds() == 0
    assert 0 < redis_client.ttl("ytmaker:progress:p1") <= 60


def test_parallel_stages_add_up_to_the_project_percentage(store):
    store.update("p2", stage="script", stage_progress=100)
    store.update("p2", stage="images", stage_progress=50)
    store.update("p2", stage="audio", stage_progress=100)
    expected = STAGE_WEIGHTS["script"] + STAGE_WEIGHTS["images"] * 0.5 + STAGE_WEIGHTS["audio"]
    assert store.get("p2")["progress"] == str(round(expected))
    assert store.get("p2")["stage"] == "audio"


def test_each_update_is_published_as_json_of_the_whole_hash(store):
    channel = store.subscribe("p3")
    channel.get_message(timeout=1)  # subscription confirmation is ignored; make sure we are subscribed
    store.update("p3", status="rendering", stage="render", stage_progress=10, message="rendering")
    message = None
    for _ in range(20):
        message = channel.get_message(timeout=0.2)
        if message:
            break
    assert message is not None
    payload = json.loads(message["data"])
    assert payload["status"] == "rendering" and payload["stage_progress"] == "10"


def test_a_failed_project_is_not_revived_by_a_late_write_unless_forced(store):
    store.update("p4", status="failed", error="images failed: key rejected")
    store.update("p4", status="assets_generating", stage="audio", stage_progress=50, message="late")
    assert store.get("p4")["status"] == "failed" and store.get("p4").get("message") != "late"
    store.update("p4", status="assets_generating", message="retrying", force=True)
    assert store.get("p4")["status"] == "assets_generating"

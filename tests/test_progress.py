"""Progress hashes, on real Redis and in memory: fields, the project's percentage, publishing, terminal states."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest

from ytmaker.progress import MemoryProgressStore, RedisProgressStore

#: The stores take their weights; these are the pipeline's at the time of writing (they sum to 100).
WEIGHTS = {"script": 10, "images": 20, "audio": 20, "avatars": 10, "render": 30, "thumbnail": 4, "upload": 6}


@pytest.fixture(params=[pytest.param("redis", marks=pytest.mark.redis), "memory"])
def store(request):
    if request.param == "memory":
        yield MemoryProgressStore(weights=WEIGHTS)
        return
    redis_client = request.getfixturevalue("redis_client")
    redis_client.flushdb()
    yield RedisProgressStore(redis_client, weights=WEIGHTS, ttl_s=60)
    redis_client.flushdb()


def test_update_writes_every_field_and_stamps_utc_time(store, request):
    store.update("p1", status="script_generating", stage="script", stage_progress=30, message="writing")
    data = store.get("p1")
    assert data["status"] == "script_generating" and data["stage"] == "script"
    assert data["stage_progress"] == "30" and data["message"] == "writing"
    assert data["p:script"] == "30"
    assert data["progress"] == str(round(WEIGHTS["script"] * 0.3))
    assert datetime.fromisoformat(data["updated_at"]).utcoffset().total_seconds() == 0
    if isinstance(store, RedisProgressStore):
        assert 0 < request.getfixturevalue("redis_client").ttl("ytmaker:progress:p1") <= 60


def test_an_unknown_project_has_an_empty_hash(store):
    assert store.get("nobody") == {}


def test_parallel_stages_add_up_to_the_project_percentage(store):
    store.update("p2", stage="script", stage_progress=100)
    store.update("p2", stage="images", stage_progress=50)
    store.update("p2", stage="audio", stage_progress=100)
    expected = WEIGHTS["script"] + WEIGHTS["images"] * 0.5 + WEIGHTS["audio"]
    assert store.get("p2")["progress"] == str(round(expected))
    assert store.get("p2")["stage"] == "audio"


def test_ticks_from_many_threads_are_all_read_back_in_their_order(store):
    stages = ["images", "audio", "avatars", "thumbnail"]

    def tick(stage: str) -> None:
        for percent in range(1, 101):
            store.update("p5", stage=stage, stage_progress=percent, message=f"{stage} {percent}")

    threads = [threading.Thread(target=tick, args=(stage,)) for stage in stages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    data = store.get("p5")  # reads this process's own writes: no wait for the writer thread
    assert all(data[f"p:{stage}"] == "100" for stage in stages)
    assert data["progress"] == str(sum(WEIGHTS[stage] for stage in stages))
    assert data["message"] == f"{data['stage']} 100"


def test_a_stage_named_without_a_figure_only_names_the_stage(store):
    store.update("p6", stage="render", stage_progress=40)
    store.update("p6", stage="thumbnail", message="starting")
    data = store.get("p6")
    assert data["stage"] == "thumbnail" and data["stage_progress"] == "40" and "p:thumbnail" not in data
    assert data["progress"] == str(round(WEIGHTS["render"] * 0.4))


def test_a_completed_project_is_at_100_whatever_its_stages_say(store):
    store.update("p7", stage="script", stage_progress=100)
    store.update("p7", status="completed", stage="upload", stage_progress=100, message="done")
    data = store.get("p7")
    assert data["status"] == "completed" and data["progress"] == "100"


def test_each_update_is_published_as_json_of_the_whole_hash(store):
    channel = store.subscribe("p3")
    try:
        store.update("p3", status="rendering", stage="render", stage_progress=10, message="rendering")
        payload = channel.get(timeout_s=5)
        assert payload is not None
        assert payload["status"] == "rendering" and payload["stage_progress"] == "10"
        assert payload == store.get("p3")
    finally:
        channel.close()


def test_snapshots_arrive_in_order_and_none_when_nothing_changed(store):
    channel = store.subscribe("p8")
    other = store.subscribe("elsewhere")
    try:
        for percent in (10, 20, 30):
            store.update("p8", stage="audio", stage_progress=percent)
        received = [channel.get(timeout_s=5) for _ in range(3)]
        assert [s["stage_progress"] for s in received if s] == ["10", "20", "30"]
        assert channel.get(timeout_s=0.1) is None
        assert other.get(timeout_s=0) is None
    finally:
        channel.close()
        other.close()


def test_a_failed_project_is_not_revived_by_a_late_write_unless_forced(store):
    store.update("p4", status="failed", error="images failed: key rejected")
    store.update("p4", status="assets_generating", stage="audio", stage_progress=50, message="late")
    assert store.get("p4")["status"] == "failed" and store.get("p4").get("message") != "late"
    store.update("p4", status="assets_generating", message="retrying", force=True)
    assert store.get("p4")["status"] == "assets_generating"


def test_a_rejected_late_write_is_not_published(store):
    channel = store.subscribe("p9")
    try:
        store.update("p9", status="cancelled", message="cancelled")
        store.update("p9", stage="render", stage_progress=90, message="late")
        store.update("p9", status="failed", message="render failed")  # a terminal status may follow another
        snapshots = [channel.get(timeout_s=5) for _ in range(2)]
        assert [s["message"] for s in snapshots if s] == ["cancelled", "render failed"]
        assert "p:render" not in store.get("p9")
    finally:
        channel.close()


def test_clear_error_then_a_forced_retry_leaves_no_trace_of_the_failure(store):
    store.update("p10", status="failed", error="audio failed", message="audio failed")
    store.clear_error("p10")
    store.update("p10", status="assets_generating", message="retrying", force=True)
    data = store.get("p10")
    assert "error" not in data and data["status"] == "assets_generating" and data["message"] == "retrying"


def test_reset_drops_everything_written_before(store):
    store.update("p11", status="failed", stage="images", stage_progress=70, error="boom")
    store.update("p11", status="queued", message="queued", reset=True)
    assert set(store.get("p11")) == {"status", "message", "updated_at", "seq"}
    assert store.get("p11")["status"] == "queued"


def test_seq_counts_applied_updates_is_published_and_never_goes_back(store):
    channel = store.subscribe("p12")
    try:
        store.update("p12", stage="script", stage_progress=50)
        store.update("p12", status="failed", error="boom")
        store.update("p12", stage="render", stage_progress=10)  # refused (terminal): not counted
        assert store.get("p12")["seq"] == "2"
        store.update("p12", status="queued", message="again", reset=True)
        assert store.get("p12")["seq"] == "3"  # a reset keeps the sequence going: event ids never repeat
        published = [channel.get(timeout_s=5) for _ in range(3)]
        assert [s["seq"] for s in published if s] == ["1", "2", "3"]
    finally:
        channel.close()

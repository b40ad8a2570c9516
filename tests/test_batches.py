"""Batches: every row checked before anything is made, made once, skipped or resumed when the file is run again."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from tests.fakes.gemini import FakeGemini, Reply, error
from ytmaker import batches
from ytmaker.batch_file import BatchInvalid, check_rows, read_rows
from ytmaker.db.models import Project, RowProject
from ytmaker.progress.memory import MemoryProgressStore

KEY = "gemini-test-key"
TEXTS = ["Solar panels got cheap because factories learned to make them at scale. Every doubling cut the price.",
         "Wind turbines grew taller every decade. Taller towers reach steadier winds and turn more often.",
         "Batteries store the sun for the evening. Their price fell by nine tenths in ten years."]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def project_count(rt) -> int:
    with rt.db.single() as session:
        return session.scalar(select(func.count()).select_from(Project))


def test_a_batch_of_three_is_made_and_running_it_again_makes_nothing_new(instant_rt, tmp_path):
    (tmp_path / "third.txt").write_text(TEXTS[2], encoding="utf-8")
    source = write_jsonl(tmp_path / "rows.jsonl", [{"text": TEXTS[0]}, {"text": TEXTS[1], "title": "Wind", "format": "9:16"},
                                                   {"file": "third.txt"}])
    batch_id, planned = batches.plan(instant_rt, source)
    assert [p.action for p in planned] == ["made"] * 3
    states = batches.run_embedded_batch(instant_rt, planned, concurrency=2)
    assert [s.status for s in states] == ["completed"] * 3
    text, ok = batches.summary(states)
    assert ok and text.startswith("3 made, 0 done before, 0 failed")
    with instant_rt.db.single() as session:
        wind = session.get(Project, planned[1].project_id)
    assert (wind.title, wind.video_format) == ("Wind", "9:16")

    again_id, again = batches.plan(instant_rt, source)
    assert again_id != batch_id
    assert [p.action for p in again] == ["done"] * 3
    assert [p.project_id for p in again] == [p.project_id for p in planned]
    assert project_count(instant_rt) == 3
    _, recorded = batches.batch_rows(instant_rt, again_id)
    assert [s.status for s in recorded] == ["completed"] * 3


def test_batch_status_in_a_new_process_shows_finished_rows_at_100_with_their_titles(instant_rt, tmp_path):
    source = write_jsonl(tmp_path / "rows.jsonl", [{"text": TEXTS[0]}, {"text": TEXTS[1], "title": "Wind"}])
    batch_id, planned = batches.plan(instant_rt, source)
    assert [s.status for s in batches.run_embedded_batch(instant_rt, planned, concurrency=2)] == ["completed"] * 2
    later = dataclasses.replace(instant_rt, progress=MemoryProgressStore(weights={}))  # another process's empty store
    _, recorded = batches.batch_rows(later, batch_id)
    assert [s.progress for s in recorded] == [100.0, 100.0]
    assert [s.title for s in recorded] == ["Solar panels got cheap", "Wind"]  # the script's title when none was given


def test_a_row_is_known_by_its_content_not_its_position(instant_rt, tmp_path):
    source = write_jsonl(tmp_path / "rows.jsonl", [{"text": TEXTS[0]}])
    _, first = batches.plan(instant_rt, source)
    write_jsonl(source, [{"text": TEXTS[1]}, {"text": TEXTS[0]}, {"text": TEXTS[0], "format": "9:16"}])
    _, second = batches.plan(instant_rt, source)
    assert [p.action for p in second] == ["made", "running", "made"]  # the same text with other options is another video
    assert second[1].project_id == first[0].project_id
    with instant_rt.db.single() as session:
        assert session.scalar(select(func.count()).select_from(RowProject)) == 3


def test_one_bad_row_refuses_the_batch_with_every_line_and_creates_nothing(instant_rt, tmp_path):
    source = tmp_path / "rows.jsonl"
    source.write_text("\n".join([
        json.dumps({"text": TEXTS[0]}),
        json.dumps({"txt": "a typo"}),
        "{not json",
        json.dumps({"text": TEXTS[1], "format": "4:3"}),
        json.dumps({"text": "   "}),
        json.dumps({"file": "missing.txt"}),
        json.dumps({"text": TEXTS[2], "max_duration": "long"}),
    ]) + "\n", encoding="utf-8")
    with pytest.raises(BatchInvalid) as refused:
        batches.plan(instant_rt, source)
    lines = [error.split(":")[0] for error in refused.value.errors]
    assert lines == ["line 2", "line 3", "line 4", "line 5", "line 6", "line 7"]
    assert "unknown field(s) txt" in refused.value.errors[0]
    assert "'4:3' is not one of" in refused.value.errors[2]
    assert "the text is empty" in refused.value.errors[3]
    assert project_count(instant_rt) == 0


def test_csv_and_folders_are_batches_too(instant_rt, tmp_path):
    csv_file = tmp_path / "rows.csv"
    csv_file.write_text(f'text,title,max_duration\n"{TEXTS[0]}",Solar,\n"{TEXTS[1]}",,30\n', encoding="utf-8")
    rows, errors = read_rows(csv_file)
    assert errors == [] and [r.line for r in rows] == [2, 3]
    assert rows[0].options.title == "Solar" and rows[1].options.max_duration_s == 30.0
    folder = tmp_path / "texts"
    folder.mkdir()
    for i, text in enumerate(TEXTS):
        (folder / f"{i}.md").write_text(text, encoding="utf-8")
    (folder / "cover.png").write_bytes(b"\x89PNG")  # not a kind ytmaker reads: not a row
    rows, projects = check_rows(instant_rt, folder)
    assert [r.label for r in rows] == ["0.md", "1.md", "2.md"] and len(projects) == 3
    bad = tmp_path / "bad.csv"
    bad.write_text(f'text,title\n"{TEXTS[0]}",A,extra\n', encoding="utf-8")
    with pytest.raises(BatchInvalid, match="line 2: 1 cell"):
        check_rows(instant_rt, bad)


class FailingGemini(FakeGemini):
    """Refuses the key for prompts holding ``marker`` while ``failing``: a provider failure the batch must resume from."""

    marker = "Batteries"
    failing = True

    def respond(self, request) -> Reply:
        if self.failing and self.marker in request.body.decode("utf-8", "replace"):
            return error(403, "PERMISSION_DENIED", "Permission denied on resource project.")
        return super().respond(request)


def test_a_row_whose_provider_failed_is_resumed_on_the_next_run_and_the_rest_are_skipped(instant_rt, tmp_path):
    with FailingGemini(KEY) as gemini:
        settings = instant_rt.settings
        settings.script_provider, settings.gemini_api_key, settings.gemini_base_url = "gemini", SecretStr(KEY), gemini.url
        source = write_jsonl(tmp_path / "rows.jsonl", [{"text": t} for t in TEXTS])
        _, planned = batches.plan(instant_rt, source)
        states = batches.run_embedded_batch(instant_rt, planned, concurrency=3)
        assert [s.status for s in states] == ["completed", "completed", "failed"]
        text, ok = batches.summary(states)
        assert not ok and f"line 3: {planned[2].project_id} failed" in text

        gemini.failing = False
        _, again = batches.plan(instant_rt, source)
        assert [p.action for p in again] == ["done", "done", "resumed"]
        states = batches.run_embedded_batch(instant_rt, again, concurrency=3)
        assert [s.status for s in states] == ["completed"] * 3
        assert project_count(instant_rt) == 3


def test_the_command_lists_bad_rows_and_exits_non_zero(tmp_path):
    source = write_jsonl(tmp_path / "rows.jsonl", [{"text": TEXTS[0]}, {"text": TEXTS[1], "publish": "tiktok"}])
    env = {k: v for k, v in os.environ.items() if not k.startswith("YTMAKER_")}
    env.update(YTMAKER_DATA_DIR=str(tmp_path / "data"))
    result = subprocess.run([sys.executable, "-m", "ytmaker", "batch", str(source)], capture_output=True, env=env,
                            timeout=120, text=True)
    said = " ".join(result.stderr.split())  # as read, whatever the console's wrapping
    assert result.returncode == 1
    assert "1 row(s) cannot be made; nothing was created" in said
    assert "line 2: publish target 'tiktok' is not one of folder, youtube" in said

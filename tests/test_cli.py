"""The ytmaker command, run as a user runs it (a subprocess, embedded mode)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import SHORT_TEXT

YTMAKER = [sys.executable, "-m", "ytmaker"]


def run(args, tmp_path, stdin: bytes | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("YTMAKER_")}
    env.update(YTMAKER_DATA_DIR=str(tmp_path / "data"), YTMAKER_RENDER_QUALITY="draft")
    return subprocess.run(YTMAKER + args, input=stdin, capture_output=True, env=env, timeout=300)


def test_make_from_stdin_produces_a_video_and_status_lists_it(tmp_path):
    result = run(["make", "-", "--title", "Bees"], tmp_path, stdin=SHORT_TEXT.encode())
    err = result.stderr.decode()
    assert result.returncode == 0, err
    video = Path(err.split("video: ")[1].split(" (")[0].replace("\n", ""))
    assert video.exists() and video.stat().st_size > 10_000
    project_id = err.split("project ")[1].split()[0]

    status = run(["status", project_id, "--json"], tmp_path)
    assert status.returncode == 0
    assert '"status": "completed"' in status.stdout.decode()
    assert f'"video": "{video}"' in status.stdout.decode()
    shown = run(["status", project_id], tmp_path).stdout.decode()  # a new process: its progress store is empty
    assert f"{project_id}  completed  100%  Bees" in shown and f"video: {video} (" in shown
    listing = run(["list"], tmp_path)
    assert project_id in listing.stdout.decode()  # whole, to copy, even at 80 columns
    assert f"{project_id}  completed" in run(["status", project_id[:8]], tmp_path).stdout.decode()  # as batches show it


def test_a_failure_exits_non_zero_with_the_reason(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n")
    result = run(["make", str(empty)], tmp_path)
    assert result.returncode == 1
    assert "the text is empty" in result.stderr.decode()

    missing = run(["status", "../../etc/passwd"], tmp_path)
    assert missing.returncode == 1 and "not a project id" in missing.stderr.decode()


def test_db_upgrade_is_repeatable(tmp_path):
    first = run(["db", "upgrade"], tmp_path)
    second = run(["db", "upgrade"], tmp_path)
    assert first.returncode == 0 and second.returncode == 0
    assert (tmp_path / "data" / "ytmaker.db").exists()


def test_a_bad_caption_style_is_refused_before_any_work_and_nothing_is_made(tmp_path):
    result = run(["make", "-", "--caption-style", "color=red"], tmp_path, stdin=SHORT_TEXT.encode())
    assert result.returncode == 1 and "is not #RRGGBB" in result.stderr.decode()
    unknown = run(["make", "-", "--caption-style", "sparkle=3"], tmp_path, stdin=SHORT_TEXT.encode())
    assert unknown.returncode == 1 and "unknown caption setting(s): sparkle" in unknown.stderr.decode()
    assert not list((tmp_path / "data").glob("projects/*"))


def test_caption_style_pairs_become_typed_overrides():
    from ytmaker.cli import _key_values

    assert _key_values(["font_size=72", "outline=2.5", "color=#FF0000", "position=top"]) == {
        "font_size": 72, "outline": 2.5, "color": "#FF0000", "position": "top"}
    assert _key_values(None) is None

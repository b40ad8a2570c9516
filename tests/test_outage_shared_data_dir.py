"""Several `ytmaker make` at once on one fresh data dir: the schema is created once, every run completes cleanly."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select

from tests.helpers import SHORT_TEXT
from ytmaker.db.models import Project, StageRun
from ytmaker.db.session import Database

YTMAKER = [sys.executable, "-m", "ytmaker"]


def test_three_makes_at_once_on_a_fresh_data_dir_all_complete_without_a_traceback(tmp_path):
    # given: a data dir that does not exist yet, and three texts
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("YTMAKER_")}
    env.update(YTMAKER_DATA_DIR=str(data), YTMAKER_IMAGE_PROVIDER="instant", YTMAKER_SPEECH_PROVIDER="instant",
               YTMAKER_RENDER_QUALITY="tiny")
    texts = []
    for i in range(3):
        texts.append(tmp_path / f"text{i}.txt")
        texts[-1].write_text(f"Part {i}. {SHORT_TEXT}")

    # when: three runs start together (each creates the schema on first use)
    runs = [subprocess.Popen([*YTMAKER, "make", str(text)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for text in texts]
    results = [(run.wait(timeout=300), *(stream.decode() for stream in run.communicate())) for run in runs]

    # then: every run succeeded, printed no traceback, and its records say finished everywhere
    for code, stdout, stderr in results:
        assert code == 0, stderr[-3000:]
        assert "Traceback" not in stderr and "Traceback" not in stdout, stderr[-3000:]
    db = Database(f"sqlite:///{data / 'ytmaker.db'}")
    try:
        with db.session() as session:
            projects = session.scalars(select(Project)).all()
            runs_left = session.execute(select(StageRun.stage, StageRun.status, StageRun.error)
                                        .where(StageRun.status.not_in(["succeeded", "skipped"]))).all()
    finally:
        db.dispose()
    assert sorted(p.status for p in projects) == ["completed"] * 3
    assert runs_left == []

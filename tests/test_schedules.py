"""Schedules: exactly one project per schedule and due time, files used once, crashes finished, no replayed burst."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from periodiq import cron
from sqlalchemy import func, select
from structlog.testing import capture_logs

from tests.conftest import fast_settings, worker_broker
from ytmaker import schedules
from ytmaker.db.migrate import upgrade
from ytmaker.db.models import Project, ScheduleRun
from ytmaker.errors import InvalidInput
from ytmaker.runtime import build_runtime
from ytmaker.schedules import load_schedules, next_due, previous_due, tick

NINE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def setup_folder(tmp_path, texts: dict[str, str], cron_spec: str = "0 9 * * *"):
    folder = tmp_path / "queue"
    folder.mkdir()
    for i, (name, text) in enumerate(texts.items()):
        path = folder / name
        path.write_text(text, encoding="utf-8")
        stamp = (NINE - timedelta(days=10 - i)).timestamp()
        import os

        os.utime(path, (stamp, stamp))  # oldest first, in the order given
    config = tmp_path / "schedules.toml"
    config.write_text(f'[[schedule]]\nname = "daily-facts"\ncron = "{cron_spec}"\nfolder = "queue"\nformat = "9:16"\n',
                      encoding="utf-8")
    return folder, load_schedules(config)


def runs(rt) -> list[ScheduleRun]:
    with rt.db.single() as session:
        found = session.scalars(select(ScheduleRun).order_by(ScheduleRun.due_at)).all()
        for run in found:
            session.expunge(run)
    return list(found)


def projects(rt) -> int:
    with rt.db.single() as session:
        return session.scalar(select(func.count()).select_from(Project))


TEXTS = {"a.txt": "Octopuses have three hearts. Two pump blood to the gills.",
         "b.md": "Honey never spoils. Jars from ancient tombs were still good.",
         "c.txt": "A day on Venus is longer than its year."}


def test_cron_due_times():
    daily = cron("0 9 * * *")
    assert previous_due(daily, NINE + timedelta(minutes=30)) == NINE
    assert previous_due(daily, NINE - timedelta(minutes=1)) == NINE - timedelta(days=1)
    assert next_due(daily, NINE) == NINE + timedelta(days=1)
    weekdays = cron("30 7 * * 1-5")  # 2026-12-05 is a Saturday
    assert previous_due(weekdays, datetime(2026, 12, 6, 12, 0, tzinfo=UTC)) == datetime(2026, 12, 4, 7, 30, tzinfo=UTC)
    assert next_due(weekdays, datetime(2026, 12, 5, 0, 0, tzinfo=UTC)) == datetime(2026, 12, 7, 7, 30, tzinfo=UTC)


def test_bad_schedules_files_are_refused_with_the_reason(tmp_path):
    config = tmp_path / "s.toml"
    config.write_text('[[schedule]]\nname = "x"\ncron = "0 9 * * *"\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match="folder missing"):
        load_schedules(config)
    config.write_text('[[schedule]]\nname = "x"\ncron = "every day"\nfolder = "q"\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match="is not a cron expression"):
        load_schedules(config)


def test_two_schedulers_and_a_tick_delivered_twice_make_one_project_per_due_time(instant_rt, tmp_path):
    folder, plan = setup_folder(tmp_path, TEXTS)
    others = [build_runtime(instant_rt.settings, broker=instant_rt.broker) for _ in range(2)]  # two processes' own connections
    barrier = threading.Barrier(3)
    made: list[list[str]] = []
    errors: list[BaseException] = []

    def scheduler(rt):
        barrier.wait()
        try:
            made.append(tick(rt, plan, now=NINE + timedelta(seconds=5)))
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=scheduler, args=(rt,)) for rt in [instant_rt, *others]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    made.append(tick(instant_rt, plan, now=NINE + timedelta(seconds=40)))  # the same minute's tick, delivered again
    for rt in others:
        rt.close()

    assert errors == []
    assert sum(len(ids) for ids in made) == 1 and projects(instant_rt) == 1
    [run] = runs(instant_rt)
    assert (run.state, run.file, run.due_at.replace(tzinfo=UTC)) == ("moved", str(folder / "a.txt"), NINE)
    assert sorted(p.name for p in folder.iterdir()) == ["b.md", "c.txt", "done"]
    assert (folder / "done" / "a.txt").exists()
    with instant_rt.db.single() as session:
        project = session.get(Project, run.project_id)
    assert project.video_format == "9:16" and "three hearts" in project.content

    tick(instant_rt, plan, now=NINE + timedelta(days=1))  # the next day takes the next oldest file
    assert [r.file.rsplit("/", 1)[1] for r in runs(instant_rt)] == ["a.txt", "b.md"]


def test_a_crash_between_the_project_and_the_file_move_neither_loses_the_text_nor_uses_it_twice(instant_rt, tmp_path,
                                                                                                  monkeypatch):
    folder, plan = setup_folder(tmp_path, TEXTS)

    def crash(_path):
        raise SystemExit("killed after the project was created")

    monkeypatch.setattr(schedules, "_move_done", crash)
    with pytest.raises(SystemExit):
        tick(instant_rt, plan, now=NINE)
    [run] = runs(instant_rt)
    assert run.state == "created" and (folder / "a.txt").exists() and projects(instant_rt) == 1
    monkeypatch.undo()

    tick(instant_rt, plan, now=NINE + timedelta(minutes=1))  # the next tick finishes the move, and makes nothing new
    [run] = runs(instant_rt)
    assert run.state == "moved" and not (folder / "a.txt").exists() and (folder / "done" / "a.txt").exists()
    assert projects(instant_rt) == 1


def test_a_crash_after_the_claim_is_finished_by_the_next_tick(instant_rt, tmp_path, monkeypatch):
    folder, plan = setup_folder(tmp_path, TEXTS)

    def crash(*_args, **_kwargs):
        raise SystemExit("killed after the claim")

    monkeypatch.setattr(schedules, "prepare_project", crash)
    with pytest.raises(SystemExit):
        tick(instant_rt, plan, now=NINE)
    assert [r.state for r in runs(instant_rt)] == ["claimed"] and projects(instant_rt) == 0
    monkeypatch.undo()

    tick(instant_rt, plan, now=NINE + timedelta(minutes=1))
    [run] = runs(instant_rt)
    assert run.state == "moved" and run.project_id and projects(instant_rt) == 1
    assert (folder / "done" / "a.txt").exists() and (folder / "b.md").exists()


def test_an_empty_folder_makes_nothing_and_is_logged_once(instant_rt, tmp_path):
    folder, plan = setup_folder(tmp_path, {})
    with capture_logs() as logs:
        for day in range(3):
            assert tick(instant_rt, plan, now=NINE + timedelta(days=day)) == []
    assert [e["event"] for e in logs if e["event"] == "schedule_folder_empty"] == ["schedule_folder_empty"]
    assert projects(instant_rt) == 0
    (folder / "late.txt").write_text(TEXTS["a.txt"], encoding="utf-8")
    assert len(tick(instant_rt, plan, now=NINE + timedelta(days=3))) == 1


def test_missed_due_times_are_not_replayed_in_a_burst(instant_rt, tmp_path):
    _, plan = setup_folder(tmp_path, TEXTS)
    tick(instant_rt, plan, now=NINE)
    with capture_logs() as logs:
        made = tick(instant_rt, plan, now=NINE + timedelta(days=4, hours=2))  # every scheduler was down for three due times
    assert len(made) == 1 and projects(instant_rt) == 2
    [warning] = [e for e in logs if e["event"] == "schedule_catch_up"]
    assert warning["missed"] == 3
    assert runs(instant_rt)[-1].due_at.replace(tzinfo=UTC) == NINE + timedelta(days=4)


@pytest.mark.slow
@pytest.mark.redis
def test_two_periodiq_schedulers_make_one_project_per_due_time(tmp_path, postgres_url, redis_client):
    """The real thing: two `periodiq ytmaker.scheduler` processes tick every minute, a worker runs both ticks."""
    import os
    import signal
    import subprocess
    import sys

    from tests.conftest import REDIS_URL
    from tests.helpers import wait_until

    redis_client.flushdb()
    folder = tmp_path / "queue"
    folder.mkdir()
    for name, text in TEXTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    config = tmp_path / "schedules.toml"
    config.write_text('[[schedule]]\nname = "every-minute"\ncron = "* * * * *"\nfolder = "queue"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("YTMAKER_")}
    env.update(YTMAKER_REDIS_URL=REDIS_URL, YTMAKER_DATABASE_URL=postgres_url, YTMAKER_DATA_DIR=str(tmp_path / "data"),
               YTMAKER_SCHEDULES_FILE=str(config), YTMAKER_METRICS_SERVE="false", YTMAKER_RECOVERY_INTERVAL_S="0")
    settings = fast_settings(tmp_path, database_url=postgres_url, redis_url=REDIS_URL)
    rt = build_runtime(settings, broker=worker_broker(settings))
    upgrade(rt.db)
    bin_dir = Path(sys.executable).parent
    commands = [[str(bin_dir / "periodiq"), "ytmaker.scheduler"]] * 2 + [
        [str(bin_dir / "dramatiq"), "ytmaker.actors", "--queues", "scripts", "--processes", "1", "--threads", "4"]]
    processes = [subprocess.Popen(c, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for c in commands]
    try:
        # periodiq sends a tick as it starts and at every minute after: both schedulers tick the same due time
        wait_until(lambda: runs(rt), 200, "a due time run by the schedulers")
        # every tick sent by now is handled: both schedulers' messages for the minutes seen
        wait_until(lambda: redis_client.llen("dramatiq:scripts") == 0 and not redis_client.hlen("dramatiq:scripts.msgs"),
                   60, "the ticks handled")
        found = runs(rt)
        assert len(found) == len({r.due_at for r in found})  # one run per due time, though each was ticked twice
        made = [r for r in found if r.project_id]
        assert projects(rt) == len(made) >= 1
        assert len({r.file for r in made}) == len(made)  # each file used once
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(60)
        rt.close()
        redis_client.flushdb()

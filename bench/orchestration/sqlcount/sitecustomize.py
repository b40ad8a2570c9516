"""Counts the SQL a process sends, for the benchmark's "database statements per project".

PostgreSQL's pg_stat_statements is often not loaded, and pg_stat_database
counts every client of the database (other jobs too). So each ytmaker worker
started by the benchmark has this directory on PYTHONPATH: Python imports
``sitecustomize`` at start-up, which hooks SQLAlchemy's engine events and
writes cumulative counts to ``$BENCH_SQL_COUNT_DIR/<pid>.json`` four times a
second. Nothing happens without that variable.

    statements   SQL statements executed through SQLAlchemy
    commits      transactions committed (each is a BEGIN + COMMIT round trip pair)
    rollbacks    transactions rolled back
    checkouts    connections taken from the pool (each pings first when pool_pre_ping is on)
"""

import os

_DIR = os.environ.get("BENCH_SQL_COUNT_DIR")

if _DIR:
    import json
    import threading

    _counts = {"statements": 0, "commits": 0, "rollbacks": 0, "checkouts": 0}
    _lock = threading.Lock()
    _writer_pid = [0]

    def _bump(name: str) -> None:
        with _lock:
            _counts[name] += 1
            if _writer_pid[0] != os.getpid():  # first event in this (possibly forked) process
                _writer_pid[0] = os.getpid()
                for key in _counts:
                    _counts[key] = 1 if key == name else 0
                threading.Thread(target=_write_forever, daemon=True).start()

    def _write_forever() -> None:
        import time

        pid = os.getpid()
        path = os.path.join(_DIR, f"{pid}.json")
        while True:
            time.sleep(0.25)
            with _lock:
                data = json.dumps(_counts)
            tmp = f"{path}.tmp"
            with open(tmp, "w") as handle:
                handle.write(data)
            os.replace(tmp, path)

    def _install() -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
        from sqlalchemy.pool import Pool

        event.listen(Engine, "before_cursor_execute", lambda *a, **k: _bump("statements"))
        event.listen(Engine, "commit", lambda *a: _bump("commits"))
        event.listen(Engine, "rollback", lambda *a: _bump("rollbacks"))
        event.listen(Pool, "checkout", lambda *a: _bump("checkouts"))

    try:
        _install()
    except ImportError:
        pass

"""Counts the SQL a process sends, for the benchmark's "database statements per project".

PostgreSQL's pg_stat_statements is often not loaded, and pg_stat_database
counts every client of the database (other jobs too). So each ytmaker worker
started by the benchmark has this directory on PYTHONPATH: Python imports
``sitecustomize`` at start-up, which hooks SQLAlchemy's engine events and
writes cumulative counts to ``$BENCH_SQL_COUNT_DIR/<pid>.json`` four times a
second (and when ``flush()`` is called, by a process about to exit). Nothing
happens without that variable.

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
    _file_lock = threading.Lock()  # the writer thread and an exiting process's flush() share the file
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

        while True:
            time.sleep(0.25)
            flush()

    def flush() -> None:
        """Write this process's counts now (a process about to exit: Celery's recycled children)."""
        if _writer_pid[0] != os.getpid():
            return  # nothing counted in this process
        path = os.path.join(_DIR, f"{os.getpid()}.json")
        with _lock:
            data = json.dumps(_counts)
        with _file_lock:
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

    class _AfterSqlalchemy:
        """Installs the listeners once the process itself imports SQLAlchemy, so a process that never
        does (Dramatiq's parent) is not made to load it: it would inflate the RSS the benchmark measures."""

        def find_spec(self, name, path=None, target=None):
            if name != "sqlalchemy":
                return None
            import importlib.util
            import sys

            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(name)
            if spec is None or spec.loader is None:
                return spec
            exec_module = spec.loader.exec_module

            def exec_then_install(module) -> None:
                exec_module(module)
                _install()

            spec.loader.exec_module = exec_then_install
            return spec

    import sys as _sys

    if "sqlalchemy" in _sys.modules:
        _install()
    else:
        _sys.meta_path.insert(0, _AfterSqlalchemy())


# bench/orchestration/memory.py: each process (forked ones too) writes the names of its imported modules to
# ``$BENCH_MODULES_DIR/<pid>.modules`` once a second while that list grows. Nothing happens without the variable.
_MODULES_DIR = os.environ.get("BENCH_MODULES_DIR")

if _MODULES_DIR:
    import sys
    import threading as _threading

    def _dump_modules_forever() -> None:
        import time

        written = 0
        while True:
            names = sorted(sys.modules)
            if len(names) != written:
                path = os.path.join(_MODULES_DIR, f"{os.getpid()}.modules")
                with open(f"{path}.tmp", "w") as handle:
                    handle.write("\n".join(names))
                os.replace(f"{path}.tmp", path)
                written = len(names)
            time.sleep(1.0)

    def _start_dumping() -> None:
        _threading.Thread(target=_dump_modules_forever, name="bench-modules", daemon=True).start()

    _start_dumping()
    os.register_at_fork(after_in_child=_start_dumping)

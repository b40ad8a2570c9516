"""Private servers for outage tests and the report: never the machine's own PostgreSQL or Redis."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.chaos.conftest import _free_port


class PrivatePostgres:
    """A throwaway PostgreSQL cluster (initdb, pg_ctl) on its own port: never the machine's own server."""

    def __init__(self) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        binaries = found[-1].parent if found else (Path(shutil.which("pg_ctl") or "").parent if shutil.which("pg_ctl") else None)
        if binaries is None:
            raise FileNotFoundError("a private PostgreSQL needs initdb and pg_ctl")
        self.bin = binaries
        self.folder = Path(tempfile.mkdtemp(prefix="ytmaker-pg-"))
        self.port = _free_port(6490)
        self.prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.prefix:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.folder / "data"), "-A", "trust", "-U", "postgres", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.prefix, str(self.bin / tool), *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-l", str(self.folder / "log"), "-w", "-t", "60",
                  "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)

    def stop_fast(self) -> None:
        """Stop as an operator or a failover does: sessions are ended, the server goes away."""
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")

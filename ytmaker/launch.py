"""`ytmaker up`: the Procfile's workers, started with this installation's commands, activated or not.

The Procfile names ``dramatiq`` and ``periodiq``; honcho runs each line with
``sh -c``, so they must be on the PATH, which they are not when the
virtualenv is not activated (``.venv/bin/honcho start`` then fails with rc
127 on every line). ``ytmaker up`` puts the directory of the Python running
it (the virtualenv's ``bin``) first on the PATH and execs honcho, or the
command given after ``--``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from ytmaker.errors import InvalidInput


def environment() -> dict[str, str]:
    """This process's environment with the running Python's own ``bin`` first on the PATH (symlinks kept: a venv's python is one)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def exec_up(command: list[str] | None = None) -> None:
    """Replace this process with ``command`` (default: ``honcho start``, the Procfile) on :func:`environment`."""
    argv = command or ["honcho", "start"]
    env = environment()
    found = shutil.which(argv[0], path=env["PATH"])
    if found is None:
        hint = " (pip install honcho, or install with the [test] extra)" if argv[0] == "honcho" else ""
        raise InvalidInput(f"{argv[0]} not found next to {sys.executable} nor on the PATH{hint}")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(found, argv, env)

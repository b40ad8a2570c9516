"""Faults a chaos worker plays, loaded next to the actors: ``dramatiq ytmaker.actors tests.chaos.faults``.

The worker is the real one; only its providers' calls are slowed down,
held open or made to fail, as the environment asks:

- ``CHAOS_DELAY_<STAGE>_MS``: each provider call of the stage (script,
  images, audio, upload) takes this long first, so a test can kill the worker
  while the stage is open. Upload waits *after* the video reached the target:
  the window in which a crash could publish twice.
- ``CHAOS_KILL_AFTER_SEND=<stage>``: the first worker that sends a follow-up
  from that stage SIGKILLs itself right after the send, before the ack.
- ``CHAOS_PG_DROP=<point>,...``: a chosen write's PostgreSQL connection is
  terminated just before it is sent, once per project (tests.chaos.pg_faults).
- ``CHAOS_DIR``: where the once-only markers live, and ``calls-<stage>``, one
  line per provider call of the stage that started: what a test waits on to
  act while a call is open.
"""

from __future__ import annotations

import os
import signal
import time
from functools import cached_property

from tests.chaos import pg_faults
from ytmaker import recovery
from ytmaker.graph import successors
from ytmaker.pipelines import dispatch, flow
from ytmaker.providers.registry import Providers


def _delay(stage: str) -> None:
    with open(os.path.join(os.environ["CHAOS_DIR"], f"calls-{stage}"), "a") as calls:
        calls.write("started\n")
    remaining = int(os.environ.get(f"CHAOS_DELAY_{stage.upper()}_MS", "0")) / 1000
    while remaining > 0:  # short sleeps: Dramatiq's time limit and shutdown notice land between them
        time.sleep(min(0.05, remaining))
        remaining -= 0.05


def once(name: str) -> bool:
    """True for the first caller across every worker process, False after."""
    try:
        os.close(os.open(os.path.join(os.environ["CHAOS_DIR"], name), os.O_CREAT | os.O_EXCL))
        return True
    except FileExistsError:
        return False


class Slowed:
    def __init__(self, inner, stage: str, after: bool = False) -> None:
        self.inner, self.stage, self.after = inner, stage, after

    def __getattr__(self, name):
        target = getattr(self.inner, name)
        if not callable(target):
            return target

        def call(*args, **kwargs):
            if not self.after:
                _delay(self.stage)
            result = target(*args, **kwargs)
            if self.after:
                _delay(self.stage)
            return result

        return call


def _wrap(name: str, stage: str) -> None:
    original = getattr(Providers, name)

    def wrapped(self):
        return Slowed(original.func(self), stage)

    wrapped.__name__ = name
    prop = cached_property(wrapped)
    prop.__set_name__(Providers, name)
    setattr(Providers, name, prop)


_wrap("script_writer", "script")
_wrap("images", "images")
_wrap("speech", "audio")
_publisher = Providers.publisher
Providers.publisher = lambda self, target: Slowed(_publisher(self, target), "upload", after=True)

_send = dispatch.send_stage


def _send_then_die(rt, stage: str, project_id: str) -> None:
    _send(rt, stage, project_id)
    after = os.environ.get("CHAOS_KILL_AFTER_SEND")
    if after and stage in _followers(after) and once(f"kill-after-send-{after}"):
        os.kill(os.getpid(), signal.SIGKILL)


def _followers(stage: str) -> set[str]:
    return set(successors(stage))


flow.send_stage = recovery.send_stage = _send_then_die
pg_faults.install(once)

"""Progress in this process: the Redis store's rules on a dict of hashes, for embedded mode.

Updates are applied at once under one lock (there is no round trip to save),
so ``flush`` has nothing to do and every read sees every earlier update.
Subscriptions are fed in-process, in the order the updates were applied.
Hashes live as long as the process: embedded mode runs a handful of projects.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from ytmaker.progress.base import TERMINAL_STATUSES, Change, ProgressStore, overall

#: Snapshots a subscription keeps for a reader that falls behind; older ones are dropped
#: (each snapshot is the whole hash, so the newest says everything).
DEFAULT_BACKLOG = 1000


class MemoryProgressStore(ProgressStore):
    """Progress hashes in a dict, readable by this process only; ``weights`` share out the project's 100."""

    def __init__(self, *, weights: dict[str, int]) -> None:
        self._weights = dict(weights)
        self._hashes: dict[str, dict[str, str]] = {}
        self._subscriptions: dict[str, set[MemorySubscription]] = {}
        self._listeners: list[Callable[[str, dict[str, str]], None]] = []
        self._lock = threading.Lock()

    def _apply(self, project_id: str, change: Change) -> None:
        with self._lock:
            if change.reset:
                dropped = self._hashes.pop(project_id, {})
                self._hashes[project_id] = {"seq": dropped["seq"]} if "seq" in dropped else {}
            current = self._hashes.get(project_id, {})
            if current.get("status") in TERMINAL_STATUSES and not change.final:
                return
            self._hashes[project_id] = current
            current["seq"] = str(int(current.get("seq", "0")) + 1)
            current.update(change.fields)
            if change.stage and change.figure is not None:
                figure = change.figure
                current.update({"stage": change.stage, "stage_progress": figure, "p:" + change.stage: figure})
                current["progress"] = overall(self._weights, current)
            for subscription in self._subscriptions.get(project_id, ()):
                subscription._put(dict(current))
            for listener in self._listeners:
                listener(project_id, dict(current))

    def flush(self) -> None:
        """Nothing to do: every update is on record when ``update`` returns."""

    def clear_error(self, project_id: str) -> None:
        with self._lock:
            self._hashes.get(project_id, {}).pop("error", None)

    def get(self, project_id: str) -> dict[str, str]:
        with self._lock:
            return dict(self._hashes.get(project_id, {}))

    def subscribe(self, project_id: str) -> MemorySubscription:
        subscription = MemorySubscription(self, project_id)
        with self._lock:
            self._subscriptions.setdefault(project_id, set()).add(subscription)
        return subscription

    def listen(self, callback: Callable[[str, dict[str, str]], None]) -> Callable[[], None]:
        """Call ``callback(project_id, snapshot)`` after every applied update of any project; returns the undo.

        The callback runs in the writer's thread under the store's lock: it must only hand the
        snapshot over (the HTTP service's hub posts it to its event loop).
        """
        with self._lock:
            self._listeners.append(callback)

        def stop() -> None:
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return stop

    def _unsubscribe(self, subscription: MemorySubscription) -> None:
        with self._lock:
            subscribers = self._subscriptions.get(subscription.project_id)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._subscriptions[subscription.project_id]


class MemorySubscription:
    """Snapshots of one project's hash, handed over by the store that applied them."""

    def __init__(self, store: MemoryProgressStore, project_id: str, *, backlog: int = DEFAULT_BACKLOG) -> None:
        self.project_id = project_id
        self._store = store
        self._snapshots: deque[dict[str, str]] = deque(maxlen=backlog)
        self._ready = threading.Condition()

    def _put(self, snapshot: dict[str, str]) -> None:
        with self._ready:
            self._snapshots.append(snapshot)
            self._ready.notify_all()

    def get(self, timeout_s: float) -> dict[str, str] | None:
        deadline = time.monotonic() + timeout_s
        with self._ready:
            while not self._snapshots:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._ready.wait(remaining)
            return self._snapshots.popleft()

    def close(self) -> None:
        self._store._unsubscribe(self)
        with self._ready:
            self._snapshots.clear()

"""The pipeline as one table: a row per stage, and everything else derived from it.

    script ─┬─ images  ─┐
            ├─ audio   ─┼─ render ── thumbnail ── upload
            └─ avatars ─┘

A row names the stage, what it waits for, its actor and queue, the project
status it sets, its share of the progress bar and its retry policy. The
actor and queue maps, progress weights, retry settings (``YTMAKER_<GROUP>_*``
overrides them, see ``ytmaker.config``) and the stage functions
(``ytmaker.stages.<name>.run``) all come from here: adding a stage is one row
plus its module. ``parts`` are the stage's helper actors (a fanned-out
image, a check-back poll); they run on the stage's queue under its policy.
"""

from __future__ import annotations

from dataclasses import dataclass

from ytmaker.statuses import ProjectStatus

MINUTE_MS = 60_000


@dataclass(frozen=True)
class RetryPolicy:
    """Defaults of a policy group: transient failures retried ``max_retries`` times, ``backoff_ms`` doubling."""

    group: str
    max_retries: int
    backoff_ms: int
    time_limit_ms: int = 30 * MINUTE_MS


@dataclass(frozen=True)
class Stage:
    name: str
    depends_on: tuple[str, ...]
    actor: str
    queue: str
    status: ProjectStatus
    weight: int  # share of the project's progress; the weights sum to 100
    policy: RetryPolicy
    parts: tuple[str, ...] = ()


_ASSETS = RetryPolicy("assets", max_retries=3, backoff_ms=MINUTE_MS)

TABLE: tuple[Stage, ...] = (
    Stage("script", (), "generate_script", "scripts", ProjectStatus.SCRIPT_GENERATING, 10,
          RetryPolicy("script", max_retries=3, backoff_ms=MINUTE_MS)),
    Stage("images", ("script",), "generate_images", "assets", ProjectStatus.ASSETS_GENERATING, 20, _ASSETS,
          parts=("generate_segment_image",)),
    Stage("audio", ("script",), "generate_audio", "assets", ProjectStatus.ASSETS_GENERATING, 20, _ASSETS),
    Stage("avatars", ("script",), "generate_avatars", "assets", ProjectStatus.ASSETS_GENERATING, 10, _ASSETS,
          parts=("poll_avatar",)),
    Stage("render", ("images", "audio", "avatars"), "render_video", "render", ProjectStatus.RENDERING, 30,
          RetryPolicy("render", max_retries=2, backoff_ms=2 * MINUTE_MS)),
    Stage("thumbnail", ("render",), "generate_thumbnail", "render", ProjectStatus.THUMBNAIL_GENERATING, 4,
          RetryPolicy("thumbnail", max_retries=2, backoff_ms=MINUTE_MS)),
    Stage("upload", ("thumbnail",), "upload_to_youtube", "upload", ProjectStatus.UPLOADING, 6,
          RetryPolicy("upload", max_retries=3, backoff_ms=5 * MINUTE_MS)),
)

STAGES: tuple[str, ...] = tuple(row.name for row in TABLE)
_BY_NAME = {row.name: row for row in TABLE}
#: actor name -> (its stage, whether it is one of the stage's parts)
_BY_ACTOR = {**{row.actor: (row, False) for row in TABLE}, **{part: (row, True) for row in TABLE for part in row.parts}}


def stage(name: str) -> Stage:
    return _BY_NAME[name]


def stage_of_actor(actor_name: str) -> tuple[str, bool] | None:
    """(stage name, is a part) of an actor of the table; None for other actors (periodic jobs)."""
    found = _BY_ACTOR.get(actor_name)
    return (found[0].name, found[1]) if found else None


def queue_of_actor(actor_name: str) -> str:
    return _BY_ACTOR[actor_name][0].queue


def queues() -> list[str]:
    return sorted({row.queue for row in TABLE})


def weights() -> dict[str, int]:
    return {row.name: row.weight for row in TABLE}


def policy_groups() -> dict[str, RetryPolicy]:
    """Each policy group's defaults once (the asset stages share one group)."""
    return {row.policy.group: row.policy for row in TABLE}


def ready(done: set[str], claimed: set[str]) -> list[str]:
    """Stages whose predecessors are all done and that nobody has claimed yet, in pipeline order."""
    return [row.name for row in TABLE if row.name not in claimed and all(d in done for d in row.depends_on)]


def successors(name: str) -> list[str]:
    return [row.name for row in TABLE if name in row.depends_on]


def status_for(name: str | None) -> ProjectStatus:
    """The project's status while ``name`` runs (queued before any stage)."""
    return _BY_NAME[name].status if name else ProjectStatus.QUEUED


assert sum(weights().values()) == 100, "stage weights must sum to 100"
assert all(d in _BY_NAME for row in TABLE for d in row.depends_on), "a stage depends on an unknown stage"

"""A stage's files and asset records: write to a temporary name, rename, then record (so a retry skips what is done)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ytmaker.db.models import Asset
from ytmaker.media.render import Timeline, segment_durations, timeline
from ytmaker.runtime import Runtime

log = structlog.get_logger(__name__)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def temp_path(final: Path) -> Path:
    """A sibling name to write to before the atomic rename into ``final``.

    The temporary files of earlier attempts at ``final`` whose process is gone
    (a SIGKILLed worker cannot clean up after itself) are removed first.
    """
    sweep_temp(final)
    return final.with_name(f".{final.stem}.{os.getpid()}.{time.monotonic_ns()}.tmp{final.suffix}")


def sweep_temp(final: Path) -> list[Path]:
    """Remove the temporary files (and their side files and folders) left for ``final`` by processes that no longer run."""
    pattern = re.compile(rf"^\.{{1,2}}{re.escape(final.stem)}\.(\d+)\.\d+\.tmp")
    removed: list[Path] = []
    try:
        candidates = list(final.parent.iterdir())
    except FileNotFoundError:
        return removed
    for path in candidates:
        match = pattern.match(path.name)
        if match and not _alive(int(match.group(1))):
            if path.is_dir() and not path.is_symlink():  # a render's helper folder (media.render.helper_dir)
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def existing_assets(rt: Runtime, project_id: str, kind: str) -> dict[int, Asset]:
    """Assets already recorded whose files are still there, by segment index."""
    with rt.db.single() as session:
        assets = session.scalars(select(Asset).where(Asset.project_id == project_id, Asset.kind == kind)).all()
    present = {}
    for asset in assets:
        if rt.path(asset.path).exists():
            present[asset.segment_index] = asset
        else:  # the file went missing: forget it so it is made again
            with rt.db.single() as session:
                session.execute(delete(Asset).where(Asset.id == asset.id))
    return present


def video_timeline(rt: Runtime, project_id: str, count: int) -> Timeline | None:
    """The rendered video's segments in time, as the render laid them out from the narrations (each with its pause,
    rounded to frames on the whole timeline); None while a narration is missing."""
    audio = existing_assets(rt, project_id, "audio")
    if any(i not in audio or not audio[i].duration_ms for i in range(count)):
        return None
    return timeline(segment_durations([(audio[i].duration_ms or 0) / 1000 for i in range(count)]))


def record_asset(rt: Runtime, project_id: str, kind: str, index: int, path: Path, **extra: Any) -> None:
    """Insert the asset row; a concurrent duplicate of the same segment is already there and wins."""
    row = Asset(project_id=project_id, kind=kind, segment_index=index, path=rt.relative(path), checksum=sha256(path), **extra)
    try:
        with rt.db.single() as session:  # one INSERT
            session.add(row)
    except IntegrityError:
        log.info("asset_already_recorded", project_id=project_id, kind=kind, index=index)

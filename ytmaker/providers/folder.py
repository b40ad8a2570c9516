"""Publishing to a folder: ``<data dir>/published/<slug>-<id8>/`` with video, thumbnail, metadata.json.

The folder appears whole or not at all (built beside it, then renamed), and
publishing the same project again finds it and returns it: never a second copy.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from ytmaker.providers.base import PublishRequest, PublishResult
from ytmaker.text import slugify


class FolderPublisher:
    target = "folder"

    def __init__(self, root: Path) -> None:
        self.root = root

    def close(self) -> None:
        """Nothing to release: the folder publisher holds no connection."""

    def folder_for(self, request: PublishRequest) -> Path:
        return self.root / f"{slugify(request.title)}-{request.project_id[:8]}"

    def publish(self, request: PublishRequest) -> PublishResult:
        final = self.folder_for(request)
        result = PublishResult(remote_id=final.name, url=final.resolve().as_uri())
        if (final / "metadata.json").exists():
            return result
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".staging-{request.project_id}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        shutil.copyfile(request.video, staging / "video.mp4")
        if request.thumbnail:
            shutil.copyfile(request.thumbnail, staging / "thumbnail.jpg")
        metadata = {
            "project_id": request.project_id,
            "title": request.title,
            "description": request.description,
            "tags": request.tags,
            "language": request.language,
            "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        (staging / "metadata.json").write_text(json.dumps(metadata, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(staging, final)
        return result

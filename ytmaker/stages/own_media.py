"""The images stage's side of a project's own media: its ``media`` folder, when it has one, gives the pictures."""

from __future__ import annotations

from pathlib import Path

from ytmaker.db.models import Project, Script
from ytmaker.providers.own_media import IMAGE_SUFFIXES, OwnMedia, assign, scan
from ytmaker.runtime import Runtime


def folder(rt: Runtime, project_id: str) -> Path:
    """Where ``ytmaker make --media`` put the project's files."""
    return rt.project_dir(project_id) / "media"


def for_project(rt: Runtime, project: Project, script: Script) -> OwnMedia | None:
    """The project's own media as a footage provider, or None when it has none (the configured provider draws)."""
    media = folder(rt, project.id)
    if not media.is_dir():
        return None
    texts = [f"{s.get('headline') or ''} {s['narration']}" for s in script.segments]
    return OwnMedia(assign(scan(media), texts), media / ".taken")


__all__ = ["IMAGE_SUFFIXES", "folder", "for_project"]

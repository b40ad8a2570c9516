"""Data model and database access."""

from ytmaker.db.models import (
    Asset,
    Base,
    Project,
    ProjectStatus,
    Publication,
    Script,
    StageRun,
    StageStatus,
    Thumbnail,
    Video,
)
from ytmaker.db.session import Database

__all__ = [
    "Asset", "Base", "Database", "Project", "ProjectStatus", "Publication", "Script",
    "StageRun", "StageStatus", "Thumbnail", "Video",
]

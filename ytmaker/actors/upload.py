"""Actor of stage 5 (queue ``upload``)."""

import dramatiq

from ytmaker import stages
from ytmaker.runtime import get_runtime


@dramatiq.actor(queue_name="upload", stage="upload")
def upload_to_youtube(project_id: str) -> None:
    stages.upload_to_youtube(get_runtime(), project_id)

"""Moving projects through the stage table: ``start_generation``, the fan-in on stage records, cancel and retry."""

from ytmaker.pipelines.control import cancel_project, retry_project
from ytmaker.pipelines.flow import start_generation

__all__ = ["cancel_project", "retry_project", "start_generation"]

"""Composition of the stages: ``start_generation(project_id)`` and the fan-in on stage records."""

from ytmaker.pipelines.flow import cancel_project, retry_project, start_generation

__all__ = ["cancel_project", "retry_project", "start_generation"]

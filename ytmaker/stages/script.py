"""Stage 1: the script (title, description, tags, segments) from the project's text."""

from __future__ import annotations

from ytmaker.db.models import Script, StageStatus
from ytmaker.errors import PermanentError
from ytmaker.providers.base import ScriptRequest
from ytmaker.runtime import Runtime
from ytmaker.stages.runner import StageContext, run_stage


def run(rt: Runtime, project_id: str) -> StageStatus | None:
    return run_stage(rt, "script", project_id, _write)


def _write(ctx: StageContext) -> StageStatus:
    rt, project = ctx.rt, ctx.project
    with rt.db.single() as session:
        if session.get(Script, project.id) is not None:
            return StageStatus.SUCCEEDED
    ctx.report(0, "writing the script")
    request = ScriptRequest(
        content=project.content,
        title=project.title,
        language=project.language,
        prompt_template=project.prompt_template,
        model=project.llm_model,
        max_segments=rt.settings.max_segments,
        max_duration_s=project.max_duration_s,
    )
    draft = rt.providers.script_writer.write(request, ctx.report)
    ctx.check_cancelled()
    with rt.db.session() as session:
        if session.get(Script, project.id) is None:
            session.add(Script(
                project_id=project.id,
                title=draft.title,
                description=draft.description,
                tags=draft.tags,
                segments=[segment.model_dump() for segment in draft.segments],
            ))
    ctx.report(100, f"script: {len(draft.segments)} segments")
    return StageStatus.SUCCEEDED


def load_script(rt: Runtime, project_id: str) -> Script:
    with rt.db.single() as session:
        script = session.get(Script, project_id)
    if script is None:
        raise PermanentError("the project has no script yet; run `ytmaker retry` to regenerate it")
    return script

"""What every LLM script writer shares: the text cut to a budget, the script's schema, the answer parsed, the repair prompt.

The Gemini writer (ytmaker.providers.gemini) and the OpenAI-compatible one
(ytmaker.providers.openai_chat) ask with the same prompt templates
(ytmaker.providers.prompts) and read the answer here, so a model's unusable
answer is judged the same way whoever served it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from pydantic import Field, ValidationError, create_model

from ytmaker.errors import InvalidInput
from ytmaker.providers.base import Report, ScriptRequest
from ytmaker.script import ScriptDraft, Segment

#: The second turn after an unusable answer (one repair round, then the stage fails).
REPAIR = """Your previous answer could not be used: {reason}
Answer again with the complete, corrected JSON object only, matching the response schema.
Keep the content; fix the structure (close every string, array and object; no trailing text)."""


def fit_text(content: str, budget: int) -> tuple[str, bool]:
    """``content`` cut to at most ``budget`` characters at a sentence boundary, and whether it was cut."""
    if len(content) <= budget:
        return content, False
    cut = content[:budget]
    ends = [m.end() for m in re.finditer(r"[.!?…。！？](?=[\"')\]]*\s)|[。！？]|\n\s*\n", cut)]
    if ends and ends[-1] > budget // 2:
        cut = cut[: ends[-1]]
    return cut.rstrip(), True


def prompt_for(request: ScriptRequest, input_chars: int, report: Report) -> str:
    """The writer's prompt for ``request``: its cleaned text fitted to ``input_chars`` (said when cut) in the template."""
    from ytmaker import text as t
    from ytmaker.providers.prompts import render_prompt

    content, truncated = fit_text(t.clean(request.content), input_chars)
    if not content:
        raise InvalidInput("the text has no words to narrate; give ytmaker some prose")
    if truncated:
        report(5, f"text cut to {len(content):,} characters for the model")
    return render_prompt(request.prompt_template, content=content, title=request.title, language=request.language,
                         max_segments=request.max_segments, truncated=truncated, max_duration_s=request.max_duration_s)


def draft_or_repair(answer: str, finish: str, *, repair: Callable[[str, str], tuple[str, str]], model: str,
                    max_segments: int, report: Report) -> ScriptDraft:
    """The script in ``answer``; when unusable, one repair round (``repair(answer, request)`` asks the model again
    with its answer and ``request`` and returns the new answer and finish reason), then at most ``max_segments``."""
    try:
        draft = parse_draft(answer, finish)
    except InvalidInput as first:
        report(60, "the model's JSON was unusable; asking it to repair it")
        answer, finish = repair(answer, REPAIR.format(reason=first))
        try:
            draft = parse_draft(answer, finish)
        except InvalidInput as second:
            raise InvalidInput(f"{model} returned an unusable script twice (after one repair attempt): "
                               f"{second}. Try again, or another model or prompt template") from None
    if len(draft.segments) > max_segments:
        draft = draft.model_copy(update={"segments": draft.segments[:max_segments]})
    report(90, f"{len(draft.segments)} segments written")
    return draft


def script_model(max_segments: int) -> type[ScriptDraft]:
    """The script model with this request's segment limit (the response schema)."""
    return create_model("ScriptDraft", __base__=ScriptDraft,
                        segments=(list[Segment], Field(min_length=1, max_length=max(1, max_segments))))


def json_schema(max_segments: int) -> dict[str, Any]:
    """The script's JSON Schema as OpenAI's strict structured outputs want it: every property required, no extras."""
    schema = script_model(max_segments).model_json_schema()

    def strict(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                node["additionalProperties"] = False
            for value in node.values():
                strict(value)
        elif isinstance(node, list):
            for value in node:
                strict(value)

    strict(schema)
    return schema


def parse_draft(answer: str, finish: str) -> ScriptDraft:
    """The draft in ``answer``, or InvalidInput saying why it cannot be used (``finish``: the model's stop reason)."""
    if not answer.strip():
        raise InvalidInput(f"the answer was empty (finish reason {finish or 'unknown'})")
    body = answer.strip()
    if body.startswith("```"):  # a fenced block despite the JSON mode
        body = re.sub(r"^```[a-zA-Z]*\s*|\s*```$", "", body)
    elif not body.startswith("{") and "{" in body:  # prose around the object (a server with no JSON mode)
        body = body[body.index("{"): body.rindex("}") + 1] if "}" in body else body[body.index("{"):]
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        cut = " (cut off: the output limit was reached)" if finish in ("MAX_TOKENS", "length") else ""
        raise InvalidInput(f"the answer is not valid JSON{cut}: {exc.msg} at character {exc.pos}") from None
    try:
        return ScriptDraft.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in exc.errors()[:5])
        raise InvalidInput(f"the JSON does not match the script schema: {problems}") from None

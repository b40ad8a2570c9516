"""Offline script writer: turns the text itself into a script, sentence-aware for English and Chinese."""

from __future__ import annotations

from ytmaker import text as t
from ytmaker.errors import InvalidInput
from ytmaker.providers.base import Report, ScriptRequest
from ytmaker.script import ScriptDraft, Segment

#: A segment's narration: a few sentences, about 15 s of speech.
SEGMENT_UNITS = 40


class OfflineScriptWriter:
    """Cleans the text, groups its sentences into segments and derives title, description and tags.

    It narrates the author's own sentences (no invented content), so it is
    immune to text that tries to instruct an LLM.
    """

    def write(self, request: ScriptRequest, report: Report) -> ScriptDraft:
        prose = t.clean(request.content)
        sentences = [piece for s in t.sentences(prose) for piece in t.split_long(s, SEGMENT_UNITS)]
        sentences = [s for s in sentences if t.units(s) > 0]
        if not sentences:
            raise InvalidInput("the text has no words to narrate; give ytmaker some prose")
        report(30, f"{len(sentences)} sentences found")
        groups: list[list[str]] = []
        for sentence in sentences:
            if groups and t.units(" ".join(groups[-1] + [sentence])) <= SEGMENT_UNITS:
                groups[-1].append(sentence)
            else:
                groups.append([sentence])
        truncated = len(groups) > request.max_segments
        groups = groups[: request.max_segments]
        cjk = t.is_cjk(prose)
        joiner = "" if cjk else " "
        segments = [
            Segment(narration=joiner.join(group), image_description=self._describe(group, request.language))
            for group in groups
        ]
        report(80, f"{len(segments)} segments written")
        title = t.truncate(request.title or t.clean(sentences[0]).rstrip(".!?。！？"), 100)
        summary = t.truncate(joiner.join(sentences[:2]), 400)
        note = f"\n\n(The first {len(groups)} parts of a longer text.)" if truncated else ""
        description = f"{summary}{note}\n\nMade with ytmaker."
        tags = t.keywords(prose, 10)
        return ScriptDraft(title=title, description=description, tags=tags, segments=segments)

    @staticmethod
    def _describe(group: list[str], language: str) -> str:
        words = t.keywords(" ".join(group), 5)
        focus = ", ".join(words) if words else t.truncate(group[0], 60)
        return t.truncate(f"An illustration of {focus}. Context: {group[0]}", 900)

"""Offline script writer: turns the text itself into a script, sentence-aware for English and Chinese.

The title is the author's: ``--title``, else a first line that is a heading (Markdown ``#`` or a
short line without final punctuation followed by a blank line). Either one becomes segment 0, a
title segment: its narration is the title said as a sentence on its own (the render's pause
follows it) and its headline is the title, so its slide is a title card. A text without a title
gets a short one (its first clause, else its top keyphrase) shown on the first segment's slide,
and not said twice. Later headings start a segment and are its headline.

With a length (``max_duration_s``), the writer keeps whole segments: the opening one, then the
most central ones (those that share most of the text's keyphrases) while they fit, in text order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ytmaker import text as t
from ytmaker.errors import InvalidInput
from ytmaker.keyphrases import MAX_CJK_CHARS, Keyphrases, cjk_topic
from ytmaker.media.pacing import SPEECH_MARGIN, video_seconds
from ytmaker.providers.base import Report, ScriptRequest
from ytmaker.script import ScriptDraft, Segment

#: A segment's narration: a few sentences, about 15 s of speech.
SEGMENT_UNITS = 40
#: a title made from the text: at most this many characters (Latin, CJK)
TITLE_CHARS = 60
TITLE_CJK_CHARS = 16
#: two sentences that meet so are joined without a space
_CJK_END = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af。！？；：，、”’）》」』…]")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af“‘（《「『]")


@dataclass
class _Group:
    sentences: list[str] = field(default_factory=list)
    headline: str | None = None  # the author's heading that starts it


class OfflineScriptWriter:
    """Cleans the text, groups its sentences into segments and derives title, description, headlines and tags.

    It narrates the author's own sentences (no invented content), so it is
    immune to text that tries to instruct an LLM.
    """

    def write(self, request: ScriptRequest, report: Report) -> ScriptDraft:
        parts = t.sections(request.content)
        title = request.title
        if title is None and parts and parts[0].heading:  # a first heading is the title, not a sentence
            title, parts[0] = parts[0].heading, t.Section(None, parts[0].body)
        groups = [g for part in parts for g in _group(part)]
        if not groups:
            raise InvalidInput("the text has no words to narrate; give ytmaker some prose")
        report(30, f"{sum(len(g.sentences) for g in groups)} sentences found")
        cjk = t.is_cjk(" ".join(s for g in groups for s in g.sentences))
        narrations = [_joined(g.sentences) for g in groups]
        phrases = Keyphrases(narrations)
        spoken_title = title  # the author's title is said; one made from the text is only shown
        title = t.truncate(title or _short_title(groups[0].sentences[0], phrases, cjk), 100)
        said = [t.speech_seconds(spoken_title) * SPEECH_MARGIN] if spoken_title else []  # the title, said first
        seconds = [t.speech_seconds(n) * SPEECH_MARGIN for n in narrations]
        kept = _select(seconds, phrases, request.max_duration_s, said)
        shortened = len(kept) < len(groups)
        room = request.max_segments - (1 if spoken_title else 0)
        capped = len(kept) > room
        kept = kept[: max(1, room)]

        segments = []
        if spoken_title:
            focus = phrases.top(4)
            segments.append(Segment(narration=_as_sentence(spoken_title, t.is_cjk(spoken_title)), headline=title,
                                    image_description=_describe(title, focus, title)))
        used = [title]
        for n, i in enumerate(kept):
            headline = groups[i].headline or (title if n == 0 and not spoken_title else phrases.headline(i, used))
            headline = headline or t.truncate(narrations[i], MAX_CJK_CHARS + 2 if t.is_cjk(narrations[i]) else 40)
            used.append(headline)
            focus = list(dict.fromkeys(p.text for p in phrases.segments[i]))[:4]
            segments.append(Segment(narration=narrations[i], headline=t.truncate(headline, 100),
                                    image_description=_describe(headline, focus, groups[i].sentences[0])))
        report(80, f"{len(segments)} segments written")

        # the opening prose: a section's heading, said as its first sentence, is no summary ("Roads before cars.")
        prose = [s for g in groups for s in (g.sentences[1:] if g.headline else g.sentences)]
        summary = t.truncate(_joined((prose or groups[0].sentences)[:2]), 400)
        notes = []
        if shortened:
            total = video_seconds(said + [seconds[i] for i in kept])
            notes.append(f"（内容已缩短为约 {total:.0f} 秒：原文 {len(groups)} 部分中的 {len(kept)} 部分。）" if cjk else
                         f"(Shortened to about {total:.0f} s: {len(kept)} of the text's {len(groups)} parts.)")
        if capped:
            notes.append(f"（长文的前 {len(kept)} 部分。）" if cjk else f"(The first {len(kept)} parts of a longer text.)")
        note = "".join(f"\n\n{n}" for n in notes)
        description = f"{summary}{note}\n\n{'由 ytmaker 制作。' if cjk else 'Made with ytmaker.'}"
        return ScriptDraft(title=title, description=description, tags=phrases.top(10), segments=segments)


def _joined(sentences: list[str]) -> str:
    """Sentences as one narration: no space between two Chinese ones, a space otherwise, whatever the project's
    main language (an English paragraph in a Chinese text keeps its spaces)."""
    out = ""
    for sentence in sentences:
        out += ("" if not out or (_CJK_END.match(out[-1]) and _CJK.match(sentence)) else " ") + sentence
    return out


def _group(part: t.Section) -> list[_Group]:
    """A section's sentences in segments of about SEGMENT_UNITS; a heading opens the first one and is its headline.

    A paragraph starts a segment (so a segment keeps to one topic) unless the segment before it is short and in the
    same language (so a segment has one main language, which its headline and voice follow).
    """
    paragraphs = [[piece for s in t.sentences(p) for piece in t.split_long(s, SEGMENT_UNITS) if t.units(piece) > 0]
                  for p in re.split(r"\n\s*\n", t.clean(part.body))]
    if part.heading:
        paragraphs.insert(0, [_as_sentence(part.heading, t.is_cjk(part.heading))])
    groups: list[_Group] = []
    for paragraph in paragraphs:
        for k, sentence in enumerate(paragraph):
            if groups:
                units = t.units(" ".join(groups[-1].sentences + [sentence]))
                # a short paragraph joins the next one, unless they are in different languages (a segment has one)
                joins = units <= SEGMENT_UNITS and (k > 0 or (t.units(" ".join(groups[-1].sentences)) < SEGMENT_UNITS // 2
                                                              and t.is_cjk(groups[-1].sentences[-1]) == t.is_cjk(sentence)))
                if joins:
                    groups[-1].sentences.append(sentence)
                    continue
            groups.append(_Group([sentence]))
    if groups and part.heading:
        groups[0].headline = part.heading
    return groups


def _select(seconds: list[float], phrases: Keyphrases, limit: float | None, before: list[float]) -> list[int]:
    """The segments (``seconds`` of speech each) to keep in a video of at most ``limit`` seconds, pauses and tail
    included, after the narrations ``before`` them: the opening one, then the most central that fit, in text order."""
    if limit is None or video_seconds(before + seconds) <= limit:
        return list(range(len(seconds)))
    kept = [0]
    for i in sorted(range(1, len(seconds)), key=lambda i: (-phrases.centrality(i), i)):
        if video_seconds(before + [seconds[k] for k in kept] + [seconds[i]]) <= limit:
            kept.append(i)
    return sorted(kept)


#: a clause's head before its first conjunction, at least three words: a title cut where the sentence turns
_BEFORE_CONJUNCTION = re.compile(r"^(\S+(?:\s+\S+){2,}?)\s+(?:because|although|though|while|whereas|when|since|after|"
                                 r"before|until|unless|if|so|which|who|that|but|and)\s", re.IGNORECASE)


def _short_title(opening: str, phrases: Keyphrases, cjk: bool) -> str:
    """A title for a text without one: its first clause when that is short (cut before a conjunction when it is not;
    in Chinese, the topic before 是), else its top keyphrase."""
    clause = t.first_clause(opening)
    limit = TITLE_CJK_CHARS if cjk else TITLE_CHARS
    if not cjk and len(clause) > limit:  # "Solar panels got cheap | because factories learned to…"
        head = _BEFORE_CONJUNCTION.match(clause)
        clause = head.group(1) if head and len(head.group(1)) <= limit else clause
    elif cjk and len(clause) > limit:  # "丝绸之路 | 是古代连接中国与地中海世界的贸易网络"
        clause = cjk_topic(clause) or clause
    if 0 < len(clause) <= limit and (cjk or len(clause.split()) >= 2):
        return clause[:1].upper() + clause[1:]
    top = phrases.top(1)
    if top:
        return top[0][:1].upper() + top[0][1:]
    return t.truncate(clause or opening, limit)


def _as_sentence(line: str, cjk: bool) -> str:
    """A heading said as a sentence: with a full stop, so the voice pauses after it."""
    line = line.strip()
    return line if line.endswith((".", "!", "?", "…", "。", "！", "？")) else line + ("。" if cjk else ".")


def _describe(headline: str, focus: list[str], context: str) -> str:
    """What to picture: the segment's headline and phrases, with its first sentence for context."""
    others = [p for p in focus if p.lower() != headline.lower()]
    subject = f"{headline} ({', '.join(others)})" if others else headline
    return t.truncate(f"An illustration of {subject}. Context: {context}", 900)

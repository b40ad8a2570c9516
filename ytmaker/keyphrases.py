"""Keyphrases: the phrases a text is about, for slide headlines, tags and image descriptions.

Candidates are noun phrases, never fragments of words:

* Chinese is cut into words and tagged with rjieba (jieba-rs: jieba's dictionary and tag set,
  compiled; a 200 KB text is tagged in about 0.03 s where jieba's pure-Python ``posseg`` needs
  about 1.4 s with its dictionary load). A phrase is a run of nouns, optionally led by a modifier
  ("野生大熊猫", "熊猫宝宝", "自然保护区"), at most :data:`MAX_CJK_CHARS` characters.
* Other text goes through a small rule-based chunker: a phrase is a run of words that are not
  stop words, common verbs, adverbs (-ly), past forms (-ed) or numbers, trimmed of trailing
  adjectives ("solar panels", "silicon wafers", "world's total production"). No dependency:
  taggers that know English grammar (spaCy, NLTK) need model downloads and seconds to load,
  and statistical extractors (YAKE) return n-grams with verbs in them just the same.

A word weighs more the more often the text uses it; a phrase scores the sum of its words.
A segment's headline also weighs how specific a word is to that segment among the others
(an inverse segment frequency), so consecutive slides do not all say "Solar panels".
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ytmaker import english_words as en
from ytmaker.text import DETERMINERS, STOPWORDS, has_cjk, is_cjk, sentence_ends, truncate

#: a headline's limits: words (Latin) and characters (CJK)
MAX_WORDS = 4
MAX_CJK_CHARS = 10

_TOKEN = re.compile(r"[^\W\d_][\w'’-]*|\d[\d,.]*|[^\w\s]", re.UNICODE)
#: Chinese (or Japanese, Korean) inside a Latin text: a phrase boundary, never a word of an English phrase
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+")
#: jieba tags: nouns (a phrase ends on one), and what may stand before them in a phrase
_CJK_NOUN = frozenset({"n", "nr", "ns", "nt", "nz", "nrt", "nrfg", "ng", "j"})
#: a word that starts with a count ("一个", "十几") is a quantity, not a noun, whatever its tag
_CJK_COUNT = re.compile(r"^[一二三四五六七八九十几两百千万]+[个只位种些条次年天克斤]?")
_CJK_MODIFIER = frozenset({"b", "vn", "an"}) | _CJK_NOUN
_CJK_ASPECT = frozenset({"了", "着", "过"})
_CJK_GENERIC = frozenset({"关系", "时候", "地方", "人们", "东西", "方面", "问题", "情况", "时间", "事情", "大家"})
#: verbs with a direction that jieba tags as nouns ("运往" vn, "传向" n): a word ending in 往, and these
_CJK_VERBS = frozenset({"传向", "驶向", "奔向", "涌向", "迈向", "飞向", "冲向", "通向", "伸向", "传入", "运到", "送到"})


@dataclass(frozen=True)
class Phrase:
    text: str  # as the text writes it
    key: tuple[str, ...]  # its words, normalised (lower case, singular)
    lead: bool = False  # the first phrase of its sentence (English): most often its subject


def _plural(word: str) -> bool:
    """A lower-case plural that does not modify the noun after it (en.PLURAL_MODIFIERS do: "sales tax")."""
    return word.islower() and _singular(word) != word.lower() and word.lower() not in en.PLURAL_MODIFIERS


def _singular(word: str) -> str:
    word = word.lower().replace("’", "'").removesuffix("'s").strip("'-")
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-3] + "y" if word.endswith("ies") else word[:-1]
    return word


Run = list[tuple[str, int, int]]  # a noun phrase's words as found, before trimming: (word, start, end) in the text


def _latin_runs(text: str, ends: set[int] | None = None) -> list[Run]:
    """The runs of words that may make a noun phrase, in order, with where each word is in ``text``."""
    runs: list[Run] = []
    run: Run = []

    def close() -> None:
        if run:
            runs.append(run.copy())
        run.clear()

    previous, opening, noun_before = ".", True, False
    ends = sentence_ends(text) if ends is None else ends  # "J.P. Morgan": no sentence starts at "Morgan"
    masked = _CJK_RUN.sub(lambda m: "|" * len(m.group()), text)  # same offsets; "|" ends a phrase
    last = 0
    for match in _TOKEN.finditer(masked):
        token = match.group()
        if "\n" in masked[last:match.start()]:  # a line ends a phrase, and a heading or list item its sentence
            close()
            opening = True
        last = match.end()
        if opening and token[:1].isupper() and not token.isupper():
            token = token.lower()  # "Installation got easier" -> "installation", but "NASA" and mid-sentence "Paris" stay
        if token in ".!?…":
            opening = match.end() in ends or match.end() + 1 in ends
        elif token[0].isalnum():  # a list's dash or a heading's # leaves the sentence's start to the word after it
            opening = False
        lower = token.lower().replace("’", "'")
        base = lower.removesuffix("'s")
        # An -ing word after a noun, an adjective or an auxiliary is a verb ("data showing", "are falling");
        # elsewhere it may be the noun ("mostly manufacturing").
        verb_ing = len(base) > 5 and base.endswith("ing") and bool(run or previous in en.AUX or previous in en.ADJ)
        # after "to", a lower-case word that is not a plural is its infinitive ("to demand", but "to cities", "to Paris")
        infinitive = previous == "to" and token.islower() and not base.endswith("s")
        # after a noun, "that", "which" and "who" open a clause: its first word is the verb ("species that survive")
        relative = previous in ("that", "which", "who") and noun_before and token.islower()
        comparative = previous in en.COPULA and token.islower() and len(base) > 4 and base.endswith("er")
        # a word its full stop does not end a sentence after is an abbreviation: "Dept.", "Feb.", "lb."
        abbreviation = masked[match.end():match.end() + 1] == "." and not {match.end() + 1, match.end() + 2} & ends
        if (not token[0].isalpha() or base in STOPWORDS or base in en.NOT_NOUN or verb_ing or previous in en.BEFORE_VERB
                or infinitive or relative or comparative or abbreviation or token == "us"
                or (len(base) > 4 and base.endswith(("ly", "ed")))):
            close()
        else:
            if run and _plural(run[-1][0]) and token.islower():  # "give rivers | room": two objects, not a compound
                close()
            run.append((token, match.start(), match.end()))
            if lower.endswith("'s"):  # a possessor only qualifies the phrase after it: "world's | total production"
                run.clear()
        noun_before = bool(run) if lower not in ("that", "which", "who") else noun_before
        previous = lower
    close()
    return runs


def _after_preposition(text: str, start: int) -> bool:
    """Whether a preposition, perhaps with a determiner, comes right before ``start``: "for a | century"."""
    before = text[max(0, start - 40):start].lower().split()[-2:]
    if before and before[-1] in DETERMINERS | {"many", "most", "all", "few"}:
        before.pop()
    return bool(before) and before[-1] in en.PREPOSITIONS


def _latin_phrases(text: str) -> list[Phrase]:
    out: list[Phrase] = []
    ends = sentence_ends(text)
    starts, led = sorted(ends), -1  # sentence boundaries, and the sentence whose subject was found
    for run in _latin_runs(text, ends):
        words = [w for w, _, _ in run]
        while words[-1].lower() in en.TRIM and len(words) > 1:
            words.pop()
        if len(words) < len(run) and len(words) == 1 and words[0].lower().endswith("est"):
            continue  # "the lowest point": a superlative left alone names nothing
        # "cheap panels" -> "panels"; a capital mid-sentence is part of a name ("Good Roads Movement", "Great Wall")
        while len(words) > 1 and not words[0][0].isupper() and (words[0].lower() in en.ADJ or words[0].lower().endswith("est")):
            words.pop(0)
        words = words[-MAX_WORDS:]
        if not (len(words) == 1 and (words[0].lower() in en.TRIM or len(words[0]) < 3)):
            sentence = bisect.bisect_right(starts, run[0][1])
            lead = sentence != led and not _after_preposition(text, run[0][1])
            out.append(Phrase(" ".join(w.strip("'’-") for w in words), tuple(_singular(w) for w in words), lead))
            led = sentence if lead else led
    return out


def phrase_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` (not Chinese) has noun phrases of two words or more: a subtitle cut between their words splits a
    name or a thing ("pour-over | kettles", "the roasted | beans")."""
    if is_cjk(text):
        return []
    words = [(m.group().lower(), m.start()) for m in _TOKEN.finditer(text)]
    start_of = {start: k for k, (_, start) in enumerate(words)}
    spans = []
    for run in _latin_runs(text):  # an -ed or -ing word after a determiner and before a noun phrase is its adjective
        first = start_of.get(run[0][1], 0)
        if first >= 2 and words[first - 1][0].endswith(("ed", "ing")) and words[first - 2][0] in DETERMINERS:
            spans.append((words[first - 1][1], run[-1][2]))  # "the roasted beans", "a growing market"
        elif len(run) > 1:
            spans.append((run[0][1], run[-1][2]))
    return spans


def word_starts(text: str) -> set[int]:
    """Where the words of a Chinese text start (rjieba's), and its end: a line, cue or lit phrase is never cut inside
    one (公|斤 is one word, 公斤). The speech engine's word boundaries give the timing, but espeak-ng's Chinese words
    are not always a reader's (这|条 for 这条)."""
    import rjieba  # a compiled jieba; imported here so English-only work never loads the dictionary

    starts, at = {0}, 0
    for word in rjieba.cut(text):
        at += len(word)
        starts.add(at)
    return starts


def _cjk_tagged(text: str) -> list[tuple[str, str]]:
    """rjieba's words and tags, with the tags it gets wrong for our purpose mended."""
    import rjieba  # a compiled jieba; imported here so English-only work never loads the dictionary

    tagged: list[tuple[str, str]] = []
    for word, tag in rjieba.tag(text):
        if tag == "l" and "之" in word[1:-1]:  # a set phrase X之Y names a thing: 丝绸之路, 鱼米之乡
            tag = "n"
        if word in _CJK_VERBS or (len(word) == 2 and word.endswith("往")):
            tag = "v"
        if len(word) > 2 and word.endswith("地"):  # X地 says how: 系统地记录 ("recorded systematically")
            tag = "d"
        if tagged and tagged[-1][1] == "d" and tag in ("n", "vn"):  # what an adverb qualifies is a verb
            tag = "v"
        tagged.append((word, tag))
    for i in range(1, len(tagged) - 1):  # and what 了, 着 or 过 follows inside a sentence: 记录了 (not 春天了。)
        if tagged[i][0] in _CJK_ASPECT and tagged[i + 1][1] != "x":
            tagged[i - 1] = (tagged[i - 1][0], "v")
    return tagged


def cjk_topic(sentence: str) -> str | None:
    """The noun phrase a Chinese sentence opens with when 是 follows it: "丝绸之路是古代…的贸易网络" is about 丝绸之路."""
    head: list[tuple[str, str]] = []  # the words before 是, while they may make a noun phrase
    for word, tag in _cjk_tagged(sentence):
        if word == "是":
            return "".join(w for w, _ in head) if head and head[-1][1] in _CJK_NOUN else None
        if tag not in _CJK_MODIFIER:
            return None
        head.append((word, tag))
    return None


def _cjk_phrases(text: str) -> list[Phrase]:
    out: list[Phrase] = []
    run: list[tuple[str, str]] = []

    def close() -> None:
        while run and (run[-1][1] not in _CJK_NOUN or (run[-1][0] in _CJK_GENERIC and len(run) > 1)):
            run.pop()
        while run and sum(len(w) for w, _ in run) > MAX_CJK_CHARS:
            run.pop(0)
        words = [w for w, _ in run]
        if words and (len(words) > 1 or (len(words[0]) > 1 and words[0] not in _CJK_GENERIC)):
            out.append(Phrase("".join(words), tuple(words)))
        run.clear()

    for word, tag in _cjk_tagged(text):
        if tag in _CJK_MODIFIER and word.strip() and not _CJK_COUNT.match(word):
            run.append((word, tag))
        else:
            close()
    close()
    return out


def phrases(text: str) -> list[Phrase]:
    """Every candidate phrase in ``text``, in order (repeats included)."""
    return _cjk_phrases(text) if is_cjk(text) else _latin_phrases(text)


class Keyphrases:
    """A text's phrases, weighed over the whole text and, for headlines, over its segments."""

    def __init__(self, segments: Sequence[str]) -> None:
        self.segments = [phrases(s) for s in segments]
        self.words = Counter(w for found in self.segments for p in found for w in p.key)
        self.spread = Counter(w for found in self.segments for w in {w for p in found for w in p.key})
        self.phrase_spread = Counter(k for found in self.segments for k in {p.key for p in found})
        self.surface = _surfaces(p for found in self.segments for p in found)

    def weight(self, word: str) -> float:
        """How much the text is about ``word``: more for the words it repeats."""
        return 1.0 + math.log(self.words[word]) if self.words[word] else 0.0

    def top(self, count: int) -> list[str]:
        """The text's ``count`` best phrases; one whose words are in a better one is left out unless it stands alone more often."""
        occurrences = Counter(p.key for found in self.segments for p in found)
        ranked = sorted(occurrences, key=lambda k: (-self._score(k, occurrences[k]), self.surface[k]))
        chosen: list[tuple[str, ...]] = []
        for key in ranked:
            covered = any(set(key) <= set(c) and occurrences[key] < occurrences[c] for c in chosen)
            if not covered:
                chosen.append(key)
            if len(chosen) == count:
                break
        return [self.surface[k] for k in chosen]

    def headline(self, index: int, avoid: Iterable[str] = ()) -> str | None:
        """The phrase segment ``index`` is most about, other than those in ``avoid``; None if it has none."""
        found = self.segments[index]
        if not found:
            return None
        avoided = [a.lower() for a in avoid]
        local = Counter(p.key for p in found)
        leads = {p.key for p in found if p.lead}
        first: dict[tuple[str, ...], float] = {}
        for position, p in enumerate(found):
            first.setdefault(p.key, position / len(found))
        count = len(self.segments)

        def score(key: tuple[str, ...]) -> float:
            # Specific to this segment, a little longer, early (the topic sentence), repeated.
            written = self.surface[key].split() if len(self.surface[key].split()) == len(key) else key
            specific = sum(self.weight(w) * _long(v) * (0.5 + math.log((1 + count) / self.spread[w])) for w, v in zip(key, written))
            specific /= len(key)
            shape = (1 + 0.3 * (min(len(key), 3) - 1)) * (1 + 0.3 * (1 - first[key])) * (1 + 0.5 * (local[key] - 1))
            shape *= 1.3 if key in leads else 1.0  # a sentence's subject names its topic more often than its objects
            return specific * shape + sum(len(w) for w in key) / 1000

        ranked = sorted(local, key=score, reverse=True)
        if index > 0 and count >= 4:  # after the opening, what most segments speak of (中国) names none of them
            ranked = [k for k in ranked if self.phrase_spread[k] <= count / 2] or ranked
        fresh = [k for k in ranked if not any(self.surface[k].lower() in a for a in avoided)]
        best = (fresh or ranked)[0]
        return _capitalised(self.surface[best])

    def centrality(self, index: int) -> float:
        """How much segment ``index`` speaks of what the whole text is about, per phrase it holds."""
        found = self.segments[index]
        words = {w for p in found for w in p.key}
        return sum(self.weight(w) for w in words) / math.sqrt(1 + len(found))

    def _score(self, key: tuple[str, ...], occurrences: int) -> float:
        generic = 0.3 if len(key) == 1 and key[0] in en.GENERIC else 1.0
        shape = 1 + 0.3 * (min(len(key), 3) - 1)
        return sum(self.weight(w) * _long(w) for w in key) / len(key) * shape * (1 + math.log(occurrences)) * generic


def _long(word: str) -> float:
    """Longer English words tend to be the more specific ones ("batteries" over "price"); not so in Chinese (idioms)."""
    return 1.0 if has_cjk(word) else 0.5 + min(len(word), 12) / 12


def _surfaces(found: Iterable[Phrase]) -> dict[tuple[str, ...], str]:
    """Each key's most frequent written form (a sentence-initial capital loses to the plain form)."""
    forms: dict[tuple[str, ...], Counter[str]] = {}
    for p in found:
        forms.setdefault(p.key, Counter())[p.text] += 1
    out = {}
    for key, counts in forms.items():
        best = max(counts, key=lambda f: (counts[f] + counts[f.lower()] * (f == f.lower()), f == f.lower()))
        out[key] = best
    return out


def _capitalised(phrase: str) -> str:
    return phrase[:1].upper() + phrase[1:]


def keyphrases(text: str, count: int = 10) -> list[str]:
    """The ``count`` phrases ``text`` is most about, best first."""
    return Keyphrases([text]).top(count)


def headline(narration: str) -> str:
    """A slide's headline for one narration on its own: its best phrase, else its first words."""
    found = Keyphrases([narration]).headline(0)
    if found:
        return found
    return truncate(narration, MAX_CJK_CHARS + 2 if is_cjk(narration) else 40)

"""The language of a text, from its script and, within a script, its commonest words.

Why not a trained detector (lingua, fastText's lid.176, langid): the languages that
matter here are those espeak-ng voices, and for the texts ytmaker narrates (paragraphs
of prose, not tweets) two cheap statistics decide them reliably:

1. **Script.** Letters are counted per Unicode script; the script with the most weight
   wins (majority rule for mixed texts). A Han, kana or Hangul character stands for a
   syllable, so it weighs ``SYLLABIC_WEIGHT`` letters of an alphabet: a Chinese sentence
   quoting ``DataFrame`` stays Chinese. Most scripts name one language (Hangul: ko,
   Greek: el, Thai: th, Khmer: km...); Han is Japanese when kana are a good share of it.
2. **Function words**, where a script is shared (Latin, Cyrillic, Arabic, Devanagari): each
   candidate scores the occurrences of its ~15 commonest short words ("the", "und", "de",
   "что"...); the highest score wins. These words make up a third to a half of running
   prose, so a paragraph is enough; a Latin text matching none is undecided (None).

It needs no model file or dependency, is deterministic (langdetect is not), and reads
200 KB in well under 0.1 s: characters are counted by ``collections.Counter`` in C and
only distinct letters are classified. Its limits: a single short sentence can be
ambiguous between close languages (Danish and Norwegian, Serbian and Croatian), and
languages outside the tables below fall back to their script's main language.
"""

from __future__ import annotations

import bisect
from collections import Counter

#: a syllabic character (Han, kana, Hangul) counts as this many alphabet letters
SYLLABIC_WEIGHT = 3
#: Han text is Japanese when kana make up at least this share of its Han and kana
KANA_SHARE_JA = 0.1

# (first code point, last code point, script), sorted, for bisect.
_RANGES = sorted([
    (0x0041, 0x024F, "Latn"), (0x1E00, 0x1EFF, "Latn"), (0x0370, 0x03FF, "Grek"), (0x1F00, 0x1FFF, "Grek"),
    (0x0400, 0x052F, "Cyrl"), (0x0530, 0x058F, "Armn"), (0x0590, 0x05FF, "Hebr"), (0x0600, 0x06FF, "Arab"),
    (0x0750, 0x077F, "Arab"), (0x0900, 0x097F, "Deva"), (0x0980, 0x09FF, "Beng"), (0x0A00, 0x0A7F, "Guru"),
    (0x0A80, 0x0AFF, "Gujr"), (0x0B00, 0x0B7F, "Orya"), (0x0B80, 0x0BFF, "Taml"), (0x0C00, 0x0C7F, "Telu"),
    (0x0C80, 0x0CFF, "Knda"), (0x0D00, 0x0D7F, "Mlym"), (0x0D80, 0x0DFF, "Sinh"), (0x0E00, 0x0E7F, "Thai"),
    (0x0E80, 0x0EFF, "Laoo"), (0x0F00, 0x0FFF, "Tibt"), (0x1000, 0x109F, "Mymr"), (0x10A0, 0x10FF, "Geor"),
    (0x1100, 0x11FF, "Hang"), (0x1200, 0x139F, "Ethi"), (0x1780, 0x17FF, "Khmr"), (0x1800, 0x18AF, "Mong"),
    (0x3040, 0x30FF, "Kana"), (0x3130, 0x318F, "Hang"), (0x31F0, 0x31FF, "Kana"), (0x3400, 0x4DBF, "Hani"),
    (0x4E00, 0x9FFF, "Hani"), (0xAC00, 0xD7AF, "Hang"), (0xF900, 0xFAFF, "Hani"), (0xFB50, 0xFDFF, "Arab"),
    (0xFE70, 0xFEFF, "Arab"), (0xFF66, 0xFF9F, "Kana"), (0x20000, 0x2FFFF, "Hani"),
])
_STARTS = [start for start, _, _ in _RANGES]
_SYLLABIC = {"Hani", "Kana", "Hang"}

#: scripts that name one language (ISO 639-1 where there is one)
SCRIPT_LANGUAGE = {
    "Grek": "el", "Armn": "hy", "Hebr": "he", "Beng": "bn", "Guru": "pa", "Gujr": "gu", "Orya": "or", "Taml": "ta",
    "Telu": "te", "Knda": "kn", "Mlym": "ml", "Sinh": "si", "Thai": "th", "Laoo": "lo", "Tibt": "bo", "Mymr": "my",
    "Geor": "ka", "Hang": "ko", "Ethi": "am", "Khmr": "km", "Mong": "mn", "Hani": "zh", "Kana": "ja",
}

#: the commonest words of the languages sharing a script; the first language is the script's fallback
FUNCTION_WORDS: dict[str, dict[str, frozenset[str]]] = {script: {lang: frozenset(words.split()) for lang, words in table.items()}
                                                        for script, table in {
    "Latn": {
        "en": "the of and to in is that it for was on are with as be this by not or have from they which you",
        "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an werden aus",
        "fr": "le la les de des et est un une du en que qui dans pour pas sur au il elle ce avec sont par plus",
        "es": "el la de que y en los se del las un por con no una su para es al lo como más pero sus le",
        "it": "il di che la e è per un in del della non una sono le con si da gli al ma anche nel alla",
        "pt": "de que o a e do da em um para é com não uma os no se na por mais as dos como mas ao",
        "nl": "de het een van en in is dat op te zijn voor met die niet aan er maar om ook als bij",
        "sv": "och att det som en på är av för med till den har inte om ett de jag var men från",
        "da": "og at det i en af er til på som med for ikke den har de jeg var men fra et kan",
        "nb": "og i det som en av er til på å med for ikke den har de jeg var men fra et kan",
        "fi": "ja on ei että se oli hän ovat kun mutta myös tai sen ole joka tämä niin kuin",
        "pl": "i w nie na się z do że to jest jak o co po ale od jego za przez są dla",
        "cs": "a se na je že v to s z do o jako ale by pro jsou které jeho tak podle",
        "hu": "a az és hogy nem is egy van meg de csak már volt ez mint még el ki",
        "ro": "și de în la cu a că pe nu este o din un care mai sunt pentru au fost",
        "tr": "ve bir bu da de için ile çok olarak daha gibi ama olan en kadar her sonra değil",
        "id": "yang dan di ini itu dengan untuk tidak dari dalam akan pada adalah ke juga karena",
        "vi": "và của là các có những được trong cho không người này một với đã để khi",
        "ca": "el la de i que a en els les un una per amb no és del al va als com",
    },
    "Cyrl": {
        "ru": "и в не на что с по это как он я к из у для но так же то все она его",
        "uk": "і в не на що з та це як до у для від й є але так же вони він його",
        "bg": "и в не на да се от за е че с по това са като ще но той тя",
        "sr": "и у је да се на за не су од са што као али из то",
        "mk": "и на во да се не за од со е што ќе го но тоа",
    },
    "Arab": {
        "ar": "في من على إلى أن هذا التي الذي عن مع كان هذه",
        "fa": "و در به از که این را با است برای آن می یک",
        "ur": "کے میں کی ہے اور کو سے کا نے ہیں یہ پر",
    },
    "Deva": {
        "hi": "है के में की और का को से हैं पर यह भी",
        "mr": "आहे या व आणि हे ते त्या आहेत म्हणून केले",
        "ne": "छ र को मा हो छन् गर्न पनि यो भएको",
    },
}.items()}
_PUNCTUATION = ".,;:!?\"'()[]{}«»“”„‘’…-–—،؛؟।"


def script_counts(text: str) -> Counter[str]:
    """Letters of ``text`` per script (a syllabic character counts SYLLABIC_WEIGHT)."""
    counts: Counter[str] = Counter()
    for char, n in Counter(text).items():
        if not char.isalpha():
            continue
        code = ord(char)
        i = bisect.bisect_right(_STARTS, code) - 1
        if i >= 0 and code <= _RANGES[i][1]:
            script = _RANGES[i][2]
            counts[script] += n * (SYLLABIC_WEIGHT if script in _SYLLABIC else 1)
    return counts


def detect_language(text: str) -> str | None:
    """The language code of the majority of ``text``, or None when it cannot tell."""
    counts = script_counts(text)
    kana, han = counts.pop("Kana", 0), counts.pop("Hani", 0)
    if han or kana:  # Japanese writes Han and kana together: count them as one script when kana are a fair share
        if kana >= KANA_SHARE_JA * (han + kana):
            counts["Jpan"] = han + kana
        else:
            counts["Hani"], counts["Kana"] = han, kana
    if not counts:
        return None
    script = max(counts, key=lambda s: counts[s])
    if script == "Jpan":
        return "ja"
    if script in FUNCTION_WORDS:
        return _by_words(text, FUNCTION_WORDS[script], fallback=None if script == "Latn" else next(iter(FUNCTION_WORDS[script])))
    return SCRIPT_LANGUAGE.get(script)


def _by_words(text: str, candidates: dict[str, frozenset[str]], *, fallback: str | None) -> str | None:
    """The candidate whose function words occur most often in ``text``; ``fallback`` when none occurs."""
    scores = dict.fromkeys(candidates, 0)
    for token, count in Counter(text.lower().split()).items():  # the text's distinct words looked up, stripped once
        word = token.strip(_PUNCTUATION)
        for lang, vocabulary in candidates.items():
            if word in vocabulary:
                scores[lang] += count
    best = max(scores, key=lambda lang: scores[lang])
    return best if scores[best] else fallback

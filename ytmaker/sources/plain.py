"""Text as people type or save it: checked before anything is made of it."""

from __future__ import annotations

from ytmaker.errors import InputTooLarge, InvalidInput
from ytmaker.text import clean, units


def decode_text(raw: bytes | str, max_bytes: int, setting: str = "YTMAKER_MAX_TEXT_BYTES") -> str:
    """The text of ``raw``, or InvalidInput saying what is wrong with it (``setting``: what sets ``max_bytes``)."""
    size = len(raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)
    if size > max_bytes:
        raise InputTooLarge(f"the text is {size:,} bytes; the limit is {max_bytes:,} ({setting}). "
                            "Split it into several videos or shorten it")
    if isinstance(raw, bytes):
        if b"\0" in raw:
            raise InvalidInput("the input looks binary (it contains NUL bytes); give ytmaker a text, Markdown, HTML, PDF or .docx file")
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"the text is not valid UTF-8 (byte {exc.start}); save it as UTF-8 and try again") from None
    else:
        try:  # a str can still carry lone surrogates (bytes smuggled through surrogateescape); the database refuses them
            raw.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidInput(f"the text is not valid UTF-8 (character {exc.start}); save it as UTF-8 and try again") from None
    if not raw.strip() or units(clean(raw)) == 0:
        raise InvalidInput("the text is empty; give ytmaker some prose to narrate")
    return raw


__all__ = ["decode_text"]

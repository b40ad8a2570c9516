"""The script a video is made from, as validated data (shared by every script writer)."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator


class Segment(BaseModel):
    narration: str = Field(min_length=1, max_length=5000)
    image_description: str = Field(min_length=1, max_length=1000)
    #: what the segment is about, in a few words, for its slide (scripts written before it have none:
    #: the slide derives one from the narration)
    headline: str | None = Field(default=None, max_length=100)

    @field_validator("narration", "image_description")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value

    @field_validator("headline")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return (value or "").strip() or None


class ScriptDraft(BaseModel):
    title: str = Field(min_length=1, max_length=100)  # YouTube's title limit
    description: str = Field(max_length=5000)  # YouTube's description limit
    tags: list[str] = Field(default_factory=list, max_length=30)
    segments: list[Segment] = Field(min_length=1, max_length=200)

    @field_validator("segments")
    @classmethod
    def _no_duplicates(cls, segments: list[Segment]) -> list[Segment]:
        # An LLM that repeats itself would make a video that repeats itself.
        seen: set[str] = set()
        unique = []
        for segment in segments:
            key = " ".join(segment.narration.lower().split())
            if key not in seen:
                seen.add(key)
                unique.append(segment)
        return unique

"""A person's own images and clips as the segments' pictures (``ytmaker make --media DIR``).

The files are taken into the project's own ``media`` folder when it is created
(hard links where the file system allows, copies otherwise), so every worker
that sees the data dir sees them and a later change to the person's folder
does not change a project under way. Each segment gets a file:

1. one whose name starts with its number, counting from 1 (``01.jpg``, ``3-hive.mp4``);
2. else the one whose name shares the most words with the segment's headline and
   narration (``waggle-dance.mov`` for the segment about the waggle dance);
3. else the files not used yet, in name order; then all of them again, in turn.

An image becomes the segment's still, cut to cover the frame; a clip is taken
in like a stock clip (ytmaker.media.clips.normalize_args) and played by the
same renderer path, its poster the first frame.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from ytmaker.errors import InvalidInput, MediaError
from ytmaker.media.clips import normalize_args
from ytmaker.media.ffmpeg import run_ffmpeg
from ytmaker.media.probe import probe
from ytmaker.providers.base import Footage, ImageRequest

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}
CLIP_SUFFIXES = {".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi"}
_NUMBER = re.compile(r"^(\d+)(?!\d)")
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)


def scan(folder: Path) -> list[Path]:
    """The images and clips in ``folder`` (not its subfolders), by name; refused when there are none."""
    if not folder.is_dir():
        raise InvalidInput(f"--media {folder}: no such folder")
    files = sorted((p for p in folder.iterdir() if p.is_file() and _taken(p)), key=lambda p: p.name.lower())
    if not files:
        raise InvalidInput(f"--media {folder}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) or clips "
                           f"({', '.join(sorted(CLIP_SUFFIXES))}) in it")
    return files


def ignored(folder: Path) -> list[str]:
    """The files in ``folder`` that ``scan`` leaves out (another kind: a GIF, a text file), to say so; hidden ones aside."""
    return sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and not _taken(p))


def _taken(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES | CLIP_SUFFIXES


def upload_names(names: list[str]) -> list[str]:
    """Uploaded files' names made safe to store (the base name, word characters, dots and dashes), each a kind
    ``scan`` takes; InvalidInput otherwise. Nothing of a name but these characters reaches a path."""
    safe = []
    for name in names:
        base = re.sub(r"[^\w.-]", "_", Path(name.replace("\\", "/")).name).lstrip(".")
        if not _taken(Path(base)):
            raise InvalidInput(f"media file {name!r} is not an image ({', '.join(sorted(IMAGE_SUFFIXES))}) or a clip "
                               f"({', '.join(sorted(CLIP_SUFFIXES))})")
        if base in safe:
            raise InvalidInput(f"two media files are named {base!r}")
        safe.append(base)
    return safe


def take_uploads(files: list[tuple[str, bytes]], project_media: Path) -> list[Path]:
    """Uploaded images and clips (name, content) into the project's media folder under their safe names."""
    project_media.mkdir(parents=True, exist_ok=True)
    taken = []
    for name, (_, content) in zip(upload_names([n for n, _ in files]), files, strict=True):
        target = project_media / name
        target.write_bytes(content)
        taken.append(target)
    return taken


def take_in(files: list[Path], project_media: Path) -> list[Path]:
    """Link or copy ``files`` into the project's media folder; returns the taken paths."""
    project_media.mkdir(parents=True, exist_ok=True)
    taken = []
    for source in files:
        target = project_media / source.name
        if not target.exists():
            try:
                os.link(source, target)
            except OSError:
                shutil.copyfile(source, target)
        taken.append(target)
    return taken


def assign(files: list[Path], segments: list[str]) -> list[Path]:
    """The file for each segment (``segments``: each one's headline and narration), by number, then by name, then in turn."""
    chosen: dict[int, Path] = {}
    numbered: dict[int, Path] = {}
    for f in files:
        match = _NUMBER.match(f.stem)
        if match:
            numbered.setdefault(int(match.group(1)) - 1, f)
    for index in range(len(segments)):
        if index in numbered:
            chosen[index] = numbered[index]
    named = [f for f in files if not _NUMBER.match(f.stem) and _words(f.stem)]
    for index, text in enumerate(segments):
        if index in chosen:
            continue
        words = _words(text)
        scored = [(len(_words(f.stem) & words), -n, f) for n, f in enumerate(named) if f not in chosen.values()]
        best = max(scored, default=None)
        if best is not None and best[0] > 0:
            chosen[index] = best[2]
    unused = [f for f in files if f not in chosen.values()]
    turn = 0
    for index in range(len(segments)):
        if index not in chosen:
            chosen[index] = unused[turn] if turn < len(unused) else files[(turn - len(unused)) % len(files)]
            turn += 1
    return [chosen[i] for i in range(len(segments))]


def _words(text: str) -> set[str]:
    return {w.lower().rstrip("s") for w in _WORD.findall(text.replace("-", " ").replace("_", " "))}


class OwnMedia:
    """A :class:`~ytmaker.providers.base.FootageProvider` on the files :func:`assign` gave each segment."""

    def __init__(self, chosen: list[Path], taken_dir: Path) -> None:
        self.chosen = chosen
        self.taken_dir = taken_dir  # clips taken in (video only, the shared time base), once per file

    def generate(self, request: ImageRequest, out: Path) -> str | None:
        return self.footage(request, out).warning

    def footage(self, request: ImageRequest, out: Path) -> Footage:
        source = self.chosen[request.index % len(self.chosen)]
        size = (request.width, request.height)
        if source.suffix.lower() in IMAGE_SUFFIXES:
            poster(source, out, size)
            return Footage(None)
        clip = self.taken_dir / f"{source.stem}.mp4"
        if not clip.exists():
            self.taken_dir.mkdir(parents=True, exist_ok=True)
            partial = self.taken_dir / f".{source.stem}.{os.getpid()}.mp4"
            try:
                run_ffmpeg(normalize_args(source, partial, codec=probe(source).video_codec, max_size=size), timeout_s=1800)
                os.replace(partial, clip)
            except MediaError as exc:
                raise MediaError(f"your clip {source.name} cannot be used: {exc}", command=exc.command,
                                 stderr=exc.stderr) from exc
            finally:
                partial.unlink(missing_ok=True)
        poster(clip, out, size)
        return Footage(clip, probe(clip).duration_s)


def poster(source: Path, out: Path, size: tuple[int, int]) -> None:
    """The first frame of ``source`` (a clip or a picture) scaled to cover ``size`` and cut to it, as an RGB PNG
    (a grey, paletted or transparent picture too: the stills of a video are read as one stream of one kind)."""
    width, height = size
    # Lossless at the fastest setting: eight clips' posters at once were most of the Pexels fan-out's margin over its
    # ideal (0.15 CPU-s each at the default, 0.10 like this, for a PNG 40 % larger: bench/orchestration)
    run_ffmpeg(["-i", str(source), "-frames:v", "1", "-vf",
                f"scale={width}:{height}:force_original_aspect_ratio=increase,crop={width}:{height},setsar=1,format=rgb24",
                "-c:v", "png", "-compression_level", "1", "-pred", "none", "-f", "image2", str(out)], timeout_s=120)

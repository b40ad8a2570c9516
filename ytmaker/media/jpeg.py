"""JPEGs under a byte limit (YouTube refuses thumbnails over 2 MB): the quality steps down until one fits."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from ytmaker.errors import MediaError

#: the qualities tried, best first; below the last one a thumbnail looks blocky, so none is tried
QUALITIES = (92, 85, 75, 60, 45)


def jpeg_bytes_under(image: Image.Image, max_bytes: int) -> bytes:
    """``image`` encoded as a JPEG of at most ``max_bytes``, at the best quality in ``QUALITIES`` that fits."""
    picture = image if image.mode in ("RGB", "L") else image.convert("RGB")  # JPEG has no alpha nor palette
    for quality in QUALITIES:
        buffer = io.BytesIO()
        picture.save(buffer, format="JPEG", quality=quality, optimize=True)
        if buffer.tell() <= max_bytes:
            return buffer.getvalue()
    raise MediaError(f"the picture stays over {max_bytes / 2**20:.3g} MB even at JPEG quality {QUALITIES[-1]}")


def save_jpeg_under(image: Image.Image, out: Path, max_bytes: int) -> None:
    """Save ``image`` to ``out`` as a JPEG of at most ``max_bytes`` (see ``jpeg_bytes_under``)."""
    out.write_bytes(jpeg_bytes_under(image, max_bytes))

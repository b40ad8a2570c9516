"""Fake of the Pexels API (``/videos/search``, ``/v1/search``) and its CDN, with real MP4 clips and JPEG photos.

Answers carry ``X-Ratelimit-Limit/-Remaining/-Reset`` as Pexels sends them on
200s; ``remaining`` counts down from ``limit`` per API request. Video files
are served under ``/cdn/`` (the links in the answers point there), made by
FFmpeg at the sizes listed. The key is checked bare (``Authorization: <key>``).
"""

from __future__ import annotations

import io
import subprocess
import time
from functools import lru_cache

from PIL import Image

from tests.fakes.server import FakeServer, Reply, Request
from ytmaker.media.ffmpeg import ffmpeg_exe


@lru_cache(maxsize=16)
def mp4(width: int, height: int, seconds: float, color: str) -> bytes:
    """A real H.264 clip with a 25 fps time base of its own and a sound track, as stock files come."""
    return subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                           f"color=c={color}:s={width}x{height}:r=25:d={seconds}", "-f", "lavfi", "-i", f"sine=d={seconds}",
                           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
                           "-movflags", "frag_keyframe+empty_moov", "-f", "mp4", "pipe:1"],
                          check=True, capture_output=True, timeout=60).stdout


def jpeg(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), color).save(out, format="JPEG")
    return out.getvalue()


class FakePexels(FakeServer):
    def __init__(self, api_key: str, *, limit: int = 200) -> None:
        super().__init__()
        self.api_key = api_key
        self.limit = limit
        self.remaining = limit
        self.reset_at = int(time.time()) + 3600
        #: query -> videos (as Pexels describes them, with ``link`` paths filled in on answer); photos likewise
        self.videos: dict[str, list[dict]] = {}
        self.photos: dict[str, list[dict]] = {}
        self.files: dict[str, tuple[bytes, str]] = {}  # CDN path -> (body, content type)

    def add_video(self, query: str, video_id: int, *, duration: float, color: str = "red", author: str = "Jane Doe",
                  sizes: tuple[tuple[int, int], ...] = ((640, 360), (320, 180))) -> None:
        files = []
        for n, (w, h) in enumerate(sizes):
            path = f"/cdn/video-files/{video_id}/{w}x{h}.mp4"
            self.files[path] = (mp4(w, h, duration, color), "video/mp4")
            files.append({"id": video_id * 10 + n, "quality": "hd" if h >= 720 else "sd", "file_type": "video/mp4",
                          "width": w, "height": h, "fps": 25.0, "link": path})
        files.append({"id": video_id * 10 + 9, "quality": "hls", "file_type": "video/mp4", "width": None, "height": None,
                      "fps": None, "link": ""})
        self.videos.setdefault(query.lower(), []).append({
            "id": video_id, "width": sizes[0][0], "height": sizes[0][1], "url": f"https://www.pexels.com/video/{video_id}/",
            "image": "", "duration": duration, "user": {"id": 1, "name": author, "url": "https://www.pexels.com/@x"},
            "video_files": files, "video_pictures": []})

    def add_photo(self, query: str, photo_id: int, *, color=(0, 0, 255), photographer: str = "Sam Roe") -> None:
        path = f"/cdn/photos/{photo_id}.jpeg"
        self.files[path] = (jpeg(color), "image/jpeg")
        self.photos.setdefault(query.lower(), []).append({
            "id": photo_id, "width": 400, "height": 300, "url": f"https://www.pexels.com/photo/{photo_id}/",
            "photographer": photographer, "photographer_url": "https://www.pexels.com/@y", "photographer_id": 2,
            "avg_color": "#0000FF", "alt": query, "liked": False,
            "src": {k: path for k in ("original", "large2x", "large", "medium", "small", "portrait", "landscape", "tiny")}})

    def api_calls(self) -> list[Request]:
        return [r for r in self.received if not r.path.startswith("/cdn/")]

    def downloads(self) -> list[Request]:
        return [r for r in self.received if r.path.startswith("/cdn/")]

    def _limited(self, status: int, payload) -> Reply:
        return Reply.json(status, payload, **{"X-Ratelimit-Limit": str(self.limit), "X-Ratelimit-Remaining": str(self.remaining),
                                              "X-Ratelimit-Reset": str(self.reset_at)})

    def respond(self, request: Request) -> Reply:
        if request.path.startswith("/cdn/"):
            if request.path not in self.files:
                return Reply(404, b"not found")
            body, kind = self.files[request.path]
            return Reply(200, body, {"Content-Type": kind})
        if request.headers.get("authorization") != self.api_key:
            return Reply.json(401, {"error": "Unauthorized"})  # Pexels' JS client types errors as {"error": "..."}
        with self.lock:
            if self.remaining <= 0:
                return Reply.json(429, {"error": "Too Many Requests"})
            self.remaining -= 1
        query = request.query.get("query", "").lower()  # Pexels matches words, whatever their case
        base = self.url
        if request.path in ("/videos/search", "/videos//search"):
            videos = [{**v, "video_files": [{**f, "link": base + f["link"] if f["link"] else ""} for f in v["video_files"]]}
                      for v in _matching(self.videos, query) if _fits(v, request.query.get("orientation"))]
            return self._limited(200, {"page": 1, "per_page": 15, "total_results": len(videos), "videos": videos,
                                       "url": f"https://www.pexels.com/search/videos/{query}/"})
        if request.path == "/v1/search":
            photos = [{**p, "src": {k: base + v for k, v in p["src"].items()}} for p in _matching(self.photos, query)]
            return self._limited(200, {"page": 1, "per_page": 15, "total_results": len(photos), "photos": photos})
        return Reply.json(404, {"error": "Not Found"})


def _matching(items: dict[str, list[dict]], query: str) -> list[dict]:
    """What was added under a tag whose words are all in the query (Pexels' search is looser still)."""
    words = set(query.split())
    return [item for tag, found in items.items() if set(tag.split()) <= words for item in found]


def _fits(video: dict, orientation: str | None) -> bool:
    w, h = video["width"], video["height"]
    return orientation in (None, "") or orientation == ("landscape" if w > h else "portrait" if h > w else "square")

"""A slow Pexels for the fan-out benchmark: every video search and every clip download answered after a set delay.

    python bench/orchestration/fake_pexels.py --key KEY --search-delay 2 --download-delay 2   # prints its URL

Run in a process of its own (fanout.py starts it), a thread per connection, so
the assets workers' parallel requests are answered in parallel and the fake
shares no GIL with the benchmark's polling. Each ``GET /videos/search``
answers one video with an id never answered before (a counter), so every
segment of every project downloads, probes and remuxes a clip of its own and
the provider's cross-project cache never hides the latency. Its files point
at ``/cdn/video-files/<id>/WxH.mp4``, all served as the same real H.264 clip
(1280x720, the size the provider picks for a 1080p frame), made once by
FFmpeg. Answers carry ``X-Ratelimit-*`` headers with a budget far beyond the
run, so the provider's own limiter is never told to lock out.

``GET /bench/log`` returns each answered request as ``[kind, video id,
arrival, answered]`` (Unix times), for the benchmark's breakdown.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

#: Declared as Pexels lists a video's files; the provider takes the smallest covering 0.66 of a 1920x1080 frame.
SIZES = ((1920, 1080), (1280, 720), (640, 360))
#: Longer than any segment's narration, so the first (only) video of a search is taken, as with real stock.
DURATION_S = 30
#: Far more API requests than any run makes: the fake never tells the provider's limiter to lock out.
BUDGET = 10**9


def make_clip(seconds: float = 10.0) -> bytes:
    """A real H.264 720p clip with sound, a moving test pattern (a flat colour would make the poster's PNG unrealistically cheap)."""
    from ytmaker.media.ffmpeg import ffmpeg_exe

    with tempfile.TemporaryDirectory(prefix="ytm-fake-pexels-") as tmp:
        out = Path(tmp) / "clip.mp4"  # a file, not a pipe: +faststart seeks back to put the index first, as stock files have it
        subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                        f"testsrc2=s=1280x720:r=25:d={seconds}", "-f", "lavfi", "-i", f"sine=d={seconds}",
                        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
                        "-movflags", "+faststart", str(out)], check=True, capture_output=True, timeout=120)
        return out.read_bytes()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog is 5: a burst of 8+ first connects would lose SYNs and wait out a 1 s retransmit
    request_queue_size = 256


def serve(api_key: str, search_delay_s: float, download_delay_s: float, port: int = 0) -> Server:
    clip = make_clip()
    ids = itertools.count(1)
    log: list[list] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the CDN and the API are reached through httpx's pool

        def do_GET(self) -> None:
            arrived = time.time()
            path = urlsplit(self.path).path
            if path == "/bench/log":
                with lock:
                    return self._send(200, json.dumps(log).encode(), "application/json")
            if path.startswith("/cdn/video-files/"):
                time.sleep(download_delay_s)
                self._send(200, clip, "video/mp4")
                return self._log("download", int(path.split("/")[3]), arrived)
            if path in ("/videos/search", "/videos//search"):
                if self.headers.get("Authorization") != api_key:
                    return self._send(401, b'{"error": "Unauthorized"}', "application/json")
                with lock:
                    video_id = next(ids)
                time.sleep(search_delay_s)
                self._send(200, json.dumps(self._search(video_id)).encode(), "application/json",
                           {"X-Ratelimit-Limit": str(BUDGET), "X-Ratelimit-Remaining": str(BUDGET),
                            "X-Ratelimit-Reset": str(int(time.time()) + 3600)})
                return self._log("search", video_id, arrived)
            self._send(404, b'{"error": "Not Found"}', "application/json")

        def _search(self, video_id: int) -> dict:
            base = f"http://{self.headers.get('Host')}"
            files = [{"id": video_id * 10 + n, "quality": "hd" if h >= 720 else "sd", "file_type": "video/mp4", "width": w,
                      "height": h, "fps": 25.0, "link": f"{base}/cdn/video-files/{video_id}/{w}x{h}.mp4"}
                     for n, (w, h) in enumerate(SIZES)]
            video = {"id": video_id, "width": 1920, "height": 1080, "url": f"https://www.pexels.com/video/{video_id}/",
                     "image": "", "duration": DURATION_S, "user": {"id": 1, "name": "Bench", "url": "https://www.pexels.com/@b"},
                     "video_files": files, "video_pictures": []}
            return {"page": 1, "per_page": 15, "total_results": 1, "videos": [video]}

        def _send(self, status: int, body: bytes, kind: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in {"Content-Type": kind, **(headers or {})}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _log(self, kind: str, video_id: int, arrived: float) -> None:
            with lock:
                log.append([kind, video_id, arrived, time.time()])

        def log_message(self, *args) -> None:
            pass

    return Server(("127.0.0.1", port), Handler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--key", required=True)
    parser.add_argument("--search-delay", type=float, default=2.0)
    parser.add_argument("--download-delay", type=float, default=2.0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = serve(args.key, args.search_delay, args.download_delay, args.port)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

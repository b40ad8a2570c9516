"""Fake of Edge's read-aloud WebSocket, speaking edge-tts's protocol (edge_tts/communicate.py).

The client sends two text frames per connection (``Path:speech.config`` with
the boundary flags, ``Path:ssml`` with the text); the fake answers
``turn.start``, the MP3 in binary frames (2-byte big-endian header length,
``Path:audio`` headers, the bytes) interleaved with ``audio.metadata``
WordBoundary events (offsets in 100-ns ticks), then ``turn.end``. The audio is
real: a 48 kbit/s CBR MP3 made by FFmpeg, lasting 0.1 s plus ``WORD_S`` a word,
as edge-tts's offset arithmetic between chunks assumes.

Faults, one per connection, queued with :meth:`fail`: ``("status", code)``
refuses the handshake, ``"drop"`` closes after the request, ``"hang"`` says
nothing, ``"garble"`` sends a path the client does not know.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import threading
from collections import deque
from email.utils import formatdate
from functools import lru_cache
from urllib.parse import parse_qs, urlsplit

from websockets.datastructures import Headers
from websockets.http11 import Response
from websockets.sync.server import serve

from ytmaker.media.ffmpeg import ffmpeg_exe

PATH = "/consumer/speech/synthesize/readaloud/edge/v1"
WORD_S = 0.25
LEAD_TICKS = 1_000_000
_TOKEN = re.compile(r"[\u3400-\u9fff]{1,2}|[^\s\u3400-\u9fff]+")


@lru_cache(maxsize=64)
def mp3(seconds: float) -> bytes:
    """A tone of ``seconds`` as the service sends it: MP3, 24 kHz mono, 48 kbit/s CBR, no tags."""
    return subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi",
                           "-i", f"sine=frequency=330:sample_rate=24000:duration={seconds:.3f}", "-ac", "1",
                           "-c:a", "libmp3lame", "-b:a", "48k", "-write_xing", "0", "-id3v2_version", "0", "-f", "mp3",
                           "pipe:1"], check=True, capture_output=True, timeout=30).stdout


def words_of(text: str) -> list[str]:
    """The words the fake reports boundaries for: Latin words without their punctuation, Chinese by two characters."""
    return [w for w in (t.strip(".,;:!?\"'()。，、；：！？") for t in _TOKEN.findall(text)) if w]


class FakeEdge:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.connections: list[dict] = []  # query, headers and the text frames of each connection
        self._faults: deque = deque()
        self._server = None

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}{PATH}"

    def fail(self, *faults) -> None:
        with self.lock:
            self._faults.extend(faults)

    def ssml(self) -> list[str]:
        return [frame for c in self.connections for frame in c["frames"] if "Path:ssml" in frame]

    def _process_request(self, connection, request):
        with self.lock:
            self.connections.append({"query": parse_qs(urlsplit(request.path).query), "headers": request.headers,
                                     "frames": [], "path": urlsplit(request.path).path})
            fault = self._faults[0] if self._faults else None
            if isinstance(fault, tuple) and fault[0] == "status":
                self._faults.popleft()
                status = fault[1]
                headers = Headers({"Date": formatdate(usegmt=True), "Content-Type": "text/plain"})
                if status == 429:
                    headers["Retry-After"] = "0"
                return Response(status, "refused", headers, b"refused")
        if urlsplit(request.path).path != PATH:
            return Response(404, "Not Found", Headers({"Date": formatdate(usegmt=True)}), b"")
        return None

    def _handle(self, ws) -> None:
        record = self.connections[-1]
        with self.lock:
            fault = self._faults.popleft() if self._faults else None
        config = ws.recv(timeout=10)
        ssml = ws.recv(timeout=10)
        record["frames"] += [config, ssml]
        if fault == "drop":
            ws.socket.close()  # no close frame: the connection is simply gone
            return
        if fault == "hang":
            try:
                ws.recv(timeout=30)
            except Exception:  # noqa: BLE001 - the client gave up
                pass
            return
        request_id = re.search(r"X-RequestId:(\w+)", ssml).group(1)
        text = html.unescape(re.search(r"<prosody[^>]*>(.*)</prosody>", ssml, re.S).group(1))
        ws.send(f"X-RequestId:{request_id}\r\nContent-Type:application/json; charset=utf-8\r\nPath:turn.start\r\n\r\n"
                '{"context":{"serviceTag":"fake"}}')
        if fault == "garble":
            ws.send(f"X-RequestId:{request_id}\r\nPath:surprise\r\n\r\n{{}}")
            return
        words = words_of(text)
        audio = mp3(round(0.1 + WORD_S * max(1, len(words)) + 0.1, 3))
        step = max(1, len(audio) // max(1, len(words)))
        head = f"X-RequestId:{request_id}\r\nContent-Type:audio/mpeg\r\nX-StreamId:fake\r\nPath:audio\r\n".encode()
        for n, word in enumerate(words):
            offset = LEAD_TICKS + round(n * WORD_S * 10_000_000)
            event = {"Metadata": [{"Type": "WordBoundary", "Data": {
                "Offset": offset, "Duration": 2_000_000, "text": {"Text": html.escape(word), "Length": len(word),
                                                                  "BoundaryType": "WordBoundary"}}}]}
            ws.send(f"X-RequestId:{request_id}\r\nContent-Type:application/json; charset=utf-8\r\nPath:audio.metadata\r\n\r\n"
                    + json.dumps(event, ensure_ascii=False))
            ws.send(len(head).to_bytes(2, "big") + head + audio[n * step:(n + 1) * step])
        rest = audio[len(words) * step:] if words else audio
        if rest:
            ws.send(len(head).to_bytes(2, "big") + head + rest)
        end = head.replace(b"Content-Type:audio/mpeg\r\n", b"")
        ws.send(len(end).to_bytes(2, "big") + end)  # the stream's end: audio headers, no Content-Type, no bytes
        ws.send(f"X-RequestId:{request_id}\r\nContent-Type:application/json; charset=utf-8\r\nPath:turn.end\r\n\r\n"
                '{"context":{"serviceTag":"fake"}}')

    def __enter__(self) -> FakeEdge:
        self._server = serve(self._handle, "127.0.0.1", 0, process_request=self._process_request, max_size=2**22)
        threading.Thread(target=self._server.serve_forever, daemon=True, name="FakeEdge").start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()

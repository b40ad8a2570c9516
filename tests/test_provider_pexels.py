"""PexelsFootage against a fake Pexels API and CDN serving real MP4s: search, pick, download, cache, credit, limits."""

from __future__ import annotations

import time

import httpx
import pytest
from PIL import Image

from tests.fakes.pexels import FakePexels
from tests.fakes.server import Reply
from ytmaker.errors import CredentialsRejected, ProviderUnavailable
from ytmaker.media.clips import TIMESCALE
from ytmaker.media.ffmpeg import query_ffmpeg
from ytmaker.media.probe import probe
from ytmaker.providers.base import ImageRequest
from ytmaker.providers.pexels import MAX_JOINED, PexelsFootage, pick_file, pick_videos
from ytmaker.providers.ratelimit import MemoryRateLimiter, RedisRateLimiter
from ytmaker.providers.retrying import QuickRetry
from ytmaker.providers.slides import SlideImages

KEY = "pexels-SECRET-key-563492ad6f91700001"
NARRATION = "Honeybees dance on the comb to tell the others where the flowers are."


def request(width=320, height=180, **overrides) -> ImageRequest:
    values = dict(index=1, description="bees on a honeycomb", caption="Honeybees", topic="How bees talk", width=width,
                  height=height, aspect_ratio="16:9" if width > height else "9:16", narration=NARRATION, language="en")
    values.update(overrides)
    return ImageRequest(**values)


@pytest.fixture
def fake():
    with FakePexels(KEY) as server:
        yield server


def footage(fake, tmp_path, *, limiter=None, retry=None, timeout_s=10.0, **kwargs) -> PexelsFootage:
    return PexelsFootage(api_key=kwargs.pop("api_key", KEY), client=httpx.Client(base_url=fake.url, timeout=timeout_s),
                         cache_dir=tmp_path / "data" / "pexels",
                         limiter=limiter or MemoryRateLimiter(name="pexels", limit=200, window_s=3600, max_wait_s=1),
                         retry=retry or QuickRetry(attempts=2, first_wait_s=0.01, max_wait_s=1), fallback=SlideImages(),
                         **kwargs)


def test_a_long_enough_clip_in_the_orientation_is_fetched_taken_in_cached_and_credited(fake, tmp_path):
    fake.add_video("Honeybees", 11, duration=1.0, color="blue")  # too short for the narration (~5 s)
    fake.add_video("Honeybees", 22, duration=6.0, color="red", author="Ana Lima", sizes=((640, 360), (320, 180)))
    out = tmp_path / "poster.png"
    got = footage(fake, tmp_path).footage(request(), out)

    [search] = fake.api_calls()
    assert search.path == "/videos/search" and search.headers["authorization"] == KEY  # the bare key
    assert search.query["orientation"] == "landscape" and search.query["query"] == "honeybees"  # the segment's keyphrase
    [download] = fake.downloads()
    assert download.path == "/cdn/video-files/22/320x180.mp4"  # the smallest file covering 320x180
    assert "authorization" not in download.headers  # the key never goes to the CDN
    assert got.clip == tmp_path / "data" / "pexels" / "videos" / "22.mp4" and abs(got.duration_s - 6.0) < 0.2
    info = probe(got.clip)
    assert info.video_codec == "h264" and info.audio_codec is None  # muted: video only
    assert f"{TIMESCALE // 1000}k tbn" in query_ffmpeg(["-i", str(got.clip)], check=False).stderr
    assert got.credit == "Video by Ana Lima on Pexels: https://www.pexels.com/video/22/" and got.warning is None
    assert got.more_clips == ()  # one clip is enough: nothing joined
    with Image.open(out) as poster:
        assert poster.format == "PNG" and poster.size == (320, 180)
        assert poster.getpixel((160, 90))[0] > 200  # the red clip's first frame
    assert KEY not in "".join(p.read_bytes().decode("latin-1") for p in (tmp_path / "data").rglob("*") if p.is_file())


def test_a_clip_is_fetched_once_across_projects(fake, tmp_path):
    fake.add_video("Honeybees", 22, duration=6.0)
    footage(fake, tmp_path).footage(request(), tmp_path / "a.png")
    again = footage(fake, tmp_path).footage(request(index=4), tmp_path / "b.png")  # another project, another worker

    assert len(fake.downloads()) == 1 and len(fake.api_calls()) == 2 and again.clip.name == "22.mp4"


def test_clips_each_shorter_than_the_segment_are_joined_each_fetched_taken_in_and_credited(fake, tmp_path):
    fake.add_video("Honeybees", 11, duration=2.0, color="blue", author="Bo Chen")
    fake.add_video("Honeybees", 12, duration=1.0, color="lime")  # with 11 still short of the narration (~5.2 s)
    fake.add_video("Honeybees", 13, duration=3.5, color="red", author="Ana Lima")
    out = tmp_path / "poster.png"
    got = footage(fake, tmp_path).footage(request(), out)

    # the first two results adding up to the segment, the most relevant first; 12 is never fetched
    assert sorted(d.path for d in fake.downloads()) == ["/cdn/video-files/11/320x180.mp4", "/cdn/video-files/13/320x180.mp4"]
    videos = tmp_path / "data" / "pexels" / "videos"
    assert got.clip == videos / "11.mp4" and abs(got.duration_s - 2.0) < 0.2
    [(second, second_s)] = got.more_clips
    assert second == videos / "13.mp4" and abs(second_s - 3.5) < 0.2
    assert probe(second).audio_codec is None and f"{TIMESCALE // 1000}k tbn" in query_ffmpeg(["-i", str(second)], check=False).stderr
    assert got.credit.splitlines() == ["Video by Bo Chen on Pexels: https://www.pexels.com/video/11/",
                                       "Video by Ana Lima on Pexels: https://www.pexels.com/video/13/"]
    with Image.open(out) as poster:
        assert poster.getpixel((160, 90))[2] > 200 and poster.getpixel((160, 90))[0] < 60  # the first clip's first frame

    again = footage(fake, tmp_path).footage(request(index=3), tmp_path / "again.png")
    assert again == got and len(fake.downloads()) == 2  # both cached


def test_portrait_videos_are_searched_for_9_16_and_clips_short_even_together_are_all_taken(fake, tmp_path):
    fake.add_video("Honeybees", 5, duration=2.0, sizes=((180, 320),))
    fake.add_video("Honeybees", 6, duration=3.0, sizes=((180, 320),))
    got = footage(fake, tmp_path).footage(request(90, 160), tmp_path / "p.png")

    assert fake.api_calls()[0].query["orientation"] == "portrait"
    assert got.clip.name == "5.mp4" and [c.name for c, _ in got.more_clips] == ["6.mp4"]  # 5 s of ~5.2: the renderer loops them
    assert pick_file({"video_files": [{"file_type": "video/mp4", "link": "x", "width": 640, "height": 360}]}, (1920, 1080))["link"] == "x"


def test_the_videos_picked_are_one_long_enough_else_the_fewest_adding_up_else_the_longest_few():
    def video(video_id: int, seconds: float, link: str = "x") -> dict:
        return {"id": video_id, "duration": seconds, "video_files": [{"file_type": "video/mp4", "link": link}]}

    found = [video(1, 2.0), video(2, 3.0), video(3, 1.0), video(4, 4.0), video(5, 2.5), video(9, 30.0, link="")]

    def ids(need_s: float, videos: list[dict] = found) -> list[int]:
        return [v["id"] for v in pick_videos(videos, need_s)]

    assert ids(3.5) == [4]  # the first long enough alone
    assert ids(6.0) == [1, 4]  # two: the earliest pair adding up
    assert ids(9.0) == [1, 2, 4] and MAX_JOINED == 3  # three: the earliest triple
    assert ids(11.0) == [2, 4, 5]  # short even together: the three longest, in the results' order (9 has no file)
    assert ids(4.0, [video(1, 2.0), video(1, 2.0)]) == [1] and ids(1.0, []) == []  # a video is never joined to itself


def test_no_video_falls_back_to_a_photo_then_to_the_slide_with_a_warning(fake, tmp_path):
    fake.add_photo("Honeybees", 77, photographer="Sam Roe")
    got = footage(fake, tmp_path).footage(request(), tmp_path / "photo.png")
    assert got.clip is None and got.credit == "Photo by Sam Roe on Pexels: https://www.pexels.com/photo/77/"
    with Image.open(tmp_path / "photo.png") as picture:
        assert picture.size == (320, 180) and picture.getpixel((160, 90))[2] > 200

    nothing = footage(fake, tmp_path).footage(request(caption="Quasars", narration="Quasars are bright."), tmp_path / "s.png")
    assert nothing.clip is None and nothing.credit == "" and "no video or photo" in nothing.warning
    assert Image.open(tmp_path / "s.png").size == (320, 180)  # the offline slide


def test_a_file_over_the_download_cap_is_skipped_for_a_photo(fake, tmp_path):
    fake.add_video("Honeybees", 22, duration=6.0)
    fake.add_photo("Honeybees", 78)
    # the photo (2.5 kB) fits, the clip (60 kB) does not
    got = footage(fake, tmp_path, max_download_bytes=20_000).footage(request(), tmp_path / "c.png")
    assert got.clip is None and "download cap" in got.warning and got.credit.startswith("Photo by")
    assert not list((tmp_path / "data" / "pexels" / "videos").glob("*"))  # nothing half-written left


def test_a_rejected_key_is_a_credentials_error_and_the_key_never_shows(fake, tmp_path):
    with pytest.raises(CredentialsRejected, match="YTMAKER_PEXELS_API_KEY") as caught:
        footage(fake, tmp_path, api_key="wrong-key-123456").footage(request(), tmp_path / "x.png")
    assert "Unauthorized" in str(caught.value) and KEY not in str(caught.value)


@pytest.mark.parametrize("reply", [Reply.json(502, {"error": "Bad Gateway"}), Reply(200, b"<html>cdn error</html>"),
                                   Reply(200, b'{"videos": [', {"Content-Type": "application/json"})],
                         ids=["502", "html-body", "cut-off-body"])
def test_server_errors_and_malformed_bodies_are_retried_then_transient(fake, tmp_path, reply):
    fake.add_video("Honeybees", 22, duration=6.0)
    fake.fail(reply)
    assert footage(fake, tmp_path).footage(request(), tmp_path / "a.png").clip is not None
    fake.fail(reply, reply)
    with pytest.raises(ProviderUnavailable):
        footage(fake, tmp_path).footage(request(), tmp_path / "b.png")


def test_a_hang_past_the_timeout_is_transient(fake, tmp_path):
    fake.fail(Reply(delay_s=1.0), Reply(delay_s=1.0))
    with pytest.raises(ProviderUnavailable, match="timed out"):
        footage(fake, tmp_path, timeout_s=0.2).footage(request(), tmp_path / "a.png")


def test_429_locks_every_worker_out_and_a_spent_hour_waits_for_the_reset(fake, tmp_path):
    limiter = MemoryRateLimiter(name="pexels", limit=200, window_s=3600, max_wait_s=0.5)
    fake.fail(Reply.json(429, {"error": "Too Many Requests"}))
    with pytest.raises(ProviderUnavailable, match="rate limit") as caught:
        footage(fake, tmp_path, limiter=limiter, retry=QuickRetry(attempts=1)).footage(request(), tmp_path / "a.png")
    assert caught.value.retry_after == 60
    with pytest.raises(ProviderUnavailable) as waiting:  # the lockout holds the next request, without asking Pexels
        footage(fake, tmp_path, limiter=limiter, retry=QuickRetry(attempts=1)).footage(request(), tmp_path / "b.png")
    assert waiting.value.retry_after > 50 and len(fake.api_calls()) == 1

    fake.remaining, fake.reset_at = 1, int(time.time()) + 900  # the hour's last request
    fake.add_video("Honeybees", 22, duration=6.0)
    fresh = MemoryRateLimiter(name="pexels", limit=200, window_s=3600, max_wait_s=0.5)
    assert footage(fake, tmp_path, limiter=fresh).footage(request(), tmp_path / "c.png").clip is not None
    with pytest.raises(ProviderUnavailable) as spent:  # Remaining: 0 -> nobody asks again before the reset
        footage(fake, tmp_path, limiter=fresh).footage(request(), tmp_path / "d.png")
    assert 850 < spent.value.retry_after <= 900 and len(fake.api_calls()) == 2


def test_the_hourly_limit_is_shared_by_workers_through_redis(fake, tmp_path, redis_client):
    name = f"pexels-test-{time.monotonic_ns()}"
    fake.add_video("Honeybees", 22, duration=6.0)
    try:
        workers = [footage(fake, tmp_path, limiter=RedisRateLimiter(redis_client, name=name, limit=2, window_s=3600,
                                                                    max_wait_s=0.5)) for _ in range(2)]
        workers[0].footage(request(), tmp_path / "a.png")
        workers[1].footage(request(), tmp_path / "b.png")
        with pytest.raises(ProviderUnavailable) as caught:
            workers[0].footage(request(), tmp_path / "c.png")
        assert caught.value.retry_after > 3000 and len(fake.api_calls()) == 2
    finally:
        redis_client.delete(f"ytmaker:ratelimit:{name}", f"ytmaker:ratelimit:{name}:lockout")


def test_the_file_picked_for_1080p_is_the_720p_one_cheapest_to_decode():
    files = [{"file_type": "video/mp4", "link": f"{w}x{h}", "width": w, "height": h}
             for w, h in ((3840, 2160), (1920, 1080), (1280, 720), (960, 540))]
    files.append({"file_type": "video/mp4", "link": "hls", "width": None, "height": None})
    assert pick_file({"video_files": files}, (1920, 1080))["link"] == "1280x720"
    assert pick_file({"video_files": files}, (3840, 2160))["link"] == "3840x2160"
    assert pick_file({"video_files": files[3:]}, (1920, 1080))["link"] == "960x540"  # the largest there is

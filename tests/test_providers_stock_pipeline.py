"""The pipeline end to end with the new providers against their fakes: an OpenAI-compatible writer, Edge's voices,
Pexels footage; and with a person's own media. Real FFmpeg, the stub broker, SQLite."""

from __future__ import annotations

import json
import subprocess

import pytest
from PIL import Image

from tests.conftest import fast_settings
from tests.fakes.edge import FakeEdge
from tests.fakes.gemini import VALID_SCRIPT
from tests.fakes.openai_chat import FakeOpenAI
from tests.fakes.pexels import FakePexels
from ytmaker.db.migrate import upgrade
from ytmaker.embedded import wait_for
from ytmaker.media.ffmpeg import ffmpeg_exe
from ytmaker.pipelines import start_generation
from ytmaker.pipelines.control import retry_project
from ytmaker.projects import create_project
from ytmaker.providers.own_media import take_in
from ytmaker.runtime import build_runtime, set_runtime
from ytmaker.stages import own_media
from ytmaker.stages.footage import CREDITS_HEADING, with_credits

OPENAI_KEY = "sk-SECRET-openai-stock-0a1b2c3d4e"
PEXELS_KEY = "pexels-SECRET-stock-5f6a7b8c9d"
TEXT = "Honeybees talk by dancing. The angle of the dance points to the food."


@pytest.fixture
def runtime(tmp_path, stub_broker, stub_worker, request):
    def build(**providers):
        rt = build_runtime(fast_settings(tmp_path, render_quality="tiny", provider_quick_max_wait_s=1.0, **providers),
                           broker=stub_broker)
        upgrade(rt.db)
        set_runtime(rt)
        request.addfinalizer(lambda: (set_runtime(None), rt.close()))
        return rt
    return build


def frame_at(video, seconds: float) -> tuple[int, int, int]:
    out = video.with_name(f"frame{seconds}.png")
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-ss", str(seconds), "-i", str(video),
                    "-frames:v", "1", str(out)], check=True, timeout=60)
    with Image.open(out) as image:
        return image.convert("RGB").getpixel((image.width // 2, image.height // 2))


def stored_text(rt) -> str:
    return "\n".join(p.read_bytes().decode("latin-1") for p in rt.settings.data_dir.rglob("*") if p.is_file())


def add_stock(pexels: FakePexels) -> None:
    """The first segment ("Honeybees talk by dancing.", ~1.5 s, its crossfade from ~1.1 s): two clips, each too short
    for it (~2 s wanted), joined: 0.5 s of red, then yellow. The second: one clip, looped."""
    pexels.add_video("honeybees", 31, duration=0.5, color="red", author="Ana Lima")
    pexels.add_video("honeybees", 33, duration=1.6, color="yellow", author="Cy Diaz")
    pexels.add_video("dance", 32, duration=1.0, color="blue", author="Bo Chen")
    pexels.add_video("food", 32, duration=1.0, color="blue", author="Bo Chen")


def is_red(pixel) -> bool:
    return pixel[0] > 180 and pixel[1] < 80 and pixel[2] < 80


def is_yellow(pixel) -> bool:
    return pixel[0] > 180 and pixel[1] > 180 and pixel[2] < 80


def stock_runtime(runtime, llm, edge, pexels):
    """The OpenAI-compatible writer, Edge's voices and Pexels' clips, each on its fake."""
    return runtime(script_provider="openai", openai_base_url=f"{llm.url}/v1", openai_api_key=OPENAI_KEY,
                   speech_provider="edge", edge_url=edge.url,
                   image_provider="pexels", pexels_base_url=pexels.url, pexels_api_key=PEXELS_KEY)


def test_a_video_from_an_openai_compatible_writer_edge_voices_and_pexels_clips(runtime, capfd):
    with FakeOpenAI(api_key=OPENAI_KEY) as llm, FakeEdge() as edge, FakePexels(PEXELS_KEY) as pexels:
        add_stock(pexels)
        rt = stock_runtime(runtime, llm, edge, pexels)
        project = create_project(rt, TEXT)
        final = wait_for(rt, start_generation(project.id), timeout_s=180)

        assert final.status == "completed", final.error
        assert len(llm.calls()) == 1 and len(edge.connections) == len(VALID_SCRIPT["segments"])
        folder = rt.project_dir(project.id)
        assert (folder / "audio" / "000.words.json").exists()  # Edge's word boundaries, for the captions
        sidecar = json.loads((folder / "images" / "000.clip.json").read_text())
        assert sidecar["clip"] == "pexels/videos/31.mp4" and [c["clip"] for c in sidecar["more_clips"]] == ["pexels/videos/33.mp4"]
        assert sidecar["credit"].splitlines()[0].startswith("Video by Ana Lima")
        assert json.loads((folder / "images" / "001.clip.json").read_text())["more_clips"] == []
        video = folder / "video.mp4"
        assert is_red(frame_at(video, 0.25)) and is_yellow(frame_at(video, 0.8))  # the first stock clip, then the second
        [published] = (rt.settings.data_dir / "published").iterdir()
        description = json.loads((published / "metadata.json").read_text())["description"]
        assert all(f"Video by {who} on Pexels" in description for who in ("Ana Lima", "Cy Diaz", "Bo Chen"))
        assert description.count("Video by Bo Chen") == 1  # two segments' credit for one clip: once
        assert "https://www.pexels.com" in description
        everything = stored_text(rt) + capfd.readouterr().out + capfd.readouterr().err + json.dumps(rt.progress.get(project.id))
        assert OPENAI_KEY not in everything and PEXELS_KEY not in everything


def test_a_sidecar_of_one_clip_written_before_joins_still_renders_looping_it(runtime, tmp_path):
    with FakeOpenAI(api_key=OPENAI_KEY) as llm, FakeEdge() as edge, FakePexels(PEXELS_KEY) as pexels:
        add_stock(pexels)
        rt = stock_runtime(runtime, llm, edge, pexels)
        bad = tmp_path / "music.mp3"
        bad.write_bytes(b"not an mp3" * 100)
        rt.settings.music = bad  # the render fails, after the images and their sidecars are made
        project = create_project(rt, TEXT)
        assert wait_for(rt, start_generation(project.id), timeout_s=180).failed_stage == "render"
        sidecar = rt.project_dir(project.id) / "images" / "000.clip.json"
        new = json.loads(sidecar.read_text())
        sidecar.write_text(json.dumps({"clip": new["clip"], "duration_s": new["duration_s"],  # as written before joins
                                       "credit": new["credit"].splitlines()[0]}))
        rt.settings.music = None
        retry_project(rt, project.id)
        final = wait_for(rt, project.id, timeout_s=180)

        assert final.status == "completed", final.error
        video = rt.project_dir(project.id) / "video.mp4"
        assert is_red(frame_at(video, 0.25)) and is_red(frame_at(video, 0.8))  # the one clip, looped


def test_own_media_matched_by_number_and_name_through_the_same_renderer(runtime, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=lime:s=320x240:r=24:d=1",
                    "-f", "lavfi", "-i", "sine=d=1", "-c:v", "mjpeg", "-c:a", "pcm_s16le", str(mine / "dance-angle.mov")],
                   check=True, timeout=60)  # not H.264: converted when taken in
    Image.new("RGB", (300, 500), (200, 0, 200)).save(mine / "01.jpg")
    rt = runtime()
    project = create_project(rt, "# Bees\n\nHoneybees talk by dancing on the comb.\n\n## The dance\n\n"
                                 "The angle of the dance points to the food.\n\n## The hive\n\nThe hive listens.")
    take_in([mine / "01.jpg", mine / "dance-angle.mov"], own_media.folder(rt, project.id))
    final = wait_for(rt, start_generation(project.id), timeout_s=180)

    assert final.status == "completed", final.error
    folder = rt.project_dir(project.id)
    assert json.loads((folder / "images" / "000.clip.json").read_text())["clip"] is None  # 01.jpg: the first segment's still
    clips = [json.loads(p.read_text())["clip"] for p in sorted((folder / "images").glob("*.clip.json"))]
    # segments: the title card (01.jpg), "Honeybees talk", "The dance" (dance-angle.mov, by name), "The hive" (in turn)
    assert clips[2] == f"projects/{project.id}/media/.taken/dance-angle.mp4", clips
    assert clips[1] is None and clips[3] == clips[2]  # every file is used, so all of them again in turn: 01.jpg, the clip
    assert json.loads((folder / "images" / "002.clip.json").read_text())["more_clips"] == []  # one clip of your own: no joins
    video = folder / "video.mp4"
    pixel = frame_at(video, 0.3)
    assert pixel[0] > 150 and pixel[1] < 80 and pixel[2] > 150  # the magenta picture, cut to the frame


def test_the_description_credits_each_author_of_joined_clips_once():
    text = with_credits("About bees.", ["Video by A on Pexels: a\nVideo by B on Pexels: b", "Video by B on Pexels: b", ""])
    assert text == "About bees.\n\n" + "\n".join([CREDITS_HEADING, "Video by A on Pexels: a", "Video by B on Pexels: b"])

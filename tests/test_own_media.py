"""A person's own media: which file each segment gets, the folder checked before a project exists, doctor's lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.service_support import service_rt  # noqa: F401  (fixture)
from ytmaker.cli import app
from ytmaker.config import Settings
from ytmaker.doctor import check_stages
from ytmaker.errors import InvalidInput
from ytmaker.providers.own_media import assign, ignored, scan, take_in


def test_files_go_by_number_then_by_name_then_in_turn():
    files = [Path(n) for n in ("02-anything.jpg", "beach.png", "waggle-dance.mov", "zebra.mp4")]
    segments = ["Intro Honeybees talk.", "Food The dance points to food.", "The waggle dance Bees dance a figure eight.",
                "Hive The hive listens.", "End Thanks."]

    chosen = assign(files, segments)

    assert chosen[1] == Path("02-anything.jpg")  # numbered from 1
    assert chosen[2] == Path("waggle-dance.mov")  # shares "waggle" and "dance" with the segment
    assert chosen[0] == Path("beach.png") and chosen[3] == Path("zebra.mp4")  # the unused ones, in name order
    assert chosen[4] == Path("02-anything.jpg")  # then all of them again, in turn


def test_a_folder_without_media_is_refused_and_files_are_linked_into_the_project(tmp_path):
    with pytest.raises(InvalidInput, match="no such folder"):
        scan(tmp_path / "missing")
    (tmp_path / "notes.txt").write_text("not media")
    with pytest.raises(InvalidInput, match="no images"):
        scan(tmp_path)
    (tmp_path / "B.JPG").write_bytes(b"x")
    (tmp_path / "a.mp4").write_bytes(b"y")
    files = scan(tmp_path)
    assert [f.name for f in files] == ["a.mp4", "B.JPG"]
    (tmp_path / "loop.gif").write_bytes(b"GIF89a")
    (tmp_path / ".DS_Store").write_bytes(b"")
    assert ignored(tmp_path) == ["loop.gif", "notes.txt"]  # said, so a person knows why they are not in the video
    taken = take_in(files, tmp_path / "project" / "media")
    assert [t.read_bytes() for t in taken] == [b"y", b"x"]


def test_pictures_of_any_pixel_mode_become_rgb_slides_of_the_video_size(tmp_path):
    from PIL import Image

    from ytmaker.providers.base import ImageRequest
    from ytmaker.providers.own_media import OwnMedia

    Image.new("L", (800, 1000), 90).save(tmp_path / "grey.png")
    Image.new("RGBA", (500, 500), (0, 200, 0, 128)).save(tmp_path / "logo.png")
    Image.new("RGB", (300, 200), (10, 20, 200)).convert("P").save(tmp_path / "palette.png")
    media = OwnMedia(scan(tmp_path), tmp_path / ".taken")
    for i in range(3):
        out = tmp_path / f"{i}.png"
        media.footage(ImageRequest(i, "", "", "", 320, 180, "16:9"), out)
        with Image.open(out) as slide:
            assert (slide.mode, slide.size) == ("RGB", (320, 180))


def test_make_refuses_a_missing_media_folder_before_creating_a_project(tmp_path, monkeypatch):
    monkeypatch.setenv("YTMAKER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "300")
    text = tmp_path / "t.txt"
    text.write_text("Honeybees talk by dancing.")
    result = CliRunner().invoke(app, ["make", str(text), "--media", str(tmp_path / "nope")])
    assert result.exit_code == 1 and "no such folder" in " ".join(result.output.split())  # rich may wrap the long path
    assert not (tmp_path / "data" / "projects").exists()


def test_doctor_lists_the_new_providers_and_what_they_need():
    checks = {c.what: c for c in check_stages(Settings(_env_file=None, script_provider="openai", image_provider="pexels",
                                                       speech_provider="edge", openai_base_url="http://localhost:11434/v1"))}
    assert checks["script"].ok and "localhost:11434" in checks["script"].detail
    assert not checks["images"].ok and "YTMAKER_PEXELS_API_KEY" in checks["images"].detail
    assert checks["audio"].ok and "--voice" in checks["audio"].detail


def _png(color: tuple[int, int, int]) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (320, 180), color).save(out, "PNG")
    return out.getvalue()


def test_the_api_takes_your_own_images_with_the_text_and_the_segments_show_them(service_rt):  # noqa: F811
    from fastapi.testclient import TestClient
    from PIL import Image

    from tests.helpers import SHORT_TEXT, wait_until
    from ytmaker.service.app import create_app
    from ytmaker.stages.files import existing_assets

    api = "/api/v1/projects"
    with TestClient(create_app(service_rt)) as client:
        refused = client.post(api, data={"text": SHORT_TEXT}, files=[("media", ("run.exe", b"MZ", "application/octet-stream"))])
        assert refused.status_code == 422 and "not an image" in refused.json()["detail"]
        assert client.get(api).json()["items"] == []
        made = client.post(api, data={"text": SHORT_TEXT}, files=[
            ("media", ("../../01-red.png", _png((220, 20, 20)), "image/png"))])
        assert made.status_code == 201, made.text
        project_id = made.json()["id"]
        wait_until(lambda: client.get(f"{api}/{project_id}").json()["status"] == "completed", 60, "the project")
    media = service_rt.project_dir(project_id) / "media"
    assert [p.name for p in media.iterdir() if p.is_file()] == ["01-red.png"]  # the name's path parts dropped
    images = existing_assets(service_rt, project_id, "image")
    with Image.open(service_rt.path(images[0].path)) as still:
        red, green, _ = still.convert("RGB").getpixel((still.width // 2, still.height // 2))
    assert red > 180 and green < 60  # the segment's picture is the person's own image, not a drawn slide

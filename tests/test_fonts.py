"""Fonts: fontconfig's choice when it has a suitable one, the list of usual places when not, the bundled one last."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from ytmaker.errors import InvalidInput
from ytmaker.media import fonts
from ytmaker.media.captions import make_captions
from ytmaker.media.cmap import character_map
from ytmaker.media.fonts import font_path


@pytest.fixture(autouse=True)
def fresh_cache():
    font_path.cache_clear()
    yield
    font_path.cache_clear()  # the next tests get the real fonts, not this test's


def _glyph(font_file: str, character: str) -> bytes:
    font = ImageFont.truetype(font_file, 48)
    image = Image.new("L", (64, 64), 0)
    ImageDraw.Draw(image).text((8, 4), character, font=font, fill=255)
    return image.tobytes()


def _cjk_installed() -> bool:
    if shutil.which("fc-list"):
        return bool(subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, check=False).stdout.strip())
    return any(Path(c).is_file() for c in fonts.CJK_CANDIDATES)


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="fontconfig is not installed")
def test_the_latin_font_is_fontconfigs_choice():
    chosen = subprocess.run(["fc-match", "-f", "%{file}", fonts.LATIN_PATTERN], capture_output=True, text=True,
                            check=True).stdout

    path = font_path()

    assert path is not None and Path(path).is_file()
    if chosen.endswith(fonts.LOADABLE):
        assert path == chosen


@pytest.mark.skipif(not _cjk_installed(), reason="no CJK font installed (apt install fonts-wqy-zenhei)")
def test_the_cjk_font_draws_chinese_characters_not_empty_boxes():
    path = font_path(cjk=True)

    assert path is not None and Path(path).is_file()
    # A font without these characters draws the same .notdef box for both.
    sun, moon = _glyph(path, "日"), _glyph(path, "阳")
    assert sun != moon
    assert any(sun) and any(moon)


def test_without_fontconfig_the_list_of_usual_places_is_used(tmp_path, monkeypatch):
    # Given no fc-match or fc-list on PATH, and one listed font installed of each kind,
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    latin, cjk = tmp_path / "Latin-Bold.ttf", tmp_path / "cjk.ttc"
    latin.write_bytes(b"")
    cjk.write_bytes(b"")
    monkeypatch.setattr(fonts, "LATIN_CANDIDATES", [str(tmp_path / "absent.ttf"), str(latin)])
    monkeypatch.setattr(fonts, "CJK_CANDIDATES", [str(tmp_path / "absent.ttc"), str(cjk)])

    # then the first installed one is found.
    assert font_path() == str(latin)
    assert font_path(cjk=True) == str(cjk)


def test_a_fontconfig_without_chinese_falls_back_and_is_asked_once(tmp_path, monkeypatch):
    # Given a fontconfig that matches a Latin font for every request and lists none covering Chinese,
    latin = tmp_path / "Sans-Bold.ttf"
    latin.write_bytes(b"")
    asked = tmp_path / "asked"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool, output in (("fc-match", str(latin)), ("fc-list", "")):
        script = bin_dir / tool
        script.write_text(f"#!/bin/sh\necho {tool} >> {asked}\nprintf '%s' '{output}'\n")
        script.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    fallback = tmp_path / "listed.ttc"
    fallback.write_bytes(b"")
    monkeypatch.setattr(fonts, "CJK_CANDIDATES", [str(fallback)])

    # then Latin text gets fontconfig's font, Chinese the listed one, and each answer is remembered.
    assert font_path() == str(latin)
    assert font_path(cjk=True) == str(fallback)
    assert font_path() == str(latin) and font_path(cjk=True) == str(fallback)
    assert asked.read_text().split() == ["fc-match", "fc-list"]


@pytest.fixture
def no_system_fonts(tmp_path, monkeypatch):
    """A machine with no fontconfig and none of the usual font files: only what installs with ytmaker."""
    empty = tmp_path / "no-fonts-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(fonts, "LATIN_CANDIDATES", [str(tmp_path / "absent.ttf")])
    monkeypatch.setattr(fonts, "CJK_CANDIDATES", [str(tmp_path / "absent.ttc")])


def test_on_a_machine_without_fonts_a_chinese_cue_is_drawn_with_real_glyphs(no_system_fonts, tmp_path):
    # Given only the bundled font,
    bundled = fonts.bundled_font()
    assert bundled is not None and Path(bundled).is_file()
    assert font_path(cjk=True) == bundled and font_path() == bundled

    # when a Chinese narration is cued for the render,
    captions = make_captions(["太阳能发电越来越便宜，屋顶上的电池板把阳光变成电。"], [0.0], [4.0], (1280, 720), tmp_path)

    # then it is drawn with that font, and no character is the font's .notdef box.
    assert captions.font == bundled
    notdef = _glyph(bundled, "\uffff")
    characters = [c for cue in captions.cues for line in cue.lines for c in line if c.isalpha()]
    assert len(characters) >= 20
    assert all(_glyph(bundled, c) != notdef for c in characters)
    assert fonts.undrawable("".join(characters)) == []


def test_the_character_map_agrees_with_what_the_font_draws():
    # A font's cmap says which characters have a glyph; drawing says the same (others are the .notdef box).
    for path in {font_path(), fonts.bundled_font()} - {None}:
        notdef = _glyph(path, "\uffff")
        cmap = character_map(path)
        for character in "aZéßЖλע中日阳あア한ក":
            assert (character in cmap) == (_glyph(path, character) != notdef), (path, character)


def test_letters_no_font_has_are_refused_naming_their_script(no_system_fonts):
    fonts.check_drawable("Solar power, 太阳能, солнечная энергия, 태양광")
    with pytest.raises(InvalidInput, match=r"2 letters of this text \(ក ព: KHMER\).*empty boxes.*KHMER"):
        fonts.check_drawable("Solar ក ព ក")


def test_a_cjk_collection_draws_chinese_with_its_simplified_chinese_face():
    import importlib.util

    from ytmaker.media.fonts import face_index, open_font

    spec = importlib.util.find_spec("noto_cjk_sans_otc")
    assert spec is not None and spec.submodule_search_locations  # installed with the project
    collection = str(next(Path(spec.submodule_search_locations[0]).glob("*.tt[co]")))
    assert face_index(collection) > 0  # face 0 is the Japanese one
    assert open_font(collection, 40).getname()[0].endswith(" SC")
    # 骨 and 直 are drawn differently in Japan and in China: the face chosen is not face 0's shape

    def shape(font: ImageFont.FreeTypeFont, character: str) -> bytes:
        picture = Image.new("L", (60, 60))
        ImageDraw.Draw(picture).text((5, 5), character, font=font, fill=255)
        return picture.tobytes()

    japanese, chinese = ImageFont.truetype(collection, 40, index=0), open_font(collection, 40)
    assert all(shape(japanese, c) != shape(chinese, c) for c in "骨直")

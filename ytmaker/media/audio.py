"""The soundtrack: narrations in step with the pictures, music looped, faded and ducked, loudness set by measuring first.

``loudnorm`` was dropped from the render: it resamples to 192 kHz (3.3 CPU-s
per minute of video, more than the rest of the audio together) and delays the
sound by its 3 s window, so FFmpeg held 3 s of 1080p frames meanwhile (90 MB).
Instead, an audio-only pass makes the mix (about 0.4 CPU-s per minute), writes
it to a WAV file beside the output and measures its integrated loudness with
``ebur128`` on the way; the render reads that one file (not one input per
narration: a hundred open inputs cost FFmpeg 40 MB), applies the fixed gain that
brings it to -14 LUFS and a limiter that keeps the peaks a gain may have raised
below -1.5 dBFS. The mix is 32-bit float, so the gain loses nothing. When the
gain lifts the mix's peaks over that ceiling, the limiter takes some loudness
away (0.6 LU on espeak's narration): check passes then measure the gained and
limited mix and correct the gain (secant steps, at most ``MAX_CHECKS``) until it
is within ``TOLERANCE_LU`` of the target. Each reads the mix file: 0.2 CPU-s per
minute of video.

The functions building arguments are pure; ``mix_and_measure`` runs the pass with
the same runner as the render (deadline, process group, errors with the command).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ytmaker.errors import MediaError
from ytmaker.media.ffmpeg import run_ffmpeg
from ytmaker.media.filters import choose

SAMPLE_RATE = 48000
#: YouTube's reference loudness, and the ceiling the limiter holds the peaks under
LOUDNESS_LUFS = -14
PEAK_DBFS = -1.5
#: a silent or near-silent mix is not boosted by more than this (it would only raise the noise)
MAX_GAIN_DB = 20.0
#: how close to the target the check passes bring a limited mix, and how many they may take
TOLERANCE_LU = 0.3
MAX_CHECKS = 3
#: the music's level, and its fades
MUSIC_GAIN = 0.3
MUSIC_FADE_IN_S = 1.5
MUSIC_FADE_OUT_S = 2.5
#: the music under a segment's narration: this share of its level (-12 dB, Audacity's Auto Duck default and about
#: what the compressor used before took under espeak's narration), lowered over DUCK_DOWN_S before the narration
#: starts and raised over DUCK_UP_S after it ends, in steps of DUCK_STEP_SAMPLES (10 ms)
DUCK = 0.25
DUCK_DOWN_S = 0.15
DUCK_UP_S = 0.3
DUCK_STEP_SAMPLES = 480

_INTEGRATED = re.compile(r"Integrated loudness:\s*\n\s*I:\s*(-?[\d.]+|-inf) LUFS")
_PEAK = re.compile(r"Sample peak:\s*\n\s*Peak:\s*(-?[\d.]+|-inf) dBFS")


def duck_gain(starts_s: list[float], ends_s: list[float]) -> str:
    """``volume``'s expression of ``t``: ``DUCK`` while narration ``i`` speaks (``starts_s[i]`` to ``ends_s[i]``), 1 away
    from it, straight ramps between; near a boundary the lower of the two narrations' gains (``filters.choose``).
    ``t`` is NAN when FFmpeg first evaluates it, before any frame."""
    def around(i: int) -> str:  # the gain narration i allows: DUCK on it, rising on both sides
        return (f"({DUCK:g}+{1 - DUCK:g}*max(0,max(({starts_s[i]:.3f}-t)/{DUCK_DOWN_S:g},"
                f"(t-{ends_s[i]:.3f})/{DUCK_UP_S:g})))")

    leaves = [f"min(1,{around(0)})"] + [f"min(1,min({around(i)},{around(i - 1)}))" for i in range(1, len(starts_s))]
    thresholds = [f"{start - DUCK_DOWN_S:.3f}" for start in starts_s]
    return f"if(isnan(t),1,{choose('t', thresholds, leaves)})"


def mix_chains(samples: list[int], first_audio: int, music_input: int | None, spoken_s: list[float | None] | None = None) -> list[str]:
    """Filter chains making ``[mix]``: narration ``i`` (input ``first_audio + i``) padded to ``samples[i]``, then the music
    ducked under each narration's first ``spoken_s[i]`` seconds (None, or no list: the whole segment).

    The narrations stay mono until the mix, and the music is ducked by the narrations' known times, not by a
    compressor listening to them: ``sidechaincompress`` took two fifths of this pass's instructions (a logarithm
    and an exponential per sample), and its gain pumped with the pauses between sentences.
    """
    n = len(samples)
    chains = [f"[{first_audio + i}:a]aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=mono,"
              f"apad=whole_len={count},atrim=end_sample={count},asetpts=PTS-STARTPTS[a{i}]"
              for i, count in enumerate(samples)]
    narration = "".join(f"[a{i}]" for i in range(n)) + f"concat=n={n}:v=0:a=1,aformat=channel_layouts=stereo"
    if music_input is None:
        return chains + [narration + "[mix]"]
    total = sum(samples)
    duration_s = total / SAMPLE_RATE
    fade_in = min(MUSIC_FADE_IN_S, duration_s / 2)
    fade_out = min(MUSIC_FADE_OUT_S, duration_s / 2)
    starts_s = [sum(samples[:i]) / SAMPLE_RATE for i in range(n)]
    lengths_s = [count / SAMPLE_RATE for count in samples]
    spoken = spoken_s or [None] * n
    ends_s = [start + min(length, said if said is not None else length) for start, length, said in zip(starts_s, lengths_s, spoken)]
    return chains + [
        narration + "[narration]",
        f"[{music_input}:a]aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,"
        f"atrim=end_sample={total},asetpts=PTS-STARTPTS,volume={MUSIC_GAIN},"
        f"afade=t=in:d={fade_in:.3f},afade=t=out:st={duration_s - fade_out:.3f}:d={fade_out:.3f},"
        f"asetnsamples=n={DUCK_STEP_SAMPLES}:p=0,volume='{duck_gain(starts_s, ends_s)}':eval=frame[ducked]",
        "[narration][ducked]amix=inputs=2:duration=first:normalize=0[mix]",
    ]


@dataclass(frozen=True)
class Level:
    """What the render does to the mix: raise it by ``gain_db``, then ``limit`` its peaks under ``PEAK_DBFS`` when the
    gain lifts them over it. A limiter with nothing to do still cost 0.06 CPU-s a minute."""

    gain_db: float = 0.0
    limit: bool = True


#: a mix not measured: no gain, its peaks limited
UNMEASURED = Level()


def master_filters(gain_db: float, limit: bool = True) -> str:
    """The measured gain, then a limiter (no auto-level; its lookahead delay compensated) if ``limit``."""
    ceiling = 10 ** (PEAK_DBFS / 20)
    return f"volume={gain_db:.2f}dB" + (f",alimiter=limit={ceiling:.4f}:level=false:latency=true" if limit else "")


def master_chain(mix_input: int, level: Level) -> str:
    """The mix (input ``mix_input``) to ``[aout]`` through ``master_filters``."""
    return f"[{mix_input}:a]{master_filters(level.gain_db, level.limit)}[aout]"


def audio_inputs(narrations: list[Path], music: Path | None) -> list[str]:
    """The narrations, then the music looped (``-stream_loop``: the mix cuts it to the video)."""
    args: list[str] = []
    for path in narrations:
        args += ["-i", str(path)]
    if music:
        args += ["-stream_loop", "-1", "-i", str(music)]
    return args


def mix_args(narrations: list[Path], samples: list[int], music: Path | None, out: Path,
             spoken_s: list[float | None] | None = None) -> list[str]:
    """The audio-only pass: the mix, measured by ``ebur128`` as it passes, written to ``out`` (float WAV)."""
    music_input = len(narrations) if music else None
    graph = ";\n".join(mix_chains(samples, 0, music_input, spoken_s) + ["[mix]ebur128=framelog=quiet:peak=sample[measured]"])
    return [*audio_inputs(narrations, music), "-filter_complex", graph, "-map", "[measured]",
            "-c:a", "pcm_f32le", "-f", "wav", str(out)]


def check_args(mix: Path, gain_db: float) -> list[str]:
    """The second pass: the mix through the render's gain and limiter, measured again."""
    return ["-i", str(mix), "-af", f"{master_filters(gain_db)},ebur128=framelog=quiet", "-f", "null", "-"]


def _summary(pattern: re.Pattern, log: str, what: str) -> float:
    found = pattern.findall(log)
    if not found:
        raise MediaError(f"the loudness pass printed no {what}", stderr=log[-4000:])
    return float("-inf") if found[-1] == "-inf" else float(found[-1])


def parse_integrated(log: str) -> float:
    """The integrated loudness (LUFS) from ``ebur128``'s summary in FFmpeg's log."""
    return _summary(_INTEGRATED, log, "integrated loudness")


def parse_peak(log: str) -> float:
    """The sample peak (dBFS) from ``ebur128``'s summary (``peak=sample``)."""
    return _summary(_PEAK, log, "sample peak")


def gain_for(integrated_lufs: float, current_gain_db: float = 0.0) -> float:
    """The gain (dB) bringing a mix measured at ``integrated_lufs`` under ``current_gain_db`` to the target.

    At most ``MAX_GAIN_DB`` either way; a silent mix keeps the gain it has.
    """
    if integrated_lufs == float("-inf"):
        return current_gain_db
    return round(max(-MAX_GAIN_DB, min(MAX_GAIN_DB, current_gain_db + LOUDNESS_LUFS - integrated_lufs)), 2)


def mix_and_measure(narrations: list[Path], samples: list[int], music: Path | None, out: Path, *,
                    spoken_s: list[float | None] | None = None, timeout_s: float | None = None,
                    should_cancel: Callable[[], bool] | None = None) -> Level:
    """Run the audio pass (the mix written to ``out``, the music ducked under ``spoken_s``) and return the level the
    render sets it to.

    The limiter, and check passes measuring what it takes away, are needed only when the gain lifts the mix's
    sample peak over the ceiling.
    """
    started = time.monotonic()

    def left() -> float | None:
        return max(0.001, timeout_s - (time.monotonic() - started)) if timeout_s else None

    log = run_ffmpeg(mix_args(narrations, samples, music, out, spoken_s), timeout_s=left(), should_cancel=should_cancel)
    gain = gain_for(parse_integrated(log))
    if gain + parse_peak(log) <= PEAK_DBFS:
        return Level(gain, limit=False)
    tried: list[tuple[float, float]] = []  # (gain, loudness measured under it)
    for _ in range(MAX_CHECKS):
        checked = run_ffmpeg(check_args(out, gain), timeout_s=left(), should_cancel=should_cancel)
        tried.append((gain, parse_integrated(checked)))
        gain = next_gain(tried)
        if abs(tried[-1][1] - LOUDNESS_LUFS) <= TOLERANCE_LU:
            return Level(tried[-1][0])
    return Level(gain)


def next_gain(tried: list[tuple[float, float]]) -> float:
    """The gain to try after ``tried`` (gain, loudness) pairs: a secant step through the last two, else the difference."""
    gain, loudness = tried[-1]
    if len(tried) < 2 or loudness == float("-inf") or tried[-2][1] in (loudness, float("-inf")):
        return gain_for(loudness, gain)
    (g0, l0), (g1, l1) = tried[-2], tried[-1]
    step = (LOUDNESS_LUFS - l1) * (g1 - g0) / (l1 - l0)
    return round(max(-MAX_GAIN_DB, min(MAX_GAIN_DB, g1 + step)), 2)

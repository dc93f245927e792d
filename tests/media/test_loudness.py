"""Loudness against theory and against FFmpeg's own ebur128 run by the ffmpeg program.

BS.1770 puts the K-weighting gain at 1 kHz where a sine of amplitude A in both channels of
a stereo pair reads 20·log10(A) LUFS (one channel alone would read 3 dB less), and a
sine's true peak is its amplitude."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from bandstand.media.loudness import PEAK_CEILING_DBTP, TARGET_LUFS, normalising_gain
from tests.media.signals import channels, encode, music, silence, sine
from tests.media.support import ffmpeg_ebur128, process

pytestmark = pytest.mark.backend_free


@pytest.mark.parametrize(
    ("channel_count", "amplitude", "rate", "fmt"),
    [
        (2, 0.5, 48_000, "wav"),
        (2, 0.1, 44_100, "flac"),
        # Mono is measured as heard on two speakers (dual mono): as loud as stereo.
        (1, 0.5, 48_000, "wav"),
    ],
)
def test_a_sine_reads_its_theoretical_loudness(
    tmp_path: Path, channel_count: int, amplitude: float, rate: int, fmt: str
) -> None:
    audio = channels(sine(4.0, rate=rate, amplitude=amplitude), channel_count)
    result, _ = process(tmp_path, encode(audio, fmt, rate=rate))

    expected = 20 * math.log10(amplitude)
    assert result.loudness_lufs == pytest.approx(expected, abs=0.05)
    assert result.true_peak_dbtp == pytest.approx(expected, abs=0.05)
    assert result.gain_db == pytest.approx(TARGET_LUFS - expected, abs=0.05)


@pytest.mark.parametrize(
    ("audio", "dualmono"),
    [
        (music(20.0), False),
        (sine(8.0, rate=44_100, frequency=3_000, amplitude=0.3), True),
        # Quiet verse, loud chorus: the relative gate has work to do.
        (np.concatenate([music(6.0) * 0.05, music(6.0, seed=2)], axis=1), False),
    ],
    ids=["music", "mono-3khz", "quiet-then-loud"],
)
def test_loudness_matches_the_ffmpeg_program(
    tmp_path: Path, audio: np.ndarray, dualmono: bool
) -> None:
    result, _ = process(tmp_path, encode(audio, "wav", rate=44_100), "song.wav")

    integrated, true_peak = ffmpeg_ebur128(tmp_path / "song.wav", dualmono=dualmono)
    # The program prints one decimal; the filter's metadata, which we read, gives loudness
    # to three decimals and the linear true peak to three decimals (0.0005 of full scale).
    assert result.loudness_lufs == pytest.approx(integrated, abs=0.051)
    linear = 10 ** (true_peak / 20)
    resolution = 20 * math.log10((linear + 0.0005) / linear)
    assert result.true_peak_dbtp == pytest.approx(true_peak, abs=0.051 + resolution)


def test_silence_has_no_loudness_and_no_gain(tmp_path: Path) -> None:
    result, _ = process(tmp_path, encode(channels(silence(3.0), 2), "wav"))

    assert result.loudness_lufs is None
    assert result.true_peak_dbtp is None
    assert result.gain_db == 0.0


def test_under_one_gating_block_has_a_peak_but_no_loudness(tmp_path: Path) -> None:
    # BS.1770 measures 400 ms blocks: 0.3 s fills none.
    result, _ = process(tmp_path, encode(channels(sine(0.3, amplitude=0.5), 2), "wav"))

    assert result.loudness_lufs is None
    assert result.gain_db == 0.0
    assert result.true_peak_dbtp == pytest.approx(20 * math.log10(0.5), abs=0.05)


def test_a_peak_after_the_last_whole_block_counts(tmp_path: Path) -> None:
    # 2.03 s at 48 kHz: the last 30 ms fall after the last 100 ms block boundary, where
    # ebur128 reports nothing unless more audio (our silence) follows.
    quiet = sine(2.0, amplitude=0.1)
    loud = sine(0.03, amplitude=0.9)
    result, _ = process(tmp_path, encode(channels(np.concatenate([quiet, loud]), 2), "wav"))

    assert result.true_peak_dbtp == pytest.approx(20 * math.log10(0.9), abs=0.05)
    assert result.loudness_lufs == pytest.approx(-20.0, abs=0.1)


def test_a_quiet_song_with_loud_peaks_comes_up_only_as_far_as_its_peaks_allow(
    tmp_path: Path,
) -> None:
    # A -20 LUFS sine with one snare-like hit at -0.35 dBTP (which lifts the whole to about
    # -17 LUFS): the full gain of about +3 dB would put the hit over full scale. The song
    # comes up only until the hit is at -1 dBTP.
    quiet = sine(4.0, amplitude=0.1)
    hit = sine(0.02, amplitude=0.96, frequency=2_000)
    audio = channels(np.concatenate([quiet[:96_000], hit, quiet[96_000:]]), 2)
    result, _ = process(tmp_path, encode(audio, "wav"))

    assert result.loudness_lufs is not None and result.true_peak_dbtp is not None
    assert TARGET_LUFS - result.loudness_lufs > 2
    assert result.true_peak_dbtp == pytest.approx(20 * math.log10(0.96), abs=0.05)
    assert result.gain_db < 0
    # At the ceiling, not under it by more than the 0.01 dB the figures are given to.
    assert result.true_peak_dbtp + result.gain_db <= PEAK_CEILING_DBTP + 1e-9
    assert result.true_peak_dbtp + result.gain_db >= PEAK_CEILING_DBTP - 0.011


def test_a_loud_song_with_clean_peaks_keeps_its_full_gain(tmp_path: Path) -> None:
    # Turned down to the target its peak is far under the ceiling: nothing to limit.
    result, _ = process(tmp_path, encode(channels(sine(4.0, amplitude=0.5), 2), "wav"))

    assert result.loudness_lufs is not None and result.true_peak_dbtp is not None
    assert result.gain_db == pytest.approx(TARGET_LUFS - result.loudness_lufs, abs=0.01)
    assert result.true_peak_dbtp + result.gain_db < PEAK_CEILING_DBTP - 5


@pytest.mark.parametrize(
    ("loudness", "peak", "gain"),
    [
        (-19.64, -0.33, -0.67),  # the song the issue found: +5.64 dB would have clipped
        (-19.64, -0.334, -0.67),  # the limit rounds down: -0.666 would pass the ceiling
        (-19.64, -0.326, -0.68),
        (-20.0, -20.0, 6.0),  # room enough: the full gain
        (-13.5, 0.8, -1.8),  # over full scale already: down past the target
        (None, -3.0, 0.0),  # no loudness (silence, under 0.4 s): no gain
        (-20.0, None, 6.0),
    ],
)
def test_the_gain_limit(loudness: float | None, peak: float | None, gain: float) -> None:
    assert normalising_gain(loudness, peak) == gain
    if peak is not None:
        assert round(peak, 2) + gain <= PEAK_CEILING_DBTP + 1e-9

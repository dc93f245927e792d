"""The waveform: about a thousand peaks, normalised, that show what the audio does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bandstand.media.waveform import POINTS, _merge
from tests.media.signals import channels, encode, silence, sine
from tests.media.support import process

pytestmark = pytest.mark.backend_free


def test_silence_then_tone_shows_both(tmp_path: Path) -> None:
    audio = np.concatenate([silence(5.0), sine(5.0, amplitude=0.5)])
    result, _ = process(tmp_path, encode(channels(audio, 2), "flac"))

    assert len(result.peaks) == POINTS
    first, second = result.peaks[: POINTS // 2 - 5], result.peaks[POINTS // 2 + 5 :]
    assert max(first) == 0.0
    assert min(second) > 0.95
    assert max(result.peaks) == 1.0


def test_peaks_are_linear_and_relative_to_the_loudest(tmp_path: Path) -> None:
    audio = np.concatenate([sine(3.0, amplitude=0.8), sine(3.0, amplitude=0.2)])
    result, _ = process(tmp_path, encode(audio, "wav"), "song.wav")

    assert result.peaks[10] == pytest.approx(1.0, abs=0.01)
    assert result.peaks[-10] == pytest.approx(0.25, abs=0.01)


@pytest.mark.parametrize("loud", [0, 1], ids=["left", "right"])
def test_the_louder_channel_makes_the_peak(tmp_path: Path, loud: int) -> None:
    audio = np.zeros((2, 6 * 48_000), dtype=np.float32)
    audio[loud] = np.concatenate([sine(3.0, amplitude=0.8), sine(3.0, amplitude=0.2)])
    result, _ = process(tmp_path, encode(audio, "wav"), "song.wav")

    assert result.peaks[10] == pytest.approx(1.0, abs=0.01)
    assert result.peaks[-10] == pytest.approx(0.25, abs=0.01)


@pytest.mark.parametrize("seconds", [0.2, 1.0])
def test_short_files_still_get_a_full_waveform(tmp_path: Path, seconds: float) -> None:
    result, _ = process(tmp_path, encode(channels(sine(seconds), 2), "wav"))

    assert len(result.peaks) == POINTS
    assert all(0.0 <= peak <= 1.0 for peak in result.peaks)


def test_silence_is_flat(tmp_path: Path) -> None:
    result, _ = process(tmp_path, encode(silence(2.0), "wav"))

    assert len(result.peaks) == POINTS
    assert set(result.peaks) == {0.0}


def test_merge_takes_the_peak_of_each_share() -> None:
    assert _merge([0.1, 0.5, 0.2, 0.9, 0.3], 2) == [0.5, 0.9]
    assert _merge([0.1, 0.2], 5) == [0.1, 0.2]
    assert len(_merge([0.5] * 2003, 1000)) == 1000

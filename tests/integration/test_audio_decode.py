"""Probing and streaming decode of the real shared clips with PyAV."""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO, cast

import numpy as np
import pytest

from core.audio import SAMPLE_RATE, decode_pcm, encode_to_file, pcm_from_bytes, probe, read_pcm

LJ_CLIPS = ["en/LJ001-0001.wav", "en/LJ001-0002.wav", "en/LJ001-0008.wav"]


class TrackingReader(io.RawIOBase):
    """A seekable file that remembers how far into the file anything has been read."""

    def __init__(self, path: Path) -> None:
        self._fh = path.open("rb")
        self.furthest = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._fh.read(size)
        self.furthest = max(self.furthest, self._fh.tell())
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()

    def close(self) -> None:
        self._fh.close()
        super().close()


def test_probe_reads_the_jfk_flac_header(shared_audio: Path) -> None:
    info = probe(shared_audio / "en/jfk.flac")

    assert info.format_name == "flac"
    assert info.codec == "flac"
    assert info.duration_seconds == pytest.approx(11.0, abs=0.05)
    assert info.sample_rate == 44100
    assert info.channels == 2
    assert info.has_video is False
    assert info.bit_rate is not None and info.bit_rate > 100_000


@pytest.mark.parametrize("name", LJ_CLIPS)
def test_probe_lj_speech_wav_is_22khz_mono(shared_audio: Path, name: str) -> None:
    info = probe(shared_audio / name)

    assert (info.format_name, info.codec, info.sample_rate, info.channels) == ("wav", "pcm_s16le", 22050, 1)
    assert 1.0 < info.duration_seconds < 15.0


def test_probe_mp3(shared_audio: Path) -> None:
    info = probe(shared_audio / "en/hotwords.mp3")

    assert (info.format_name, info.codec) == ("mp3", "mp3")
    assert info.duration_seconds == pytest.approx(4.0, abs=0.1)


def _shared_clips(shared: Path) -> list[Path]:
    names = ["en/jfk.flac", *LJ_CLIPS, "en/hotwords.mp3", "en/stereo_diarization.wav"]
    return [shared / n for n in names] + sorted((shared / "ru").glob("*.wav"))


def test_probe_duration_matches_the_decoded_length_of_every_clip(shared_audio: Path) -> None:
    clips = _shared_clips(shared_audio)
    assert len(clips) >= 8
    for clip in clips:
        pcm = read_pcm(clip)
        decoded = pcm.shape[0] / SAMPLE_RATE
        assert probe(clip).duration_seconds == pytest.approx(decoded, abs=0.06), clip.name


def test_decoded_pcm_is_float32_mono_in_range(shared_audio: Path) -> None:
    for clip in _shared_clips(shared_audio):
        pcm = read_pcm(clip)
        assert pcm.dtype == np.float32, clip.name
        assert pcm.ndim == 1, clip.name
        assert np.abs(pcm).max() <= 1.0, clip.name
        # real speech, not silence or a constant
        assert float(np.sqrt(np.mean(pcm**2))) > 0.005, clip.name


def test_decode_resamples_to_the_requested_rate(shared_audio: Path) -> None:
    clip = shared_audio / "en/LJ001-0001.wav"
    duration = probe(clip).duration_seconds

    for rate in (8000, 16000, 24000):
        assert read_pcm(clip, sample_rate=rate).shape[0] == pytest.approx(duration * rate, abs=rate * 0.01)


def test_split_gives_two_distinct_channels_for_a_stereo_recording(shared_audio: Path) -> None:
    clip = shared_audio / "en/stereo_diarization.wav"

    split = read_pcm(clip, channels="split")
    mixed = read_pcm(clip)

    assert split.shape == (2, mixed.shape[0])
    left, right = split
    assert np.sqrt(np.mean(left**2)) > 0.005 and np.sqrt(np.mean(right**2)) > 0.005
    assert abs(np.corrcoef(left, right)[0, 1]) < 0.5  # two different speakers, not a copy
    np.testing.assert_allclose(mixed, split.mean(axis=0), atol=1e-6)


def test_split_duplicates_a_mono_recording(shared_audio: Path) -> None:
    split = read_pcm(shared_audio / "en/LJ001-0002.wav", channels="split")

    assert split.shape[0] == 2
    np.testing.assert_array_equal(split[0], split[1])


def test_decode_streams_in_chunks_of_the_requested_length(shared_audio: Path) -> None:
    clip = shared_audio / "en/jfk.flac"

    chunks = list(decode_pcm(clip, chunk_seconds=1.0))

    assert len(chunks) == 11
    assert all(c.shape == (SAMPLE_RATE,) for c in chunks[:-1])
    assert 0 < chunks[-1].shape[0] <= SAMPLE_RATE
    np.testing.assert_array_equal(np.concatenate(chunks), read_pcm(clip))


def test_split_chunks_keep_both_channels(shared_audio: Path) -> None:
    chunks = list(decode_pcm(shared_audio / "en/stereo_diarization.wav", channels="split", chunk_seconds=2))

    assert [c.shape[0] for c in chunks] == [2] * len(chunks)
    assert len(chunks) == 3
    assert chunks[0].shape[1] == 2 * SAMPLE_RATE


def test_first_chunk_arrives_before_the_file_has_been_read(shared_audio: Path) -> None:
    # Given jfk.flac (~1.1 MB) opened through a reader that records how far it got
    clip = shared_audio / "en/jfk.flac"
    reader = TrackingReader(clip)

    # When the first one-second chunk is taken
    chunks = decode_pcm(cast(BinaryIO, reader), chunk_seconds=1.0)
    first = next(chunks)

    # Then the decoder has read only the start of the file
    assert first.shape == (SAMPLE_RATE,)
    assert reader.furthest < clip.stat().st_size / 2
    rest = list(chunks)
    assert len(rest) == 10
    reader.close()


def test_probe_does_not_read_the_whole_file_when_the_header_knows_the_duration(
    shared_audio: Path, tmp_path: Path
) -> None:
    # A long WAV (2 minutes, ~3.8 MB): its header states the length
    long_wav = tmp_path / "long.wav"
    pcm = read_pcm(shared_audio / "en/jfk.flac")
    encode_to_file([pcm] * 11, SAMPLE_RATE, "wav", long_wav)
    reader = TrackingReader(long_wav)

    info = probe(cast(BinaryIO, reader))

    assert info.duration_seconds == pytest.approx(11 * pcm.shape[0] / SAMPLE_RATE, abs=0.01)
    assert reader.furthest < long_wav.stat().st_size / 4
    reader.close()


def test_pcm_from_bytes_decodes_like_a_file(shared_audio: Path) -> None:
    clip = shared_audio / "en/hotwords.mp3"

    np.testing.assert_array_equal(pcm_from_bytes(clip.read_bytes()), read_pcm(clip))


@pytest.mark.parametrize("name", ["en/jfk.flac", "en/hotwords.mp3", "en/LJ001-0001.wav"])
def test_probe_accepts_a_file_object(shared_audio: Path, name: str) -> None:
    clip = shared_audio / name
    with clip.open("rb") as fh:
        assert probe(fh) == probe(clip)

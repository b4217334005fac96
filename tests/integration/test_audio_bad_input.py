"""Unusable input always ends in an AudioError with the right reason, never a raw PyAV error.

Truncation policy (documented in core/audio/decode.py): a file cut short decodes cleanly to the
audio it still holds; only a file cut so early that no audio can be read is AudioError "truncated".
"""

from __future__ import annotations

import io
import wave
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from core.audio import SAMPLE_RATE, AudioError, decode_pcm, encode, pcm_from_bytes, probe, read_pcm
from core.audio.decode import SILENCE_PEAK
from core.errors import InvalidInput

Reader = Callable[[Path], object]
READERS: dict[str, Reader] = {"probe": probe, "read_pcm": read_pcm}


def write_wav(path: Path, pcm: np.ndarray, rate: int = SAMPLE_RATE) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((pcm * 32767).astype("<i2").tobytes())
    return path


def assert_reason(reader: Reader, path: Path, reason: str) -> AudioError:
    with pytest.raises(AudioError) as info:
        reader(path)
    assert info.value.reason == reason
    assert info.value.to_dict()["reason"] == reason
    return info.value


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
def test_empty_file(tmp_path: Path, reader: Reader) -> None:
    path = tmp_path / "voice.ogg"
    path.write_bytes(b"")
    assert_reason(reader, path, "empty")


def test_empty_bytes() -> None:
    with pytest.raises(AudioError) as info:
        pcm_from_bytes(b"")
    assert info.value.reason == "empty"


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
def test_random_bytes_are_not_audio(tmp_path: Path, reader: Reader) -> None:
    noise = np.random.default_rng(7).integers(0, 256, 20_000, dtype=np.uint8).tobytes()
    path = tmp_path / "upload.bin"
    path.write_bytes(b"\x00" + noise)  # a leading zero: no accidental MPEG sync word
    assert_reason(reader, path, "not_audio")


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
def test_text_file_named_mp3_is_not_audio(tmp_path: Path, reader: Reader) -> None:
    path = tmp_path / "song.mp3"
    path.write_text("This is a shopping list, not a song.\n" * 50, encoding="utf-8")
    err = assert_reason(reader, path, "not_audio")
    assert "MP3" in err.message  # tells the person what we do read


@pytest.mark.parametrize("clip", ["en/hotwords.mp3", "en/jfk.flac"])
def test_file_cut_in_half_decodes_the_half_that_is_there(
    shared_audio: Path, tmp_path: Path, clip: str
) -> None:
    source = shared_audio / clip
    data = source.read_bytes()
    cut = tmp_path / f"cut{source.suffix}"
    cut.write_bytes(data[: len(data) // 2])

    full = read_pcm(source).shape[0]
    half = read_pcm(cut).shape[0]

    assert 0.3 * full < half < 0.7 * full


@pytest.mark.parametrize("clip", ["en/hotwords.mp3", "en/jfk.flac"])
@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
def test_file_cut_inside_its_header_is_truncated(
    shared_audio: Path, tmp_path: Path, clip: str, reader: Reader
) -> None:
    source = shared_audio / clip
    cut = tmp_path / f"head{source.suffix}"
    cut.write_bytes(source.read_bytes()[:200])
    assert_reason(reader, cut, "truncated")


def test_mp4_cut_in_half_is_truncated(shared_audio: Path, tmp_path: Path) -> None:
    # ffmpeg writes the index (moov) at the end of an MP4, so half a file cannot be opened at all
    pcm = read_pcm(shared_audio / "en/LJ001-0001.wav")
    whole = tmp_path / "whole.m4a"
    with av.open(str(whole), mode="w", format="mp4") as out:
        stream = out.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        assert isinstance(stream, av.AudioStream)
        frame = av.AudioFrame.from_ndarray(pcm[None, :], format="flt", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, 0, Fraction(1, SAMPLE_RATE)
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    data = whole.read_bytes()
    cut = tmp_path / "cut.m4a"
    cut.write_bytes(data[: len(data) // 2])

    assert read_pcm(whole).shape[0] > 0  # the premise: the whole file is fine
    assert_reason(read_pcm, cut, "truncated")


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
def test_video_without_audio_track(tmp_path: Path, reader: Reader) -> None:
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    path = tmp_path / "screen.mp4"
    with av.open(str(path), mode="w", format="mp4") as out:
        stream = out.add_stream(codec, rate=10)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 10)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))

    err = assert_reason(reader, path, "no_audio_stream")
    assert "video" in err.message


def test_all_zero_wav_is_silent_after_the_last_chunk(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "zeros.wav", np.zeros(3 * SAMPLE_RATE, dtype=np.float32))
    chunks: list[np.ndarray] = []

    with pytest.raises(AudioError) as info:
        for chunk in decode_pcm(path, chunk_seconds=1.0):
            chunks.append(chunk)

    # the chunks were streamed first; silence is only known at the end
    assert len(chunks) == 3
    assert info.value.reason == "silent"


def test_hiss_below_minus_60_dbfs_is_silent(tmp_path: Path) -> None:
    hiss = np.random.default_rng(1).uniform(-1, 1, 2 * SAMPLE_RATE).astype(np.float32) * 0.0005
    path = write_wav(tmp_path / "hiss.wav", hiss)
    assert_reason(read_pcm, path, "silent")


def test_quiet_speech_above_minus_60_dbfs_is_kept(shared_audio: Path, tmp_path: Path) -> None:
    speech = read_pcm(shared_audio / "en/LJ001-0002.wav")
    quiet = speech / np.abs(speech).max() * SILENCE_PEAK * 10  # peak at -40 dBFS
    path = write_wav(tmp_path / "quiet.wav", quiet)

    assert read_pcm(path).shape[0] == speech.shape[0]


def test_wav_with_no_samples_is_empty(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "nothing.wav", np.zeros(0, dtype=np.float32))
    assert_reason(read_pcm, path, "empty")


def test_missing_file_is_a_plain_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_pcm(tmp_path / "nope.wav")


def test_bad_input_in_memory_behaves_the_same() -> None:
    with pytest.raises(AudioError) as info:
        pcm_from_bytes(b"definitely not audio" * 100)
    assert info.value.reason == "not_audio"
    with pytest.raises(AudioError) as info:
        probe(io.BytesIO(b"\x00" * 500))
    assert info.value.reason == "not_audio"


@pytest.mark.parametrize("fmt", ["wma", "ogg", "m4a"])
def test_unknown_encode_format(fmt: str) -> None:
    with pytest.raises(InvalidInput) as info:
        encode(np.zeros(100, dtype=np.float32), SAMPLE_RATE, fmt)
    assert "mp3, opus, aac, flac, wav, pcm" in info.value.message

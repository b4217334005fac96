"""Encode real speech to every format (and to video containers), decode it back, compare."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from av.stream import Disposition

from core.audio import (
    CONTENT_TYPES,
    FILE_EXTENSIONS,
    FORMATS,
    StreamingEncoder,
    decode_pcm,
    encode,
    encode_to_file,
    probe,
    read_pcm,
)
from tests.conftest import require

RATE = 22050  # what TTS engines typically produce
EXPECTED_CODEC = {"mp3": "mp3", "opus": "opus", "aac": "aac", "flac": "flac", "wav": "pcm_s16le"}


@pytest.fixture(scope="module")
def speech(shared_audio: Path) -> np.ndarray:
    """LJ001-0001 (~9.7 s of speech) as mono float32 at 22.05 kHz."""
    return read_pcm(shared_audio / "en/LJ001-0001.wav", sample_rate=RATE)


def envelope_correlation(a: np.ndarray, b: np.ndarray, rate: int, max_lag_s: float = 0.1) -> float:
    """Best Pearson correlation of the 20 ms RMS envelopes, allowing for codec delay."""
    hop = rate // 50

    def env(x: np.ndarray) -> np.ndarray:
        n = x.shape[0] // hop
        return np.sqrt(np.mean(x[: n * hop].reshape(n, hop).astype(np.float64) ** 2, axis=1))

    ea, eb = env(a), env(b)
    best = -1.0
    for lag in range(int(max_lag_s * 50) + 1):
        for x, y in ((ea[lag:], eb), (ea, eb[lag:])):
            n = min(x.shape[0], y.shape[0])
            best = max(best, float(np.corrcoef(x[:n], y[:n])[0, 1]))
    return best


def decode_back(data: bytes, fmt: str) -> np.ndarray:
    if fmt == "pcm":
        return np.frombuffer(data, "<i2").astype(np.float32) / 32768.0
    return read_pcm(io.BytesIO(data), sample_rate=RATE)


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_keeps_duration_and_signal(speech: np.ndarray, fmt: str) -> None:
    data = encode(speech, RATE, fmt)
    back = decode_back(data, fmt)

    assert back.shape[0] / RATE == pytest.approx(speech.shape[0] / RATE, abs=0.1)
    assert envelope_correlation(speech, back, RATE) > 0.9


def test_envelope_correlation_tells_different_speech_apart(speech: np.ndarray, shared_audio: Path) -> None:
    # Guard for the metric above: an unrelated utterance must not pass the 0.9 bar.
    other = read_pcm(shared_audio / "en/LJ001-0003.wav", sample_rate=RATE)
    assert envelope_correlation(speech, other, RATE) < 0.5


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "pcm"])
def test_encoded_files_are_what_their_name_says(speech: np.ndarray, fmt: str) -> None:
    info = probe(io.BytesIO(encode(speech, RATE, fmt)))

    assert info.codec == EXPECTED_CODEC[fmt]
    assert info.channels == 1
    assert info.sample_rate == (48000 if fmt == "opus" else RATE)
    assert info.duration_seconds == pytest.approx(speech.shape[0] / RATE, abs=0.1)


def test_lossless_formats_are_exact(speech: np.ndarray) -> None:
    expected = np.round(speech * 32767) / 32768
    for fmt in ("wav", "flac", "pcm"):
        np.testing.assert_allclose(decode_back(encode(speech, RATE, fmt), fmt), expected, atol=1e-4)


@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_encoding_chunks_equals_encoding_the_whole(speech: np.ndarray, fmt: str) -> None:
    chunks = np.array_split(speech, 7)
    assert encode(iter(chunks), RATE, fmt) == encode(speech, RATE, fmt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_encode_to_file(speech: np.ndarray, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"speech{FILE_EXTENSIONS[fmt]}"

    seconds = encode_to_file(speech, RATE, fmt, path)

    assert seconds == pytest.approx(speech.shape[0] / RATE)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no leftover .part
    assert path.read_bytes() == encode(speech, RATE, fmt)


def _sentences(pcm: np.ndarray, seconds: float = 1.5) -> list[np.ndarray]:
    step = int(seconds * RATE)
    return [pcm[i : i + step] for i in range(0, pcm.shape[0], step)]


@pytest.mark.parametrize("fmt", ["mp3", "opus"])
def test_streaming_encoder_emits_audio_after_the_first_sentence(speech: np.ndarray, fmt: str) -> None:
    enc = StreamingEncoder(fmt, RATE)
    first = enc.feed(_sentences(speech)[0])

    # more than headers: the first sentence must already be playable
    assert len(first) > 2000
    assert enc.duration_seconds == pytest.approx(1.5)
    enc.close()


@pytest.mark.parametrize("fmt", FORMATS)
def test_streamed_output_decodes_to_the_fed_duration(speech: np.ndarray, fmt: str) -> None:
    enc = StreamingEncoder(fmt, RATE)
    parts = [enc.feed(s) for s in _sentences(speech)]
    parts.append(enc.close())
    back = decode_back(b"".join(parts), fmt)

    assert enc.duration_seconds == pytest.approx(speech.shape[0] / RATE)
    assert enc.content_type == CONTENT_TYPES[fmt]
    assert back.shape[0] / RATE == pytest.approx(enc.duration_seconds, abs=0.1)
    assert envelope_correlation(speech, back, RATE) > 0.9
    assert enc.close() == b""


def test_streaming_encoder_takes_odd_rates(speech: np.ndarray) -> None:
    # 13 kHz is not an MP3 rate: the encoder resamples to the next one up.
    pcm13 = read_pcm(io.BytesIO(encode(speech, RATE, "wav")), sample_rate=13000)
    data = encode(pcm13, 13000, "mp3")

    info = probe(io.BytesIO(data))
    assert info.sample_rate == 16000
    assert info.duration_seconds == pytest.approx(pcm13.shape[0] / 13000, abs=0.1)


# --- other containers: M4A, WEBM, MP4/MOV with a video track -------------------------------------


def _video_codec() -> str:
    for name in ("libx264", "mpeg4"):
        if name in av.codecs_available:
            return name
    require(False, "PyAV wheel has neither libx264 nor mpeg4")
    raise AssertionError  # unreachable


def write_media(
    path: Path,
    pcm: np.ndarray | None,
    rate: int,
    *,
    container: str,
    audio_codec: str = "aac",
    video: bool = False,
    video_seconds: float = 2.0,
) -> None:
    """Write ``pcm`` (mono) and/or a few tiny black video frames with PyAV."""
    with av.open(str(path), mode="w", format=container) as out:
        vstream: av.VideoStream | None = None
        if video:
            added = out.add_stream(_video_codec(), rate=10)
            assert isinstance(added, av.VideoStream)
            vstream = added
            vstream.width, vstream.height, vstream.pix_fmt = 64, 48, "yuv420p"
        astream: av.AudioStream | None = None
        if pcm is not None:
            added = out.add_stream(audio_codec, rate=rate, layout="mono")
            assert isinstance(added, av.AudioStream)
            astream = added
        if vstream is not None:
            black = np.zeros((48, 64, 3), dtype=np.uint8)
            for i in range(int(video_seconds * 10)):
                picture = av.VideoFrame.from_ndarray(black, format="rgb24")
                picture.pts = i
                picture.time_base = Fraction(1, 10)
                out.mux(vstream.encode(picture))
            out.mux(vstream.encode(None))
        if astream is not None and pcm is not None:
            sound = av.AudioFrame.from_ndarray(pcm[None, :].astype(np.float32), format="flt", layout="mono")
            sound.sample_rate, sound.pts, sound.time_base = rate, 0, Fraction(1, rate)
            out.mux(astream.encode(sound))
            out.mux(astream.encode(None))


@pytest.mark.parametrize(
    ("suffix", "container", "codec", "rate"),
    [(".m4a", "mp4", "aac", RATE), (".webm", "webm", "libopus", 48000), (".mka", "matroska", "flac", RATE)],
)
def test_audio_only_containers_decode(
    speech: np.ndarray, tmp_path: Path, suffix: str, container: str, codec: str, rate: int
) -> None:
    path = tmp_path / f"speech{suffix}"
    pcm = read_pcm(io.BytesIO(encode(speech, RATE, "wav")), sample_rate=rate)
    write_media(path, pcm, rate, container=container, audio_codec=codec)

    back = read_pcm(path, sample_rate=RATE)
    info = probe(path)

    assert info.has_video is False
    assert info.duration_seconds == pytest.approx(speech.shape[0] / RATE, abs=0.1)
    assert back.shape[0] / RATE == pytest.approx(speech.shape[0] / RATE, abs=0.1)
    assert envelope_correlation(speech, back, RATE) > 0.9


@pytest.mark.parametrize(("suffix", "container"), [(".mp4", "mp4"), (".mov", "mov")])
def test_video_file_decodes_its_audio_track(
    speech: np.ndarray, tmp_path: Path, suffix: str, container: str
) -> None:
    # Given an MP4/MOV with a (black) video track followed by an AAC audio track
    path = tmp_path / f"clip{suffix}"
    write_media(path, speech, RATE, container=container, video=True)

    # When probed and decoded in chunks
    info = probe(path)
    chunks = list(decode_pcm(path, sample_rate=RATE, chunk_seconds=2.0))
    back = np.concatenate(chunks)

    # Then it is seen as a video and its speech comes back
    assert info.has_video is True
    assert info.codec == "aac"
    assert len(chunks) == 5
    assert back.shape[0] / RATE == pytest.approx(speech.shape[0] / RATE, abs=0.1)
    assert envelope_correlation(speech, back, RATE) > 0.9


def test_webm_without_a_duration_is_counted(speech: np.ndarray) -> None:
    # Given a WEBM written to an unseekable stream, like a browser's MediaRecorder: no Duration element
    class Sink:
        def __init__(self) -> None:
            self.parts: list[bytes] = []

        def write(self, data: bytes) -> int:
            self.parts.append(bytes(data))
            return len(data)

    pcm = read_pcm(io.BytesIO(encode(speech, RATE, "wav")), sample_rate=48000)
    sink = Sink()
    with av.open(sink, mode="w", format="webm") as out:
        stream = out.add_stream("libopus", rate=48000, layout="mono")
        assert isinstance(stream, av.AudioStream)
        frame = av.AudioFrame.from_ndarray(pcm[None, :], format="flt", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = 48000, 0, Fraction(1, 48000)
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    data = b"".join(sink.parts)
    with av.open(io.BytesIO(data), mode="r") as check:
        assert check.duration is None  # the premise: the container does not know

    # Then probe still finds the length by counting
    assert probe(io.BytesIO(data)).duration_seconds == pytest.approx(speech.shape[0] / RATE, abs=0.1)


def test_mp3_cover_art_is_not_a_video(speech: np.ndarray, tmp_path: Path) -> None:
    # Given an MP3 carrying a picture in its ID3 tag (FFmpeg shows it as an attached_pic video stream)
    path = tmp_path / "song.mp3"
    with av.open(str(path), mode="w", format="mp3") as out:
        audio = out.add_stream("libmp3lame", rate=RATE, layout="mono")
        cover = out.add_stream("mjpeg", rate=1)
        assert isinstance(audio, av.AudioStream) and isinstance(cover, av.VideoStream)
        cover.width, cover.height, cover.pix_fmt = 32, 32, "yuvj420p"
        cover.disposition = Disposition.attached_pic
        picture = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 200, np.uint8), format="rgb24")
        picture.pts, picture.time_base = 0, Fraction(1, 1)
        out.mux(cover.encode(picture) + cover.encode(None))
        sound = av.AudioFrame.from_ndarray(speech[None, :], format="flt", layout="mono")
        sound.sample_rate, sound.pts, sound.time_base = RATE, 0, Fraction(1, RATE)
        out.mux(audio.encode(sound))
        out.mux(audio.encode(None))
    with av.open(str(path), mode="r") as check:
        assert len(check.streams.video) == 1  # the premise: FFmpeg sees a picture stream

    info = probe(path)

    assert info.has_video is False
    assert read_pcm(path, sample_rate=RATE).shape[0] / RATE == pytest.approx(speech.shape[0] / RATE, abs=0.1)

"""AudioError, format checks and container sniffing: pure logic, no files."""

from __future__ import annotations

import numpy as np
import pytest

from core.audio import CONTENT_TYPES, FILE_EXTENSIONS, FORMATS, AudioError, StreamingEncoder, check_format
from core.audio._input import looks_like_media
from core.audio.errors import REASONS
from core.errors import InvalidInput


@pytest.mark.parametrize("reason", REASONS)
def test_audio_error_is_invalid_input_and_carries_its_reason(reason: str) -> None:
    err = AudioError(reason=reason)  # type: ignore[arg-type]

    assert isinstance(err, InvalidInput)
    assert err.code == "invalid_audio"
    assert err.reason == reason
    body = err.to_dict()
    assert body["reason"] == reason
    assert body["code"] == "invalid_audio"
    assert body["message"] and body["message"] != AudioError.default_message


def test_audio_error_keeps_a_custom_message_and_extra_details() -> None:
    err = AudioError("Nothing here.", reason="silent", peak_dbfs=-75.0)

    assert str(err) == "Nothing here."
    assert err.to_dict() == {
        "code": "invalid_audio",
        "message": "Nothing here.",
        "reason": "silent",
        "peak_dbfs": -75.0,
    }


def test_audio_error_rejects_an_unknown_reason() -> None:
    with pytest.raises(ValueError, match="unknown AudioError reason"):
        AudioError(reason="loud")  # type: ignore[arg-type]


def test_every_format_has_a_content_type_and_an_extension() -> None:
    assert set(CONTENT_TYPES) == set(FORMATS) == set(FILE_EXTENSIONS)
    assert CONTENT_TYPES["mp3"] == "audio/mpeg"
    assert CONTENT_TYPES["opus"] == "audio/ogg"
    assert FILE_EXTENSIONS["opus"] == ".ogg"
    assert FILE_EXTENSIONS["aac"] == ".aac"


@pytest.mark.parametrize("fmt", FORMATS)
def test_check_format_accepts_the_known_formats(fmt: str) -> None:
    assert check_format(fmt) == fmt


@pytest.mark.parametrize("fmt", ["wma", "MP3", "", "ogg"])
def test_check_format_names_the_allowed_formats(fmt: str) -> None:
    with pytest.raises(InvalidInput) as info:
        check_format(fmt)
    for allowed in FORMATS:
        assert allowed in info.value.message
    assert info.value.details["allowed"] == list(FORMATS)


def test_streaming_encoder_rejects_an_unknown_format() -> None:
    with pytest.raises(InvalidInput, match="mp3, opus, aac, flac, wav, pcm"):
        StreamingEncoder("wma", 16000)


@pytest.mark.parametrize(
    "head",
    [
        b"RIFF\x24\x00\x00\x00WAVEfmt ",
        b"fLaC\x00\x00\x00\x22",
        b"OggS\x00\x02",
        b"ID3\x04\x00",
        b"\xff\xfb\x90\x64",  # MPEG-1 layer III frame
        b"\xff\xf1\x50\x80",  # ADTS AAC
        b"\x00\x00\x00\x20ftypisom",
        b"\x1a\x45\xdf\xa3\x9f\x42",
    ],
)
def test_known_containers_are_recognised_by_their_first_bytes(head: bytes) -> None:
    assert looks_like_media(head)


@pytest.mark.parametrize("head", [b"hello world, not audio", b"%PDF-1.7", b"\x00\x01\x02\x03", b"\xff"])
def test_other_bytes_are_not_taken_for_media(head: bytes) -> None:
    assert not looks_like_media(head)


def test_pcm_streaming_is_little_endian_s16_of_what_was_fed() -> None:
    # Given a ramp with values exactly representable in 16 bits
    pcm = (np.arange(-100, 100, dtype=np.float32) * 100) / 32767
    enc = StreamingEncoder("pcm", 8000)

    # When it is fed in two pieces
    data = enc.feed(pcm[:50]) + enc.feed(pcm[50:]) + enc.close()

    # Then the bytes are those samples as s16le, and the fed duration is counted
    np.testing.assert_array_equal(np.frombuffer(data, "<i2"), np.arange(-100, 100) * 100)
    assert enc.duration_seconds == pytest.approx(200 / 8000)


def test_encoder_rejects_multichannel_input() -> None:
    enc = StreamingEncoder("pcm", 8000)
    with pytest.raises(InvalidInput, match="mono"):
        enc.feed(np.zeros((2, 100), dtype=np.float32))


def test_encoder_clips_out_of_range_samples() -> None:
    enc = StreamingEncoder("pcm", 8000)
    data = enc.feed(np.array([2.0, -3.0, np.nan], dtype=np.float32))
    np.testing.assert_array_equal(np.frombuffer(data, "<i2"), [32767, -32767, 0])

"""Pure helpers of the engines: espeak-ng's WAV, Silero's SSML rates, the model catalogue."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from tts.errors import EngineFailure
from tts.espeak import parse_wav
from tts.silero import speed_to_rate
from tts.silero_catalog import PREFERENCE, SILERO_BASE_URL, SILERO_MODELS, normalize_model_id
from tts.silero_pull import DEFAULT_PULL, model_url


def _wav(samples: np.ndarray, rate: int, *, sizes_unknown: bool) -> bytes:
    data = samples.astype("<i2").tobytes()
    riff_size = 0x7FFFF024 if sizes_unknown else 36 + len(data)
    data_size = 0x7FFFF000 if sizes_unknown else len(data)
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    return (
        b"RIFF" + struct.pack("<I", riff_size) + b"WAVE"
        + b"fmt " + struct.pack("<I", len(fmt)) + fmt
        + b"data" + struct.pack("<I", data_size) + data
    )  # fmt: skip


class TestParseWav:
    @pytest.mark.parametrize("sizes_unknown", [True, False])
    def test_reads_samples_and_rate(self, sizes_unknown: bool) -> None:
        samples = np.array([0, 16384, -16384, 32767, -32768], dtype=np.int16)
        pcm, rate = parse_wav(_wav(samples, 22050, sizes_unknown=sizes_unknown))
        assert rate == 22050
        assert pcm.dtype == np.float32
        np.testing.assert_allclose(pcm, [0, 0.5, -0.5, 32767 / 32768, -1.0])

    def test_a_dangling_half_sample_is_ignored(self) -> None:
        wav = _wav(np.array([100, 200], dtype=np.int16), 16000, sizes_unknown=True) + b"\x01"
        assert parse_wav(wav)[0].shape == (2,)

    @pytest.mark.parametrize("data", [b"", b"ID3\x00 not a wav", b"RIFF\x00\x00\x00\x00WAVE"])
    def test_not_wav(self, data: bytes) -> None:
        with pytest.raises(EngineFailure):
            parse_wav(data)


@pytest.mark.parametrize(
    ("speed", "rate"),
    [
        (0.25, "x-slow"),
        (0.5, "x-slow"),
        (0.8, "slow"),
        (1.0, "medium"),
        (1.1, "medium"),
        (1.3, "fast"),
        (2.0, "x-fast"),
        (4.0, "x-fast"),
    ],
)
def test_speed_maps_to_the_nearest_ssml_rate(speed: float, rate: str) -> None:
    assert speed_to_rate(speed) == rate


class TestCatalogue:
    def test_licences(self) -> None:
        assert SILERO_MODELS["v5_cis_base"].licence == "MIT"
        others = {m.licence for k, m in SILERO_MODELS.items() if k != "v5_cis_base"}
        assert others == {"CC BY-NC 4.0"}

    def test_urls_are_silero_official_location(self) -> None:
        assert SILERO_BASE_URL == "https://models.silero.ai/models/tts"
        assert model_url("v4_ru") == "https://models.silero.ai/models/tts/ru/v4_ru.pt"
        assert model_url("v3_en") == "https://models.silero.ai/models/tts/en/v3_en.pt"
        assert model_url("v4_ru", "http://mirror.local/tts/") == "http://mirror.local/tts/ru/v4_ru.pt"

    def test_every_language_has_a_default_model_to_pull(self) -> None:
        assert set(PREFERENCE) == {"ru", "en"}
        assert DEFAULT_PULL == ("v5_ru", "v3_en")
        for language, ids in PREFERENCE.items():
            assert all(language in SILERO_MODELS[i].languages for i in ids)

    @pytest.mark.parametrize("name", ["v4_ru", "silero-v4_ru", "silero:v4_ru", " v4_ru "])
    def test_model_id_spellings(self, name: str) -> None:
        assert normalize_model_id(name) == "v4_ru"

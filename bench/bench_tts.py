"""Text-to-speech speed: real-time factor per engine, and time to the first audio byte vs total.

For each engine and language, three texts — one sentence, ten sentences, 5000 characters — are
synthesized and encoded as a streamed MP3 (what ``POST /v1/tts/stream`` sends). Reported:

* first byte: seconds until the encoder hands out its first MP3 bytes (what a listener waits);
* total: seconds until the whole text is synthesized and encoded;
* audio: seconds of speech produced; ×RT: audio seconds per wall second (higher is faster).

espeak-ng runs when it is installed; Piper (the bundled neural English voice, ONNX with
onnxruntime) when its voice package is installed and espeak-ng is there for the phonemes. Silero runs on the model NAGOVORI_SILERO_MODEL /
NAGOVORI_MODELS_DIR name when one is present; otherwise on the tiny test model when the tests
have built it (tests/.cache) — that measures the pipeline (loading, text preparation, SSML,
encoding), not Silero's network, and is labelled as such.

    .venv/bin/python -m bench.bench_tts            # every engine found
    .venv/bin/python -m bench.bench_tts piper      # only engines whose label contains "piper"
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.audio.encode import StreamingEncoder  # noqa: E402
from tts.base import MAX_TEXT_CHARS, TtsEngine  # noqa: E402
from tts.espeak import EspeakEngine  # noqa: E402
from tts.piper import PiperEngine  # noqa: E402
from tts.piper_bundle import PIPER_MODEL_ID, ensure_piper_voice, piper_available  # noqa: E402
from tts.silero import SileroEngine  # noqa: E402
from tts.silero_catalog import SileroModelFile, resolve  # noqa: E402
from tts.synthesize import synthesize  # noqa: E402

TINY_SILERO = ROOT / "tests" / ".cache" / "silero-tiny-v1"

SENTENCES = {
    "en": [
        "The weather is nice today, and we are going to the park.",
        "Please call me back when you get home tonight.",
        "The meeting starts at ten in the morning and ends before lunch.",
        "She opened the door and walked into the quiet room.",
        "We need to buy some bread, milk and a few apples.",
        "The children were playing in the garden all afternoon.",
        "Can you tell me the way to the railway station?",
        "My brother works at a small bank in the city centre.",
        "It was raining hard, so we stayed at home and read.",
        "Thank you very much for your help with the move.",
    ],
    "ru": [
        "Сегодня хорошая погода, и мы идём гулять в парк.",
        "Перезвони мне, пожалуйста, когда вернёшься домой.",
        "Совещание начинается в десять утра и заканчивается до обеда.",
        "Она открыла дверь и вошла в тихую комнату.",
        "Нужно купить хлеба, молока и немного яблок.",
        "Дети весь день играли в саду за домом.",
        "Подскажите, пожалуйста, как пройти к вокзалу?",
        "Мой брат работает в небольшом банке в центре города.",
        "Шёл сильный дождь, поэтому мы остались дома и читали.",
        "Большое спасибо за помощь с переездом.",
    ],
}


def texts(language: str) -> dict[str, str]:
    sentences = SENTENCES[language]
    parts: list[str] = []
    while True:
        following = sentences[len(parts) % len(sentences)]
        if len(" ".join([*parts, following])) > MAX_TEXT_CHARS:
            break
        parts.append(following)
    return {"1 sentence": sentences[0], "10 sentences": " ".join(sentences), "5000 chars": " ".join(parts)}


def measure(engine: TtsEngine, text: str, language: str) -> tuple[float, float, float]:
    """(seconds to the first MP3 byte, total seconds, seconds of audio)."""
    start = time.perf_counter()
    first_byte: float | None = None
    encoder: StreamingEncoder | None = None
    for chunk in synthesize(engine, text, voice="alloy", language=language):
        encoder = encoder or StreamingEncoder("mp3", chunk.sample_rate)
        if encoder.feed(chunk.pcm) and first_byte is None:
            first_byte = time.perf_counter() - start
    assert encoder is not None
    tail = encoder.close()
    total = time.perf_counter() - start
    if first_byte is None and tail:
        first_byte = total
    return first_byte or total, total, encoder.duration_seconds


def engines() -> list[tuple[str, TtsEngine, tuple[str, ...]]]:
    found: list[tuple[str, TtsEngine, tuple[str, ...]]] = []
    espeak = EspeakEngine()
    if espeak.binary():
        found.append(("espeak-ng", espeak, ("en", "ru")))
    else:
        print("espeak-ng: not installed, skipped")
    models_dir = Path(os.environ.get("NAGOVORI_MODELS_DIR", ROOT / "var" / "models"))
    if espeak.binary() and piper_available(models_dir):
        voice = PIPER_MODEL_ID.removeprefix("piper-")
        piper = PiperEngine(lambda: ensure_piper_voice(models_dir), voice)
        found.append((f"{PIPER_MODEL_ID} ({piper.threads} threads)", piper, ("en",)))
    else:
        print("piper: no voice package or no espeak-ng, skipped")
    real = {
        lang: f
        for lang, f in resolve(models_dir, os.environ.get("NAGOVORI_SILERO_MODEL", "")).items()
        if f.present
    }
    if real:
        label = "silero " + ",".join(f"{lang}={f.model_id}" for lang, f in real.items())
        found.append((label, SileroEngine(real), tuple(real)))
    elif (TINY_SILERO / "v4_ru.pt").is_file() and (TINY_SILERO / "v3_en.pt").is_file():
        tiny = {
            "ru": SileroModelFile("v4_ru", TINY_SILERO / "v4_ru.pt", ("ru",)),
            "en": SileroModelFile("v3_en", TINY_SILERO / "v3_en.pt", ("en",)),
        }
        found.append(("silero (tiny test model: pipeline only)", SileroEngine(tiny), ("en", "ru")))
    else:
        print("silero: no model in NAGOVORI_MODELS_DIR and no test model built (run the tests), skipped")
    return found


def main(argv: list[str]) -> int:
    wanted = argv[0] if argv else ""
    print(f"{'engine':<42} {'lang':<4} {'text':<13} {'first byte':>10} {'total':>8} {'audio':>8} {'×RT':>7}")
    for label, engine, languages in engines():
        if wanted not in label:
            continue
        for language in languages:
            load_start = time.perf_counter()
            measure(engine, SENTENCES[language][0], language)  # loads the model; not counted below
            warm_up = time.perf_counter() - load_start
            for name, text in texts(language).items():
                first, total, audio = measure(engine, text, language)
                print(
                    f"{label:<42} {language:<4} {name:<13} {first:>9.3f}s {total:>7.2f}s {audio:>7.1f}s "
                    f"{audio / total:>7.1f}"
                )
            print(f"{label:<42} {language:<4} {'(first call, incl. loading)':<30} {warm_up:.2f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

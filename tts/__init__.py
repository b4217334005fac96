"""Text to speech: Piper, Silero and espeak-ng behind one protocol, seven voices, text preparation.

    base.py            the TtsEngine protocol, SpeechChunk, MAX_TEXT_CHARS
    synthesize.py      synthesize(): validate, prepare, yield sentence by sentence (what callers use)
    registry.py        TtsEngines: one engine per process, lazily built; routing by language; the model listing
    voices.py          the seven voice ids, OpenAI's aliases, and each engine's speaker for them
    piper.py           the Piper engine (the neural English voice, ONNX with onnxruntime)
    piper_style.py     how each voice sounds on Piper: speaking parameters and a pitch shift
    piper_bundle.py    the bundled Piper voice: assembling it into the models folder
    phonemize.py       text to Piper phoneme ids, with espeak-ng as a subprocess
    text.py            clean-up, limits, language detection, sentence splitting
    numbers.py         numbers as words (ru, en)
    stress.py          stress marks: U+0301 in, Silero's "+" or espeak-ng phonemes out
    silero.py          the Silero engine (torch.package models)
    silero_catalog.py  which Silero models exist, where their files are, their licences
    silero_pull.py     downloading Silero models from their official location
    espeak.py          the espeak-ng engine (command line)
    espeak_variants.py Nagovori's espeak-ng voice variants
    errors.py          the error tree

``tts`` knows nothing of the rest of the platform; nothing is loaded when it is imported.
"""

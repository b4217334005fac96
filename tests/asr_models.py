"""Tiny speech models the ASR tests build themselves, in the real on-disk formats.

No Whisper weights can be downloaded here, so ``tiny_whisper`` builds one: a 2-layer Whisper with
random weights (Hugging Face ``WhisperForConditionalGeneration`` from a small ``WhisperConfig``),
converted by CTranslate2's own converter, with a ``tokenizer.json`` that carries Whisper's
special tokens at Whisper's ids. faster-whisper loads it exactly like a downloaded model; its
text is gibberish, so tests assert on structure, never on words. Built once, then cached.
"""

from __future__ import annotations

import itertools
import json
import shutil
import tempfile
from pathlib import Path

BUILD_VERSION = 1  # bump to rebuild cached models after changing the recipe
TEXT_TOKENS = 50257  # Whisper's multilingual vocabulary: text tokens first, then the specials
SHARPNESS = 100.0
POSITION_GAIN = 50.0
TIMESTAMPS = 1501  # <|0.00|> ... <|30.00|>
SPECIAL = (
    "<|translate|>",
    "<|transcribe|>",
    "<|startoflm|>",
    "<|startofprev|>",
    "<|nospeech|>",
    "<|notimestamps|>",
)


def tiny_whisper(cache: Path) -> Path:
    """The path of a tiny CTranslate2 Whisper model, building it on first use."""
    target = cache / f"whisper-tiny-random-v{BUILD_VERSION}"
    if (target / "model.bin").is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        built = Path(tmp) / "ct2"
        _build(Path(tmp) / "hf", built)
        shutil.rmtree(target, ignore_errors=True)
        built.rename(target)  # atomic: a half-built model is never seen as cached
    return target


def _tokenizer():  # type: ignore[no-untyped-def]
    from faster_whisper.tokenizer import _LANGUAGE_CODES
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

    # The 99 languages of the large-v2 layout (vocabulary of 51865, which CTranslate2 reads as
    # multilingual); large-v3 added "yue".
    languages = [code for code in _LANGUAGE_CODES if code != "yue"]
    vocab: dict[str, int] = {}
    for ch in sorted(pre_tokenizers.ByteLevel.alphabet()):
        vocab[ch] = len(vocab)
    # Filler text tokens: short letter strings, with and without the byte-level space mark "Ġ".
    words = (
        "".join(c)
        for n in itertools.count(1)
        for c in itertools.product("abcdefghijklmnopqrstuvwxyz", repeat=n)
    )
    for word in words:
        if len(vocab) >= TEXT_TOKENS - 1:
            break
        for token in (f"Ġ{word}", word):
            if token not in vocab and len(vocab) < TEXT_TOKENS - 1:
                vocab[token] = len(vocab)
    vocab[""] = len(vocab)  # Whisper's id 50256 is the empty token; CTranslate2 checks for it
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    specials = ["<|endoftext|>", "<|startoftranscript|>", *(f"<|{c}|>" for c in languages), *SPECIAL]
    specials += [f"<|{i * 0.02:.2f}|>" for i in range(TIMESTAMPS)]
    tokenizer.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return tokenizer, languages


def _build(hf_dir: Path, out_dir: Path) -> None:
    import torch
    from ctranslate2.converters import TransformersConverter
    from transformers import (
        GenerationConfig,
        PreTrainedTokenizerFast,
        WhisperConfig,
        WhisperForConditionalGeneration,
    )

    tokenizer, languages = _tokenizer()
    ids = tokenizer.token_to_id
    eot, sot = ids("<|endoftext|>"), ids("<|startoftranscript|>")
    assert tokenizer.get_vocab_size() == 51865 and eot == TEXT_TOKENS
    config = WhisperConfig(
        vocab_size=tokenizer.get_vocab_size(),
        num_mel_bins=80,
        d_model=64,
        encoder_layers=2,
        encoder_attention_heads=2,
        decoder_layers=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=128,
        decoder_ffn_dim=128,
        max_source_positions=1500,
        max_target_positions=448,
        pad_token_id=eot,
        bos_token_id=eot,
        eos_token_id=eot,
        decoder_start_token_id=sot,
    )
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(config).eval()
    with torch.no_grad():
        # Random weights give near-uniform logits: every window would fail faster-whisper's
        # log-probability check and be decoded again at five temperatures. A sharper output
        # layer makes the (still meaningless) output confident, so each window decodes once.
        model.model.decoder.layer_norm.weight.mul_(SHARPNESS)
        # ...and position-driven, so the text does not repeat one token (which would fail the
        # compression-ratio check instead).
        model.model.decoder.embed_positions.weight.mul_(POSITION_GAIN)
    model.generation_config = GenerationConfig(
        lang_to_id={f"<|{c}|>": ids(f"<|{c}|>") for c in languages},
        task_to_id={"transcribe": ids("<|transcribe|>"), "translate": ids("<|translate|>")},
        is_multilingual=True,
        suppress_tokens=[],
        begin_suppress_tokens=[eot],
        decoder_start_token_id=sot,
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
        no_timestamps_token_id=ids("<|notimestamps|>"),
        max_length=448,
    )
    model.save_pretrained(hf_dir)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token="<|endoftext|>", eos_token="<|endoftext|>"
    )
    fast.save_pretrained(hf_dir)
    preprocessor = {
        "feature_size": 80,
        "sampling_rate": 16000,
        "hop_length": 160,
        "chunk_length": 30,
        "n_fft": 400,
    }
    (hf_dir / "preprocessor_config.json").write_text(json.dumps(preprocessor))
    TransformersConverter(str(hf_dir), copy_files=["tokenizer.json", "preprocessor_config.json"]).convert(
        str(out_dir), quantization="int8"
    )

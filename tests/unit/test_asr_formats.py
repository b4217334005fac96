"""Text, JSON, SRT and WebVTT output: wrapping limits, cue timing, speakers, escaping."""

from __future__ import annotations

import itertools
import re

import pytest

from asr.base import Segment, Word
from asr.errors import InvalidOption
from asr.formats import captions, to_json, to_srt, to_text, to_vtt
from asr.transcribe import TranscriptResult

LONG = (
    "Printing, in the only sense with which we are at present concerned, differs from most if not "
    "from all the arts and crafts represented in the Exhibition"
)
SRT_TIME = re.compile(r"^(\d\d):(\d\d):(\d\d),(\d\d\d) --> (\d\d):(\d\d):(\d\d),(\d\d\d)$")


def seconds(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def parse_srt(srt: str) -> list[tuple[int, float, float, list[str]]]:
    cues = []
    for block in srt.strip().split("\n\n"):
        number, times, *lines = block.split("\n")
        match = SRT_TIME.match(times)
        assert match, times
        g = match.groups()
        cues.append((int(number), seconds(*g[:4]), seconds(*g[4:]), lines))
    return cues


@pytest.mark.parametrize(("max_chars", "max_lines"), [(30, 1), (42, 2), (60, 3), (120, 4)])
def test_srt_wraps_within_limits_and_keeps_every_word_in_order(max_chars: int, max_lines: int) -> None:
    segments = [Segment(0.0, 12.5, LONG), Segment(13.0, 14.0, "Short.")]
    cues = parse_srt(to_srt(segments, max_chars_per_line=max_chars, max_lines=max_lines))
    assert [c[0] for c in cues] == list(range(1, len(cues) + 1))
    for _, start, end, lines in cues:
        assert 1 <= len(lines) <= max_lines
        assert all(len(line) <= max_chars for line in lines)
        assert start < end
    words = " ".join(" ".join(lines) for *_, lines in cues).split()
    assert words == (LONG + " Short.").split()
    # The long segment's cues tile its time span, in order, without overlap.
    long_cues = [c for c in cues if c[2] <= 12.5]
    assert long_cues[0][1] == 0.0 and long_cues[-1][2] == 12.5
    for previous, following in itertools.pairwise(long_cues):
        assert previous[2] <= following[1] + 1e-9


def test_cue_times_come_from_word_timestamps_when_present() -> None:
    text = "one two three four five six seven eight nine ten eleven twelve"
    words = tuple(Word(float(i), i + 0.8, w) for i, w in enumerate(text.split()))
    cues = captions([Segment(0.0, 11.8, text, words)], max_chars_per_line=30, max_lines=1)
    assert len(cues) > 1
    position = 0
    for cue in cues:
        count = len(" ".join(cue.lines).split())
        assert cue.start == words[position].start
        assert cue.end == words[position + count - 1].end
        position += count


def test_lines_of_a_cue_are_balanced() -> None:
    cue = captions([Segment(0, 3, "the quick brown fox jumps over the lazy dog again")], 42, 2)[0]
    assert len(cue.lines) == 2
    assert abs(len(cue.lines[0]) - len(cue.lines[1])) <= 8


def test_a_word_longer_than_the_line_gets_its_own_line() -> None:
    word = "Pneumonoultramicroscopicsilicovolcanoconiosis"
    cues = captions([Segment(0, 2, f"a {word} b")], 30, 2)
    assert any(line == word for cue in cues for line in cue.lines)


def test_srt_timestamps_run_past_an_hour() -> None:
    srt = to_srt([Segment(3725.5, 3727.25, "late")])
    assert "01:02:05,500 --> 01:02:07,250" in srt


def test_vtt_header_timing_voice_tags_and_escaping() -> None:
    vtt = to_vtt([Segment(1.0, 2.5, "Fish & <chips> -->", speaker="User"), Segment(3.0, 4.0, "Hi.")])
    assert vtt.startswith("WEBVTT\n\n")
    assert "00:00:01.000 --> 00:00:02.500\n<v User>Fish &amp; &lt;chips&gt; --&gt;\n" in vtt
    assert "00:00:03.000 --> 00:00:04.000\nHi.\n" in vtt
    assert to_vtt([]) == "WEBVTT\n\n"
    assert to_srt([]) == ""


def test_srt_names_the_speaker_on_each_of_their_cues() -> None:
    srt = to_srt([Segment(0.0, 10.0, LONG, speaker="AI")], max_chars_per_line=30, max_lines=1)
    cues = parse_srt(srt)
    assert len(cues) > 2
    assert all(lines[0].startswith("AI: ") and len(lines[0]) <= 30 for *_, lines in cues)


@pytest.mark.parametrize(("max_chars", "max_lines"), [(29, 2), (121, 2), (42, 0), (42, 5)])
def test_limits_outside_the_ranges_are_refused(max_chars: int, max_lines: int) -> None:
    with pytest.raises(InvalidOption) as info:
        to_srt([Segment(0, 1, "x")], max_chars_per_line=max_chars, max_lines=max_lines)
    assert isinstance(info.value, ValueError)
    assert info.value.code == "invalid_option"
    with pytest.raises(InvalidOption):
        to_vtt([Segment(0, 1, "x")], max_chars_per_line=max_chars, max_lines=max_lines)


def test_text_and_json() -> None:
    words = (Word(0.1234, 0.5, "hello", 0.91), Word(0.5, 0.9, "world", None))
    result = TranscriptResult(
        text="hello world\nbye",
        segments=(Segment(0.1234, 0.9, "hello world", words, "A"), Segment(1.0, 1.5, "bye")),
        language="en",
        language_probability=0.98765,
        duration=2.0,
    )
    assert to_text(result) == "hello world\nbye"
    data = to_json(result)
    assert data["language"] == "en" and data["language_probability"] == 0.9877 and data["duration"] == 2.0
    first, second = data["segments"]
    assert first == {
        "id": 0,
        "start": 0.123,
        "end": 0.9,
        "text": "hello world",
        "speaker": "A",
        "words": [
            {"start": 0.123, "end": 0.5, "text": "hello", "probability": 0.91},
            {"start": 0.5, "end": 0.9, "text": "world", "probability": None},
        ],
    }
    assert second == {"id": 1, "start": 1.0, "end": 1.5, "text": "bye"}

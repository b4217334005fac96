"""The realtime benchmark's matching of final words to the partials that first showed them,
on hand-made message sequences (``bench.realtime_session``)."""

from __future__ import annotations

from typing import Any

import pytest

from bench.realtime_session import Session, first_partials, word_delays

Message = tuple[float, dict[str, Any]]


def partial(at: float, text: str) -> Message:
    return at, {"text": text, "is_final": False}


def final(at: float, text: str, first_end: float = 1.0) -> Message:
    """A final whose words end 0.5 s apart from ``first_end`` on."""
    items = [{"text": w, "end": first_end + 0.5 * n} for n, w in enumerate(text.split())]
    return at, {"text": text, "is_final": True, "words": items}


def test_in_order_partials_show_words_by_position() -> None:
    messages = [
        partial(1.0, "and so"),
        partial(2.0, "And so, my fellow"),
        final(3.0, "and so my fellow americans"),
        partial(4.0, "ask"),
        partial(4.5, "ask not"),
        final(5.0, "Ask not."),
    ]

    assert first_partials(messages) == [[1.0, 1.0, 2.0, 2.0, None], [4.0, 4.5]]


def test_pipelined_partials_count_for_the_utterance_not_yet_final() -> None:
    # Utterance 2's partials arrive before final 1 and lead with utterance 1's pending text.
    messages = [
        partial(1.0, "and so my"),
        partial(2.0, "and so my fellow americans"),
        partial(2.5, "and so my fellow americans ask"),
        partial(3.0, "and so my fellow americans ask not"),
        final(3.2, "and so my fellow americans"),
        partial(3.5, "ask not what"),
        final(4.0, "ask not what", first_end=3.0),
    ]

    assert first_partials(messages) == [[1.0, 1.0, 1.0, 2.0, 2.0], [2.5, 3.0, 3.5]]


def test_a_partial_after_a_final_is_not_matched_to_that_final() -> None:
    messages = [
        partial(1.0, "ask"),
        final(2.0, "ask not"),
        partial(3.0, "not again"),  # "not" here is utterance 2's first word, not utterance 1's
        final(4.0, "not again"),
    ]

    assert first_partials(messages) == [[1.0, None], [3.0, 3.0]]


def test_words_no_partial_showed_have_no_partial_time() -> None:
    # "knot" stands where "not" is: it matches nothing and shifts nothing after it.
    messages = [
        partial(1.0, "ask knot"),
        partial(1.5, "ask knot what"),
        final(2.0, "ask not what your"),
    ]

    assert first_partials(messages) == [[1.0, None, 1.5, None]]


def test_word_delays_count_from_the_frame_holding_the_word_end() -> None:
    # 20 ms frames (640 bytes), frame n sent at 10 + 0.02 * n: a word ending at 1.0 s is in frame 49.
    session = Session(audio_seconds=3.0, frame_bytes=640, sent=[10 + 0.02 * n for n in range(150)])
    session.messages = [
        (10.0 + 1.25, {"text": "ask", "is_final": False}),
        (10.0 + 2.0, final(0, "ask not")[1]),
    ]

    delays = word_delays(session)

    assert [d.end for d in delays] == [1.0, 1.5]
    assert delays[0].partial == pytest.approx(1.25 - 0.98)
    assert delays[1].partial is None
    assert [d.final for d in delays] == pytest.approx([2.0 - 0.98, 2.0 - 1.48])

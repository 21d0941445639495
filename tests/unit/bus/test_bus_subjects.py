from pathlib import Path

import pytest
from zkpot.bus import subjects as s
from zkpot.bus.subjects import LAYOUT, Retention

DOC = Path(__file__).resolve().parents[3] / "docs" / "messaging.md"


def test_every_subject_belongs_to_exactly_one_stream() -> None:
    for stream in LAYOUT.streams:
        for pattern in stream.patterns:
            assert [x.name for x in LAYOUT.streams if x.overlaps(pattern)] == [stream.name]


def test_subjects_of_the_brief_land_in_their_streams() -> None:
    for subject in (s.ROUND_OPEN, s.BLOCK_PROPOSED, s.BLOCK_FINALIZED, s.TX_SUBMITTED, s.TX_ATTESTED, s.BLOCK_VOTE):
        assert LAYOUT.stream_for(subject) == LAYOUT.stream(s.EVENTS)
    jobs = LAYOUT.stream_for(s.prove_subject("ab01"))
    assert jobs is not None and jobs.name == s.JOBS and jobs.retention is Retention.WORK_QUEUE
    assert LAYOUT.stream_for("zkpot.unknown") is None


def test_streams_dedupe_for_ten_minutes() -> None:
    assert {x.duplicate_window_s for x in LAYOUT.streams} == {600.0}


def test_filters_must_select_from_one_stream() -> None:
    assert LAYOUT.stream_for_filters(("zkpot.block.*", s.TX_SUBMITTED)).name == s.EVENTS
    with pytest.raises(ValueError, match="ZKPOT_EVENTS, ZKPOT_JOBS"):
        LAYOUT.stream_for_filters(("zkpot.>",))
    with pytest.raises(ValueError, match="no stream"):
        LAYOUT.stream_for_filters(("other.>",))


def test_subject_and_id_helpers() -> None:
    assert s.prove_subject("m7") == "zkpot.jobs.prove.m7"
    assert (s.round_open_id(4), s.proposed_id("ab"), s.finalized_id("ab")) == ("round-4", "proposed-ab", "final-ab")
    with pytest.raises(ValueError):
        s.prove_subject("a.b")
    with pytest.raises(KeyError):
        LAYOUT.stream("NOPE")


def test_docs_show_the_layout_of_the_code() -> None:
    text = DOC.read_text()
    table = text.split("<!-- subjects:begin -->\n", 1)[1].split("\n<!-- subjects:end -->", 1)[0]
    assert table == s.markdown_table()

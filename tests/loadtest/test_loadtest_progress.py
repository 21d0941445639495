"""Progress lines for logs: a new phase at once, running figures at most every every_s, nothing repeated."""

from loadtest.progress import phase_of, status_sink


def test_phase_is_the_text_before_the_first_figure() -> None:
    assert phase_of("round 2: submitting 50 transactions") == "round 2: submitting"
    assert phase_of("round 2: 12 submitted · 30 attestations") == "round 2:"
    assert phase_of("round 2: 50 submitted, 0 failed; waiting for its block") == "round 2:"
    assert phase_of("connecting") == "connecting"


def test_on_a_terminal_every_update_goes_to_the_live_display() -> None:
    shown: list[str] = []
    written: list[str] = []
    sink = status_sink(shown.append, written.append, terminal=True)
    for text in ("a", "a", "b"):
        sink(text)
    assert shown == ["a", "a", "b"] and written == []


def test_in_a_log_phases_print_at_once_and_figures_at_most_every_interval() -> None:
    now = [0.0]
    written: list[str] = []
    sink = status_sink(lambda _: None, written.append, terminal=False, every_s=10.0, clock=lambda: now[0])
    sink("round 1: submitting 10 transactions")
    sink("round 1: submitting 10 transactions")  # repeated: nothing
    now[0] = 1.0
    sink("round 1: 10 submitted · 3 attestations")  # new phase: at once
    now[0] = 5.0
    sink("round 1: 10 submitted · 20 attestations")  # same phase, too soon
    now[0] = 11.5
    sink("round 1: 10 submitted · 40 attestations")  # same phase, interval passed
    now[0] = 12.0
    sink("round 2: submitting 10 transactions")  # new round: at once
    assert written == ["round 1: submitting 10 transactions", "round 1: 10 submitted · 3 attestations",
                       "round 1: 10 submitted · 40 attestations", "round 2: submitting 10 transactions"]

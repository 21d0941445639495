"""How chunk proofs are spread over worker processes: every chunk exactly once, in order, no core left idle."""

import pytest
from zkpot.zk.fast.prove import schedule


def test_seven_chunks_on_two_workers_end_with_one_chunk_on_both_cores() -> None:
    assert schedule(7, 2, 2) == [(0, 6, 2, 1), (6, 7, 1, 2)]


def test_a_multiple_of_the_workers_runs_in_one_stage() -> None:
    assert schedule(8, 2, 2) == [(0, 8, 2, 1)]
    assert schedule(4, 4, 16) == [(0, 4, 4, 4)]


def test_fewer_chunks_than_workers_share_the_cores() -> None:
    assert schedule(1, 2, 2) == [(0, 1, 1, 2)]
    assert schedule(3, 4, 16) == [(0, 3, 3, 5)]


def test_one_worker_proves_in_the_calling_process() -> None:
    assert schedule(7, 1, 2) == [(0, 7, 1, 0)]
    assert schedule(0, 2, 2) == []


@pytest.mark.parametrize(("chunks", "workers", "cores"), [(n, w, c) for n in range(0, 12) for w in (1, 2, 3, 4)
                                                          for c in (1, 2, 8)])
def test_every_chunk_once_in_order_and_never_more_threads_than_cores(chunks: int, workers: int, cores: int) -> None:
    stages = schedule(chunks, workers, cores)
    covered = [i for first, stop, _, _ in stages for i in range(first, stop)]
    assert covered == list(range(chunks))
    for _, _, processes, threads in stages:
        assert processes >= 1 and (threads == 0 or processes * threads <= max(cores, processes))

"""Record ids: the id prefix cached per millisecond must not change what an id says."""

from __future__ import annotations

import os
import threading
import time

from runlake.records import ids


def parts(record_id: str) -> tuple[int, str, int]:
    """(milliseconds, nonce, sequence) of a generated id."""
    return int(record_id[:12], 16), record_id[12:20], int(record_id[20:], 16)


def test_each_id_carries_the_millisecond_it_was_made_in() -> None:
    made = []
    deadline = time.time_ns() + 30_000_000  # several milliseconds, so the prefix changes
    while time.time_ns() < deadline:
        before = time.time_ns() // 1_000_000
        record_id = ids.new_id()
        made.append((before, record_id, time.time_ns() // 1_000_000))
    assert len({parts(i)[0] for _, i, _ in made}) > 1
    for before, record_id, after in made:
        assert before <= parts(record_id)[0] <= after
    assert [i for _, i, _ in made] == sorted(i for _, i, _ in made)
    assert len({i for _, i, _ in made}) == len(made)


def test_threads_get_unique_ids_with_their_own_millisecond() -> None:
    made: list[list[tuple[int, str, int]]] = [[] for _ in range(4)]

    def work(out: list[tuple[int, str, int]]) -> None:
        for _ in range(20_000):
            before = time.time_ns() // 1_000_000
            record_id = ids.new_id()
            out.append((before, record_id, time.time_ns() // 1_000_000))

    threads = [threading.Thread(target=work, args=(out,)) for out in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [entry for out in made for entry in out]
    assert len({i for _, i, _ in every}) == len(every)
    for before, record_id, after in every:
        assert before <= parts(record_id)[0] <= after


def test_a_forked_child_does_not_reuse_the_parents_cached_prefix() -> None:
    parent = ids.new_id()  # the prefix of this millisecond is cached now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: an id at once, most likely in the parent's millisecond
        try:
            os.write(write, ids.new_id().encode())
        finally:
            os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert len(child) == 32
    assert parts(child)[1] != parts(parent)[1]  # the child drew its own nonce
    assert parts(child)[0] >= parts(parent)[0]

"""The one progress throttle (signals, store writes, CLI lines)."""

from __future__ import annotations

import threading

from app.engine.throttle import Throttle


def test_throttle_lets_one_event_through_per_interval_and_forced_ones() -> None:
    now = [0.0]
    gate = Throttle(0.1, clock=lambda: now[0])
    passed = []
    for step in range(100):  # 1 s of events every 10 ms
        now[0] = step * 0.01
        passed.append(gate.ready(force=step == 99))
    assert passed[0] is True
    assert 9 <= sum(passed) <= 12
    assert passed[-1] is True  # the forced last one


def test_throttle_lets_one_of_many_threads_through_at_a_time() -> None:
    gate = Throttle(3600.0)
    passed: list[bool] = []
    threads = [threading.Thread(target=lambda: passed.append(gate.ready())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(passed) == [False] * 7 + [True]

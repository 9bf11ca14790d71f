"""The service's fair queue: round robin between users, bounded per user and in total."""

import pytest

from tui_sandbox.service.queue import FairQueue, QueueFull, UserQueueFull


def test_users_are_served_in_turn_whatever_they_submitted():
    queue: FairQueue[str] = FairQueue(per_user=50, total=100)
    for i in range(5):
        queue.put("greedy", f"g{i}")
    queue.put("modest", "m0")
    queue.put("late", "l0")
    assert list(queue.order()) == ["g0", "m0", "l0", "g1", "g2", "g3", "g4"]
    assert [queue.pop() for _ in range(7)] == ["g0", "m0", "l0", "g1", "g2", "g3", "g4"]
    assert queue.pop() is None and len(queue) == 0


def test_a_user_who_comes_back_joins_the_end_of_the_round():
    queue: FairQueue[str] = FairQueue()
    queue.put("a", "a0")
    queue.put("b", "b0")
    assert queue.pop() == "a0"
    queue.put("a", "a1")
    assert list(queue.order()) == ["b0", "a1"]


def test_limits_per_user_and_in_total():
    queue: FairQueue[int] = FairQueue(per_user=2, total=3)
    queue.put("a", 1)
    queue.put("a", 2)
    with pytest.raises(UserQueueFull, match="a already has 2 runs waiting"):
        queue.put("a", 3)
    queue.put("b", 4)
    with pytest.raises(QueueFull):
        queue.put("c", 5)
    assert queue.waiting("a") == 2 and len(queue) == 3


def test_removing_a_waiting_item_keeps_the_others_in_order():
    queue: FairQueue[str] = FairQueue()
    for item in ("a0", "a1"):
        queue.put("a", item)
    queue.put("b", "b0")
    assert queue.remove("a", "a0") and not queue.remove("a", "zz")
    assert list(queue.order()) == ["a1", "b0"]
    assert queue.remove("b", "b0") and queue.waiting("b") == 0
    assert list(queue.order()) == ["a1"]

"""VirtualClock: sleeps advance it, idle waits jump it, holds keep waiters waiting."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from fakes.kube.clock import FixedClock, LoopClock, VirtualClock, WallClock, sync_timer

pytestmark = pytest.mark.timeout(20)
START = 1_700_000_000.0


def in_thread(target: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_sleep_advances_virtual_time_at_once() -> None:
    clock = VirtualClock()
    clock.sleep(30)
    assert clock.now() == clock.monotonic() == START + 30


def test_wait_with_nothing_to_wait_for_jumps_to_its_deadline() -> None:
    clock = VirtualClock()
    clock.wait(threading.Condition(), START + 300, lambda: False)
    assert clock.now() == START + 300


def test_wait_returns_at_once_when_ready_without_moving_time() -> None:
    clock = VirtualClock()
    clock.wait(threading.Condition(), START + 300, lambda: True)
    assert clock.now() == START


def test_a_hold_in_another_thread_keeps_a_waiter_waiting_for_its_event() -> None:
    clock = VirtualClock()
    cond = threading.Condition()
    items: list[str] = []
    woke = threading.Event()
    release = threading.Event()
    held = threading.Event()

    def writer() -> None:
        with clock.hold():
            held.set()
            release.wait(10)
            with cond:
                items.append("event")
                cond.notify_all()

    def waiter() -> None:
        clock.wait(cond, START + 300, lambda: bool(items))
        woke.set()

    writing = in_thread(writer)
    assert held.wait(10)
    waiting = in_thread(waiter)
    assert not woke.wait(0.05)  # blocked on the condition, not jumping
    assert clock.now() == START
    release.set()
    assert woke.wait(10)
    assert items == ["event"]
    writing.join(10)
    waiting.join(10)
    assert clock.now() == START  # woken by the event, not by the deadline


def test_releasing_the_hold_lets_an_idle_waiter_jump() -> None:
    clock = VirtualClock()
    held = threading.Event()
    release = threading.Event()

    def writer() -> None:
        with clock.hold():
            held.set()
            release.wait(10)

    writing = in_thread(writer)
    assert held.wait(10)
    waiting = in_thread(lambda: clock.wait(threading.Condition(), START + 60, lambda: False))
    waiting.join(0.05)
    assert waiting.is_alive()
    release.set()
    waiting.join(10)
    writing.join(10)
    assert not waiting.is_alive()
    assert clock.now() == START + 60


def test_a_threads_own_hold_does_not_block_its_waits() -> None:
    clock = VirtualClock()
    with clock.hold(), clock.hold():
        clock.wait(threading.Condition(), START + 5, lambda: False)
    assert clock.now() == START + 5


def test_a_sleep_elsewhere_wakes_a_held_waiter_whose_deadline_passed() -> None:
    clock = VirtualClock()
    held = threading.Event()
    done = threading.Event()

    def holder() -> None:
        with clock.hold():
            held.set()
            done.wait(10)

    holding = in_thread(holder)
    assert held.wait(10)
    waiting = in_thread(lambda: clock.wait(threading.Condition(), START + 10, lambda: False))
    clock.sleep(30)  # e.g. injected latency on a request in a third thread
    waiting.join(10)
    assert not waiting.is_alive()
    assert clock.now() == START + 30
    done.set()
    holding.join(10)


def test_clocks_without_a_timer_side_wait_in_real_time() -> None:
    wall = WallClock()
    virtual = VirtualClock()
    assert sync_timer(wall) is wall
    assert sync_timer(virtual) is virtual
    assert isinstance(sync_timer(FixedClock()), WallClock)
    assert isinstance(sync_timer(LoopClock()), WallClock)
    assert isinstance(sync_timer(None), WallClock)

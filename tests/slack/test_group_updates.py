"""Announcements showing several rewards are updated within Slack's one message a second per
channel: a burst of requests for one announcement is one update, and a channel's updates are
a second apart (after the bot's own post there too)."""

from __future__ import annotations

import threading
import time

from bot.slack.group_updates import GroupUpdates
from storage.reactions import Group

A = Group("C1", "1.000001")
B = Group("C1", "1.000002")  # the same channel
OTHER = Group("C2", "1.000003")


class Recorder:
    def __init__(self) -> None:
        self.done: list[tuple[Group, float]] = []
        self.lock = threading.Lock()

    def __call__(self, group: Group) -> None:
        with self.lock:
            self.done.append((group, time.monotonic()))


def wait_idle(updates: GroupUpdates, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not updates.idle():
        assert time.monotonic() < deadline, "still updating"
        time.sleep(0.01)


def test_a_burst_for_one_announcement_is_one_update_a_second() -> None:
    seen = Recorder()
    updates = GroupUpdates(refresh=seen, per_channel=0.3)
    try:
        updates.request(A)
        wait_idle(updates)
        for _ in range(20):  # twenty reactions arriving while the channel waits its turn
            updates.request(A)
        wait_idle(updates)
        assert [g for g, _ in seen.done] == [A, A]
        assert seen.done[1][1] - seen.done[0][1] >= 0.29
    finally:
        updates.stop()


def test_a_channel_waits_after_a_post_and_between_announcements_other_channels_dont() -> None:
    seen = Recorder()
    updates = GroupUpdates(refresh=seen, per_channel=0.3)
    try:
        posted = time.monotonic()
        updates.posted("C1")
        updates.request(A)
        updates.request(B)
        updates.request(OTHER)
        wait_idle(updates)
        at = {g: t for g, t in seen.done}
        assert at[OTHER] < at[A]  # its channel had no post: it did not wait behind C1
        assert at[A] - posted >= 0.29
        assert abs(at[B] - at[A]) >= 0.29  # one channel: a turn each
    finally:
        updates.stop()


def test_a_failed_update_is_logged_and_the_next_request_draws_again() -> None:
    calls: list[Group] = []

    def refresh(group: Group) -> None:
        calls.append(group)
        if len(calls) == 1:
            raise RuntimeError("Slack said no")

    updates = GroupUpdates(refresh=refresh, per_channel=0.01)
    try:
        updates.request(A)
        wait_idle(updates)
        updates.request(A)
        wait_idle(updates)
        assert calls == [A, A]
    finally:
        updates.stop()


def test_stopping_draws_what_is_still_waiting() -> None:
    seen = Recorder()
    updates = GroupUpdates(refresh=seen, per_channel=60)
    updates.posted("C1")  # the next update in C1 would wait a minute
    updates.request(A)
    updates.stop()
    assert [g for g, _ in seen.done] == [A]

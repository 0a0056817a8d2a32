"""The reward state machine, as a table (no database)."""

from __future__ import annotations

import itertools

import pytest

from storage.states import TRANSITIONS, RewardStatus, can_transition

S = RewardStatus
ALLOWED = {
    (S.PENDING_APPROVAL, S.QUEUED),
    (S.PENDING_APPROVAL, S.REJECTED),
    (S.PENDING_APPROVAL, S.EXPIRED),
    (S.PENDING_APPROVAL, S.CANCELLED),
    (S.QUEUED, S.SENDING),
    (S.QUEUED, S.CANCELLED),
    (S.SENDING, S.SENT),
    (S.SENDING, S.FAILED),
    (S.SENDING, S.IN_DOUBT),
    (S.SENDING, S.QUEUED),  # the send never reached Xoxoday: tried again later
    (S.IN_DOUBT, S.SENT),
    (S.IN_DOUBT, S.FAILED),
    (S.IN_DOUBT, S.QUEUED),  # Xoxoday's records prove it was not applied: sent again
    (S.SENT, S.CANCELLED),
}


@pytest.mark.parametrize(("old", "new"), list(itertools.product(S, S)))
def test_only_the_documented_transitions_are_allowed(old: S, new: S) -> None:
    assert can_transition(old, new) == ((old, new) in ALLOWED)


def test_every_status_is_in_the_table() -> None:
    assert set(TRANSITIONS) == set(S)
    assert [s.value for s in S] == [
        "pending_approval",
        "queued",
        "sending",
        "sent",
        "failed",
        "in_doubt",
        "cancelled",
        "rejected",
        "expired",
    ]

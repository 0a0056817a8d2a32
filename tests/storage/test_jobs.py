"""Job-run claims, do-once keys and the settings log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from pydantic import SecretStr

from storage import audit, jobs, once, settings_log
from storage.db import Store
from storage.errors import NotFound

MONDAY = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def test_a_run_is_claimed_once_and_finished(store: Store) -> None:
    with store.session() as s:
        assert jobs.claim_job_run(s, job="weekly-summary", scheduled_for=MONDAY, claimed_by="p1")
    with store.session() as s:
        assert not jobs.claim_job_run(s, job="weekly-summary", scheduled_for=MONDAY)
        # the same instant in another time zone is the same run
        paris = MONDAY.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris"))
        assert not jobs.claim_job_run(s, job="weekly-summary", scheduled_for=paris)
        assert jobs.claim_job_run(s, job="balance-alert", scheduled_for=MONDAY)
    with store.session() as s:
        jobs.finish_job_run(s, job="weekly-summary", scheduled_for=MONDAY, outcome="ok", detail="3")
    with store.read_session() as s:
        run = jobs.get_job_run(s, job="weekly-summary", scheduled_for=MONDAY)
    assert run is not None
    assert (run.outcome, run.detail, run.claimed_by) == ("ok", "3", "p1")
    assert run.finished_at is not None


def test_last_runs_per_job(store: Store) -> None:
    with store.session() as s:
        for week in range(3):
            jobs.claim_job_run(
                s, job="weekly-summary", scheduled_for=MONDAY + timedelta(weeks=week)
            )
        jobs.claim_job_run(s, job="in-doubt-report", scheduled_for=MONDAY)
    with store.read_session() as s:
        last = jobs.last_job_runs(s)
    assert set(last) == {"weekly-summary", "in-doubt-report"}
    assert last["weekly-summary"].scheduled_for == MONDAY + timedelta(weeks=2)


def test_the_last_run_that_ended_ok(store: Store) -> None:
    with store.session() as s:
        assert jobs.last_ok_run(s, job="reconcile") is None
        for day in range(3):
            jobs.claim_job_run(s, job="reconcile", scheduled_for=MONDAY + timedelta(days=day))
        jobs.finish_job_run(s, job="reconcile", scheduled_for=MONDAY, outcome="ok")
        later = MONDAY + timedelta(days=1)
        jobs.finish_job_run(s, job="reconcile", scheduled_for=later, outcome="ok")
        jobs.claim_job_run(s, job="weekly-summary", scheduled_for=MONDAY + timedelta(weeks=1))
        jobs.finish_job_run(
            s, job="weekly-summary", scheduled_for=MONDAY + timedelta(weeks=1), outcome="ok"
        )
        # the third reconcile run is still running; a failed one does not count either
        failed = MONDAY - timedelta(days=5)
        jobs.claim_job_run(s, job="reconcile", scheduled_for=failed)
        jobs.finish_job_run(s, job="reconcile", scheduled_for=failed, outcome="failed")
    with store.read_session() as s:
        found = jobs.last_ok_run(s, job="reconcile")
    assert found == later and found.tzinfo is not None


def test_the_greatest_once_key_of_a_kind(store: Store) -> None:
    with store.session() as s:
        assert once.last_key(s, kind="reconciled_day") is None
        for day in ("2026-03-09", "2026-03-10", "2026-02-28"):
            once.claim_once(s, kind="reconciled_day", key=day)
        once.claim_once(s, kind="other", key="2027-01-01")
    with store.read_session() as s:
        assert once.last_key(s, kind="reconciled_day") == "2026-03-10"


def test_job_claims_refuse_naive_times_and_unknown_runs(store: Store) -> None:
    with pytest.raises(ValueError, match="timezone"), store.session() as s:
        jobs.claim_job_run(s, job="x", scheduled_for=datetime(2025, 1, 1))
    with pytest.raises(NotFound), store.session() as s:
        jobs.finish_job_run(s, job="x", scheduled_for=MONDAY, outcome="failed")
    with pytest.raises(ValueError), store.session() as s:
        jobs.finish_job_run(s, job="x", scheduled_for=MONDAY, outcome="running")


def test_once_keys(store: Store) -> None:
    with time_machine.travel(MONDAY, tick=False), store.session() as s:
        assert once.claim_once(s, kind="expiry_reminder", key="R7K2Q9:30")
        assert not once.claim_once(s, kind="expiry_reminder", key="R7K2Q9:30")
        assert once.claim_once(s, kind="expiry_reminder", key="R7K2Q9:7")
        assert once.claim_once(s, kind="slack_event", key="Ev123")
    with store.session() as s:
        assert once.was_claimed(s, kind="slack_event", key="Ev123")
        assert once.forget_before(s, kind="slack_event", before=MONDAY + timedelta(days=1)) == 1
        assert not once.was_claimed(s, kind="slack_event", key="Ev123")
        assert once.was_claimed(s, kind="expiry_reminder", key="R7K2Q9:30")
    with pytest.raises(ValueError), store.session() as s:
        once.claim_once(s, kind="", key="x")


def _setting_events(store: Store) -> list[tuple[str, object, object]]:
    with store.read_session() as s:
        rows = [r.fields for r in audit.iter_rows(s)]
    return [(f["subject_id"], f["before"], f["after"]) for f in rows if f]  # type: ignore[index]


def test_setting_changes_are_audited_once_per_change(store: Store) -> None:
    first = {"REWARD_ALLOWANCE": 1000, "REWARD_VALUES": ["teamwork"], "REWARD_LOW_BALANCE": None}
    with store.session() as s:
        assert settings_log.record_setting_changes(s, settings=first) == sorted(first)
    with store.session() as s:
        assert settings_log.record_setting_changes(s, settings=first) == []
    changed = {**first, "REWARD_ALLOWANCE": 2000, "REWARD_LOW_BALANCE": Decimal("50.5")}
    with store.session() as s:
        assert settings_log.record_setting_changes(s, settings=changed, actor="deploy") == [
            "REWARD_ALLOWANCE",
            "REWARD_LOW_BALANCE",
        ]
    events = _setting_events(store)
    assert len(events) == 5
    assert events[3] == ("REWARD_ALLOWANCE", {"value": 1000}, {"value": 2000})
    assert events[4] == ("REWARD_LOW_BALANCE", {"value": None}, {"value": "50.5"})
    with store.read_session() as s:
        assert settings_log.current_settings(s)["REWARD_ALLOWANCE"] == 2000


def test_secrets_are_never_recorded_as_settings(store: Store) -> None:
    with pytest.raises(TypeError, match="secret"), store.session() as s:
        settings_log.record_setting_changes(s, settings={"AUDIT_KEY": SecretStr("x" * 20)})

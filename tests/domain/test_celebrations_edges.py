"""Celebrations at the edges of the calendar and the globe: UTC+14 and UTC-12, a weekend
birthday that is already Sunday somewhere, 29 February in a year without it; each paid once,
at 09:00 their time (on the Friday before a weekend), never after the catch-up days."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.rewards.celebrations import CelebrationService
from storage.models import Reward
from tests.domain.conftest import Domain
from tests.domain.support import Someone
from tests.domain.test_celebrations import ON, Clock, imported

KIRI, BAKER, LEAP = "UKIRI001", "UBAKER01", "ULEAP001"


@pytest.fixture
def domain(make_domain: Callable[..., Domain]) -> Domain:
    d = make_domain(**ON)
    d.people.add(Someone(KIRI, "kiri", "Kiri", "kiri@acme.test", tz="Pacific/Kiritimati"))
    d.people.add(Someone(BAKER, "baker", "Baker", "baker@acme.test", tz="Etc/GMT+12"))
    d.people.add(Someone(LEAP, "leap", "Leap", "leap@acme.test", tz="UTC"))
    return d


def paid(domain: Domain) -> list[str]:
    with domain.store.read_session() as session:
        return sorted(r.idempotency_key or "" for r in session.exec(select(Reward)).all())


def test_utc_plus_14_is_paid_at_its_nine_on_the_friday_before_its_saturday(domain: Domain) -> None:
    # 7 March 2026 is a Saturday: Friday the 6th, 09:00 in Kiritimati is 5 March 19:00 UTC.
    clock = Clock(datetime(2026, 3, 5, 18, 59, tzinfo=UTC))
    celebrations = CelebrationService(
        store=domain.store, people=domain.people, settings=domain.settings, now=clock
    )
    imported(celebrations, f"person,birthday\n{KIRI},03-07\n")
    assert celebrations.run_due().sent == 0
    clock.at += timedelta(minutes=1)
    assert celebrations.run_due().sent == 1
    clock.at += timedelta(days=1)  # Saturday there, already Sunday nowhere: not again
    assert celebrations.run_due().sent == 0
    assert len(paid(domain)) == 1


def test_utc_minus_12_is_caught_up_to_its_third_day_and_not_after(domain: Domain) -> None:
    # Monday 2 March 2026 in UTC-12; the bot was down: the 5th ends there at 6 March 12:00 UTC.
    clock = Clock(datetime(2026, 3, 6, 12, 0, tzinfo=UTC))
    celebrations = CelebrationService(
        store=domain.store, people=domain.people, settings=domain.settings, now=clock
    )
    imported(celebrations, f"person,birthday\n{BAKER},03-02\n")
    assert celebrations.run_due().sent == 0  # 6 March there: a birthday four days late
    clock.at -= timedelta(minutes=1)  # a machine's clock set back a minute: still the 5th
    assert celebrations.run_due().sent == 1
    clock.at -= timedelta(days=3)  # set back three days: paid already, not again
    assert celebrations.run_due().sent == 0
    assert len(paid(domain)) == 1


def test_29_february_in_a_year_without_it_is_the_28th_or_the_friday_before(domain: Domain) -> None:
    # 2026: 28 February is a Saturday, so Friday 27 February.
    clock = Clock(datetime(2026, 2, 27, 8, 59, tzinfo=UTC))
    celebrations = CelebrationService(
        store=domain.store, people=domain.people, settings=domain.settings, now=clock
    )
    imported(celebrations, f"person,birthday\n{LEAP},1992-02-29\n")
    assert celebrations.run_due().sent == 0
    clock.at += timedelta(minutes=1)
    assert celebrations.run_due().sent == 1
    for _ in range(3):  # 28 February, 1 and 2 March: not again
        clock.at += timedelta(days=1)
        assert celebrations.run_due().sent == 0
    assert [k.rsplit(":", 2)[1:] for k in paid(domain)] == [["birthday", "2026"]]

"""Flags, from the ledger to an admin's decision (the rules are `bot.rewards.flags`).

- `scan`: the rules over the standing rewards of the last weeks; each flag found is stored once
  per rule, people and month (`storage.flags.raise_flag`), so the same pattern is not raised
  every day.
- `report`: one DM to each admin (REWARD_ADMINS) listing the open flags no DM has reported
  yet, with the rewards behind each and three buttons per flag. Each admin's DM of a run is
  claimed before it is posted (a restart never DMs twice); the flags are marked reported once
  every admin was told, so flags whose report a crash interrupted are listed again the next
  day (never lost).
- `decide`: Dismiss, Hold future ones (new rewards matching the rule among those people wait
  for an admin, as an approval does) or Lock the giver (`LockService`). Admins only; the
  flag's compare-and-set lets the first decision win, audited with who and why; the same
  admin's repeated click (a double click, or a click resumed after a restart) finishes what
  the first left undone and is answered once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.rewards import policy
from bot.rewards.admin import only_admins
from bot.rewards.budgets import Budgets
from bot.rewards.directory import Directory, DirectoryUnavailable, UnknownSlackUser
from bot.rewards.events import FlagsReported, Teller
from bot.rewards.flags import RULE_TITLES, FlagCard, FlagRule, FlagRules, Gift, find_flags
from bot.rewards.kinds import OnceKind
from bot.rewards.locks import LockService
from bot.rewards.refusal import Refusal
from bot.rewards.wording import format_datetime, mention
from bot.settings import Settings
from storage import clock, once
from storage import flags as flag_repo
from storage import members as member_repo
from storage.db import Store
from storage.models import RewardFlag

log = logging.getLogger(__name__)

DISMISS = "dismissed"
HOLD = "held"
LOCK = "locked"
REPORT_LIMIT = 8  # flags in one DM (Slack's 50 blocks, 12,000 characters); the rest the next day


@dataclass(frozen=True, slots=True)
class FlagDecided:
    """A decision on a flag: `text` for the admin who clicked; `first`: this click made it
    (False: the same admin's earlier click did)."""

    text: str
    card: FlagCard
    first: bool


def gift_json(gift: Gift) -> dict[str, Any]:
    return {
        "reward_id": gift.reward_id,
        "giver": gift.giver,
        "recipient": gift.recipient,
        "points": gift.points,
        "total": gift.total,
        "reason": gift.reason,
        "at": gift.at.isoformat(),
    }


def card_of(row: RewardFlag) -> FlagCard:
    gifts = tuple(
        Gift(
            reward_id=str(g["reward_id"]),
            giver=str(g["giver"]),
            recipient=str(g["recipient"]),
            points=int(g["points"]),
            total=int(g["total"]),
            reason=str(g["reason"]),
            at=datetime.fromisoformat(str(g["at"])),
        )
        for g in row.gifts
    )
    return FlagCard(
        flag_id=row.id or 0,
        rule=FlagRule(row.rule),
        people=tuple(row.people.split(",")),
        giver=row.giver,
        period=row.period,
        gifts=gifts,
        status=row.status,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
    )


class FlagService:
    def __init__(
        self,
        *,
        store: Store,
        people: Directory,
        settings: Settings,
        teller: Teller,
        locks: LockService,
        now: Callable[[], datetime] = clock.now,
        budgets: Budgets | None = None,
    ) -> None:
        self._store = store
        self._people = people
        self._settings = settings
        self._teller = teller
        self._locks = locks
        self._now = now
        self._budgets = budgets
        self.rules = FlagRules.from_settings(settings)

    # ── finding and reporting ─────────────────────────────────────────────────────────────

    def scan(self) -> list[FlagCard]:
        """Store the flags the ledger shows now; the ones raised by this scan."""
        now = self._now()
        since = now - timedelta(days=self.rules.history_days())
        with self._store.read_session() as session:
            rows = flag_repo.gifts_since(session, since=since)
        gifts = [
            Gift(
                reward_id=r.reward_id,
                giver=r.giver,
                recipient=r.recipient,
                points=r.points,
                total=r.total,
                reason=r.reason,
                at=r.at,
            )
            for r in rows
        ]
        raised = []
        allowance_of = self._budgets.allowance_of() if self._budgets is not None else None
        for flag in find_flags(gifts, self.rules, now=now, allowance_of=allowance_of):
            with self._store.session() as session:
                row = flag_repo.raise_flag(
                    session,
                    rule=flag.rule.value,
                    people=flag.people_key,
                    giver=flag.giver,
                    period=flag.period,
                    gifts=[gift_json(g) for g in flag.gifts],
                )
                if row is not None:
                    raised.append(card_of(row))
        return raised

    def report(self, run: str) -> tuple[int, int]:
        """DM each admin the flags not reported yet (once per run and admin): how many flags,
        and how many admins were told."""
        with self._store.read_session() as session:
            cards = [card_of(r) for r in flag_repo.unreported_flags(session, limit=REPORT_LIMIT)]
        if not cards:
            return 0, 0
        told = 0
        interrupted = False
        for admin in dict.fromkeys(self._settings.REWARD_ADMINS):
            with self._store.session() as session:
                if not once.claim_once(session, kind=OnceKind.FLAGS_DM, key=f"{run}:{admin}"):
                    interrupted = True  # this run told them, or was stopped while it did
                    continue
            if self._teller.tell(FlagsReported(admin_id=admin, flags=tuple(cards))):
                told += 1
        if interrupted:  # not known to be told to everyone: listed again the next day
            return len(cards), told
        with self._store.session() as session:
            flag_repo.mark_reported(session, flag_ids=[c.flag_id for c in cards], at=self._now())
        return len(cards), told

    # ── deciding ──────────────────────────────────────────────────────────────────────────

    def decide(
        self, *, flag_id: int, admin_id: str, decision: str, resumed: bool = False
    ) -> FlagDecided | Refusal:
        """Dismiss, hold future ones, or lock the giver; the first decision wins. `resumed`:
        this is a click a crash interrupted, run again at the next start (it finishes what
        the decision left undone: the locked giver told)."""
        doing = {DISMISS: "dismiss flags", HOLD: "hold rewards", LOCK: "lock givers"}
        refused = only_admins(self._settings, admin_id, doing=doing.get(decision, "decide flags"))
        if refused is not None:
            return refused
        with self._store.read_session() as session:
            row = flag_repo.get_flag(session, flag_id=flag_id)
        if row is None:
            return Refusal("I can't find that flag any more. Nothing was changed.")
        card = card_of(row)
        if admin_id in card.people or admin_id == card.giver:  # nobody judges their own case
            return Refusal(
                "This flag is about you, so another admin decides it. Nothing was changed.",
                code="own_flag",
            )
        profile = None
        if decision == LOCK:
            try:
                profile = self._people.profile(card.giver)
            except (UnknownSlackUser, DirectoryUnavailable):
                return Refusal(
                    f"I can't look up {mention(card.giver)} in Slack right now, so I didn't lock "
                    "them. Try again in a minute, or use `/reward lock`."
                )
            problem = policy.lock_problem(
                admin_id=admin_id, target=profile.person, already_locked=False
            )
            if problem is not None:  # themselves (or a bot): the flag stays open
                return Refusal(problem, code="lock")
        why = f"flag {flag_id}: {RULE_TITLES[card.rule]} ({', '.join(card.people)})"
        locked_at = None
        with self._store.session() as session:
            done = flag_repo.decide_flag(
                session, flag_id=flag_id, decision=decision, actor=admin_id, reason=why
            )
            if done is not None and decision == HOLD:
                flag_repo.add_hold(
                    session,
                    rule=card.rule.value,
                    people=row.people,
                    actor=admin_id,
                    flag_id=flag_id,
                )
            if done is not None and profile is not None:
                locked_at = self._locks.lock_member(session, profile, admin_id=admin_id, reason=why)
        if done is None:
            return self._decided_before(flag_id, admin_id, decision, resumed=resumed)
        if locked_at is not None:
            self._locks.tell_locked(card.giver, locked_at, locked=True)
        return FlagDecided(
            text=self._done_text(card, decision, newly_locked=locked_at is not None),
            card=card_of(done),
            first=True,
        )

    def _decided_before(
        self, flag_id: int, admin_id: str, decision: str, *, resumed: bool
    ) -> FlagDecided | Refusal:
        with self._store.read_session() as session:
            row = flag_repo.get_flag(session, flag_id=flag_id)
        assert row is not None
        card = card_of(row)
        if row.decided_by == admin_id and row.status == decision:
            if decision == LOCK and resumed:  # the giver may not have been told yet
                with self._store.read_session() as session:
                    member = member_repo.get_member_by_slack_id(session, slack_user_id=card.giver)
                if member is not None and member.locked_at is not None:
                    self._locks.tell_locked(card.giver, member.locked_at, locked=True, resumed=True)
            return FlagDecided(text=self._done_text(card, decision), card=card, first=False)
        when = (
            format_datetime(row.decided_at, self._settings.REWARD_TIMEZONE)
            if row.decided_at
            else ""
        )
        by = mention(row.decided_by) if row.decided_by else "an admin"
        said = {DISMISS: "dismissed", HOLD: "put on hold", LOCK: "decided by locking the giver"}
        return Refusal(
            f"Flag {flag_id} was already {said.get(row.status, row.status)} by {by}"
            f"{' on ' + when if when else ''}. Nothing was changed."
        )

    def answered(self, flag_id: int) -> bool:
        """Whether the decision on this flag was answered (the clicked message edited)."""
        with self._store.read_session() as session:
            return once.was_claimed(session, kind=OnceKind.FLAG_ANSWERED, key=str(flag_id))

    def mark_answered(self, flag_id: int) -> None:
        """Noted once answered: a crash before it leaves the answer to the resumed click."""
        with self._store.session() as session:
            once.claim_once(session, kind=OnceKind.FLAG_ANSWERED, key=str(flag_id))

    def _done_text(self, card: FlagCard, decision: str, *, newly_locked: bool = True) -> str:
        who = ", ".join(mention(p) for p in card.people)
        if decision == DISMISS:
            return f"✅ Flag {card.flag_id} dismissed ({card.title}: {who}). Nothing else changed."
        if decision == HOLD:
            return (
                f"⏸️ Flag {card.flag_id}: from now on, new rewards like these among {who} wait "
                "for an admin's review before they go out. Rewards already given are unchanged."
            )
        giver = mention(card.giver)
        if not newly_locked:
            return f"🔒 Flag {card.flag_id}: {giver} was already locked; the flag is closed."
        return (
            f"🔒 Flag {card.flag_id}: {giver} is locked from giving (they can still receive); "
            f"I've told them. `/reward unlock {giver}` undoes it."
        )

    def open_flags(self) -> Sequence[FlagCard]:
        with self._store.read_session() as session:
            return [card_of(r) for r in flag_repo.unreported_flags(session, limit=REPORT_LIMIT)]

"""`/reward bulk`: an admin sends many awards from one CSV file (issue 22).

1. `check`: the file is read and every row checked (`bot.rewards.bulk`) before anything is
   sent; any problem rejects the whole file, with the rows at fault. A file that passes is
   kept (keyed on the Slack request that brought it) and previewed to the admin.
2. `send`: the admin's Send makes every row a queued reward from the admin (company-paid: an
   admin's giving counts against no allowance), all in one transaction, for the normal
   delivery worker. A double click, or a click resumed after a crash, sends once.
3. While its rows are delivered, `BulkWatch` tallies their outcomes (at most once a second,
   only when something changed) into the one progress message; when every row has one, the
   admin gets the CSV of outcomes. The watch runs only while a file is being sent, and again
   after a restart (`resume`), so a crash mid-delivery loses nothing: the rows are rewards in
   the ledger, each delivered once by the worker (what a crash left mid-send is in doubt and
   settled from Xoxoday's records as any reward is).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.rewards import bulk as rules_of_bulk
from bot.rewards import policy
from bot.rewards.admin import only_admins
from bot.rewards.bulk import Award, RowProblem
from bot.rewards.cards import MessageRef
from bot.rewards.directory import Directory, DirectoryUnavailable, UnknownSlackUser
from bot.rewards.events import (
    BulkApprovalAsked,
    BulkCard,
    BulkDecided,
    BulkFinished,
    BulkProgressed,
    Event,
    Teller,
)
from bot.rewards.policy import Rules, approvers_for, needs_approval
from bot.rewards.refusal import Refusal
from bot.rewards.wording import format_date, points
from bot.settings import Settings
from storage import bulk as bulk_repo
from storage import locks as lock_repo
from storage import members as member_repo
from storage.bulk import BulkStepLost, SameRowsSent, is_bulk_key
from storage.db import Store
from storage.models import BulkAward, Member
from storage.rewards import RewardDetails
from storage.states import BulkStatus, RewardStatus

log = logging.getLogger(__name__)

DOING = "send awards from a file"
# The progress message changes at most this often (chat.update is Slack's Tier 3: about 50
# a minute).
WATCH_SECONDS = 1.5
SHOWN_ROWS = 5
MEMBERS_PER_COMMIT = 500  # recipients written to the ledger per transaction, before the rewards
# Rows whose reward may still change: the worker has them, or they are in doubt (settled from
# Xoxoday's records, or by an admin): the file is done when none is left.
UNDECIDED = frozenset(
    {RewardStatus.QUEUED.value, RewardStatus.SENDING.value, RewardStatus.IN_DOUBT.value}
)


@dataclass(frozen=True, slots=True)
class BulkRejected:
    """The file was refused whole: its problems by row (all of them; the message shows the
    first few)."""

    filename: str
    rows: int
    problems: tuple[RowProblem, ...]


@dataclass(frozen=True, slots=True)
class BulkPreview:
    """A file that passed every check, waiting for the admin's Send."""

    bulk: BulkCard
    sample: tuple[Award, ...]
    needs_approval: bool


@dataclass(frozen=True, slots=True)
class BulkStarted:
    bulk: BulkCard
    again: bool  # sent before (a double click, or a resumed click): nothing new was queued
    waiting_for: tuple[str, ...] = ()  # the approvers asked, when its total needs an OK


def card_of(award: BulkAward, admin_id: str) -> BulkCard:
    message = (
        MessageRef(channel_id=award.message_channel, ts=award.message_ts)
        if award.message_channel and award.message_ts
        else None
    )
    return BulkCard(
        short_id=award.short_id,
        admin_id=admin_id,
        filename=award.filename,
        rows=award.row_count,
        total=award.total_points,
        message=message,
    )


class BulkService:
    def __init__(
        self,
        *,
        store: Store,
        people: Directory,
        settings: Settings,
        teller: Teller,
        on_queued: Callable[[], None] = lambda: None,
        watch: BulkWatch | None = None,
    ) -> None:
        self._store = store
        self._people = people
        self._settings = settings
        self._rules = Rules.from_settings(settings)
        self._teller = teller
        self._on_queued = on_queued
        self.watch = watch or BulkWatch(store=store, teller=teller)

    # --- 1. the file ----------------------------------------------------------------------

    def check(
        self, *, admin_id: str, team_id: str, data: bytes, filename: str, request_key: str
    ) -> BulkPreview | BulkRejected | Refusal:
        """Read and check every row; keep a file that passes (once per request)."""
        refused = only_admins(self._settings, admin_id, doing=DOING)
        if refused is not None:
            return refused
        locked = self._locked(admin_id)
        if locked is not None:
            return locked
        read = rules_of_bulk.read_file(data)
        if isinstance(read, Refusal):
            self._rejected(admin_id, filename, rows=0, problems=1)
            return read
        try:
            admin = self._people.profile(admin_id)
            everyone = self._people.everyone()
        except (DirectoryUnavailable, UnknownSlackUser):
            return Refusal(
                "Slack didn't answer when I looked up the people in the file, so nothing was "
                "sent. Send the file again in a minute."
            )
        people = {p.person.user_id: p for p in everyone}
        by_email: dict[str, str] = {}  # an active person before a deactivated one
        for p in sorted(everyone, key=lambda p: p.person.deleted or p.person.is_bot):
            if p.person.email:
                by_email.setdefault(p.person.email.strip().lower(), p.person.user_id)
        checked = rules_of_bulk.check_rows(
            read,
            giver=admin.person,
            people={uid: p.person for uid, p in people.items()},
            by_email=by_email,
            rules=self._rules,
        )
        if not checked.ok:
            self._rejected(admin_id, filename, rows=read.lines, problems=len(checked.problems))
            return BulkRejected(filename=filename, rows=read.lines, problems=checked.problems)
        rows = [(a.line, a.user_id, a.points, a.reason, a.value) for a in checked.awards]
        with self._store.read_session() as session:
            earlier = bulk_repo.sent_like(session, digest=bulk_repo.digest_of(rows))
        if earlier is not None:
            self._rejected(admin_id, filename, rows=read.lines, problems=1)
            return _same_rows(earlier.short_id, earlier.confirmed_at or earlier.created_at)
        with self._store.session() as session:
            admin_member = self._people.member(session, admin, team_id=team_id)
            kept = bulk_repo.keep_checked(
                session,
                request_key=request_key,
                admin=admin_member,
                filename=filename,
                rows=rows,
            )
            card = card_of(kept.award, admin_id)
        log.info(
            "bulk %s checked for %s: %d rows, %d points",
            card.short_id,
            admin_id,
            card.rows,
            card.total,
            extra={"bulk_id": card.short_id},
        )
        return BulkPreview(
            bulk=card,
            sample=checked.awards[:SHOWN_ROWS],
            needs_approval=needs_approval(card.total, self._rules),
        )

    def _locked(self, admin_id: str) -> Refusal | None:
        """The one rule for locked givers: an admin whose giving is paused sends no file."""
        with self._store.read_session() as session:
            return policy.may_give(locked=lock_repo.is_locked(session, slack_user_id=admin_id))

    def _rejected(self, admin_id: str, filename: str, *, rows: int, problems: int) -> None:
        with self._store.session() as session:
            bulk_repo.record_rejected(
                session, admin_id=admin_id, filename=filename, rows=rows, problems=problems
            )

    # --- 2. send or cancel ----------------------------------------------------------------

    def send(
        self, *, admin_id: str, team_id: str, short_id: str, message: MessageRef | None
    ) -> BulkStarted | Refusal:
        """The admin's Send: every row a queued reward, in one transaction, once."""
        refused = only_admins(self._settings, admin_id, doing=DOING)
        if refused is not None:
            return refused
        with self._store.read_session() as session:
            award = bulk_repo.get(session, short_id=short_id)
        if award is None:
            return Refusal("I can't find that file any more. Send it again with `/reward bulk`.")
        uploader = self._uploader(award)
        if uploader != admin_id:
            return Refusal(f"Only <@{uploader}>, who sent the file, can send or cancel it.")
        if award.status == BulkStatus.CANCELLED.value:
            return Refusal(f"You cancelled `{award.short_id}`, so nothing was sent.")
        if award.status != BulkStatus.PREVIEWED.value:  # a second click: the first one stands
            return self._decided_before(short_id, admin_id)
        if needs_approval(award.total_points, self._rules):
            return self._ask(award, admin_id=admin_id, message=message)
        return self._queue(award, admin_id=admin_id, team_id=team_id, message=message)

    def _ask(
        self, award: BulkAward, *, admin_id: str, message: MessageRef | None
    ) -> BulkStarted | Refusal:
        """Send on a file whose total needs an OK: it waits, and the approvers are asked."""
        concerned = {admin_id, *(str(r[1]) for r in award.rows)}
        approvers = [
            uid
            for uid in approvers_for(
                approvers=self._settings.REWARD_APPROVERS,
                admins=self._settings.REWARD_ADMINS,
                concerned=concerned,
            )
            if self._can_be_asked(uid)
        ]
        if not approvers:
            return Refusal(
                f"This file gives {points(award.total_points)} in all, which needs an "
                "approver's OK, and everyone who could approve it is in it (or sent it, or is "
                "no longer in Slack). Nothing was sent: ask for another approver, or split the "
                "file."
            )
        try:
            with self._store.session() as session:
                fresh = session.get(BulkAward, award.id, populate_existing=True)
                assert fresh is not None
                bulk_repo.ask_approval(
                    session,
                    award=fresh,
                    actor=admin_id,
                    message=(message.channel_id, message.ts) if message else None,
                )
                card = card_of(fresh, admin_id)
        except SameRowsSent as err:
            return _same_rows(err.short_id, err.sent_at)
        except BulkStepLost:
            return self._decided_before(award.short_id, admin_id)
        self._teller.tell(BulkApprovalAsked(bulk=card, approvers=tuple(approvers)))
        return BulkStarted(bulk=card, again=False, waiting_for=tuple(approvers))

    def _can_be_asked(self, user_id: str) -> bool:
        """A person still in Slack (not deactivated, not a bot) can be asked to approve."""
        try:
            person = self._people.profile(user_id).person
        except UnknownSlackUser:
            log.warning("approver %s is not in this Slack workspace", user_id)
            return False
        except DirectoryUnavailable:
            return True  # Slack can't say now: ask them anyway
        return not person.deleted and not person.is_bot

    def _decided_before(self, short_id: str, admin_id: str) -> BulkStarted | Refusal:
        with self._store.read_session() as session:
            again = bulk_repo.get(session, short_id=short_id)
        if again is None or again.status == BulkStatus.CANCELLED.value:
            return Refusal("That file was cancelled, so nothing was sent.")
        if again.status == BulkStatus.REJECTED.value:
            return Refusal("That file was rejected by an approver, so nothing was sent.")
        return BulkStarted(bulk=card_of(again, admin_id), again=True)

    def _queue(
        self,
        award: BulkAward,
        *,
        admin_id: str,
        team_id: str,
        message: MessageRef | None,
        approved_by: str | None = None,
    ) -> BulkStarted | Refusal:
        """Every row a queued reward from the admin, in one transaction, once."""
        locked = self._locked(admin_id)
        if locked is not None:
            if approved_by is None:
                return locked
            return Refusal(
                f"<@{admin_id}>'s giving is paused by an admin, so their file can't be "
                "approved until they are unlocked. Nothing was sent."
            )
        try:
            recipients = self._people.profiles(sorted({str(r[1]) for r in award.rows}))
            admin = self._people.profile(admin_id)
        except (DirectoryUnavailable, UnknownSlackUser):
            return Refusal(
                "Slack didn't answer when I looked up the people in the file, so nothing was "
                "sent. Press the button again in a minute."
            )
        gone = [p for p in recipients if p.person.deleted or not p.person.email]
        if gone:
            who = ", ".join(f"<@{p.person.user_id}>" for p in gone[:5])
            return Refusal(
                f"Since the file was checked, {who} can no longer receive points (deactivated, "
                "or no email). Nothing was sent: take them out and send the file again."
            )
        members: dict[str, int] = {}  # the recipients' members, written before (a member
        for start in range(0, len(recipients), MEMBERS_PER_COMMIT):  # is kept either way)
            with self._store.session() as session:
                for p in recipients[start : start + MEMBERS_PER_COMMIT]:
                    member = self._people.member(session, p, team_id=team_id)
                    assert member.id is not None
                    members[p.person.user_id] = member.id
        try:
            with self._store.session() as session:
                giver: Member = self._people.member(session, admin, team_id=team_id)
                fresh = session.get(BulkAward, award.id, populate_existing=True)
                assert fresh is not None
                made = bulk_repo.confirm(
                    session,
                    award=fresh,
                    giver=giver,
                    recipients=members,
                    expiry_months=self._settings.REWARD_EXPIRY_MONTHS,
                    message=(message.channel_id, message.ts) if message else None,
                    approved_by=approved_by,
                )
                card = card_of(fresh, admin_id)
        except SameRowsSent as err:
            return _same_rows(err.short_id, err.sent_at)
        except BulkStepLost:  # another click (or process) sent or cancelled it meanwhile
            return self._decided_before(award.short_id, admin_id)
        log.info(
            "bulk %s sent by %s: %d rewards queued",
            card.short_id,
            admin_id,
            len(made),
            extra={"bulk_id": card.short_id},
        )
        self._on_queued()
        self.watch.start()
        return BulkStarted(bulk=card, again=False)

    def decide(self, *, approver_id: str, short_id: str, approve: bool) -> BulkStarted | Refusal:
        """An approver's Approve (the rows are queued, from the admin who sent the file) or
        Reject (nothing is sent); once, whoever clicks first."""
        with self._store.read_session() as session:
            award = bulk_repo.get(session, short_id=short_id)
            admin = _admin_of(session, award) if award is not None else ""
        if award is None:
            return Refusal("I can't find that file any more.")
        concerned = {admin, *(str(r[1]) for r in award.rows)}
        allowed = approvers_for(
            approvers=self._settings.REWARD_APPROVERS,
            admins=self._settings.REWARD_ADMINS,
            concerned=concerned,
        )
        if approver_id not in allowed:
            return Refusal(
                "You can't decide on this file: it's for an approver who neither sent it nor "
                "is in it."
            )
        if award.status != BulkStatus.PENDING_APPROVAL.value:
            return self._decided_before(short_id, admin)
        card = card_of(award, admin)
        if approve:
            started = self._queue(
                award,
                admin_id=admin,
                team_id=self._team_of(admin),
                message=None,
                approved_by=approver_id,
            )
            if isinstance(started, BulkStarted) and not started.again:
                self._teller.tell(BulkDecided(bulk=card, approver=approver_id, approved=True))
            return started
        try:
            with self._store.session() as session:
                fresh = session.get(BulkAward, award.id, populate_existing=True)
                assert fresh is not None
                bulk_repo.reject(session, award=fresh, actor=approver_id)
        except BulkStepLost:
            return self._decided_before(short_id, admin)
        self._teller.tell(BulkDecided(bulk=card, approver=approver_id, approved=False))
        return BulkStarted(bulk=card, again=False)

    def _uploader(self, award: BulkAward) -> str:
        with self._store.read_session() as session:
            return _admin_of(session, award)

    def _team_of(self, user_id: str) -> str:
        with self._store.read_session() as session:
            member = member_repo.get_member_by_slack_id(session, slack_user_id=user_id)
        return member.team_id if member is not None else ""

    def cancel(self, *, admin_id: str, short_id: str) -> BulkCard | Refusal:
        refused = only_admins(self._settings, admin_id, doing=DOING)
        if refused is not None:
            return refused
        try:
            with self._store.session() as session:
                award = bulk_repo.get(session, short_id=short_id)
                if award is None:
                    return Refusal("I can't find that file any more; nothing was sent.")
                uploader = _admin_of(session, award)
                if uploader != admin_id:
                    return Refusal(f"Only <@{uploader}>, who sent the file, can send or cancel it.")
                if award.status == BulkStatus.CANCELLED.value:
                    return card_of(award, admin_id)
                bulk_repo.cancel(session, award=award, actor=admin_id)
                return card_of(award, admin_id)
        except BulkStepLost:
            return Refusal(
                "It's already being sent, so it can't be cancelled: sent points can't be "
                "recalled. Its progress message shows how far it got."
            )

    # --- 3. after a restart ---------------------------------------------------------------

    def resume(self) -> None:
        """At start: watch the files a previous life was sending."""
        with self._store.read_session() as session:
            waiting = bool(bulk_repo.sending(session))
        if waiting:
            self.watch.start()

    def close(self) -> None:
        self.watch.stop()


def _same_rows(short_id: str, sent_at: datetime) -> Refusal:
    when = format_date(sent_at.date())
    return Refusal(
        f"These are the same awards as file `{short_id}`, sent on {when}: sending them again "
        "so soon would pay everyone twice, so nothing was sent. If you do mean to give the "
        "same people more, change the reasons (say what it is for this time) and send the "
        "file again.",
        code="same_rows_sent",
    )


class BulkWatch:
    """The progress of the files being sent: a thread that runs only while one is, tallying
    each file's rows every `seconds` and telling the admin when the tally changed, then once
    more with the outcomes when it is done."""

    def __init__(self, *, store: Store, teller: Teller, seconds: float = WATCH_SECONDS) -> None:
        self._store = store
        self._teller = teller
        self._seconds = seconds
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._wanted = False
        self._shown: dict[str, dict[str, int]] = {}

    def start(self) -> None:
        with self._lock:
            self._wanted = True  # a thread about to end looks again (`_run`)
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="bulk-watch", daemon=True)
            self._thread.start()

    @property
    def running(self) -> bool:
        with self._lock:
            return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                self._wanted = False
            try:
                busy = self.tick()
            except Exception:  # the ledger or Slack hiccupped: try again on the next tick
                log.warning("bulk progress could not be told", exc_info=True)
                busy = True
            if not busy:
                with self._lock:
                    if not self._wanted:  # nobody sent a file while it looked: done
                        self._thread = None
                        return
                continue
            self._stopping.wait(self._seconds)

    def tick(self) -> bool:
        """One look at every file being sent; False when none is."""
        with self._store.read_session() as session:
            awards = bulk_repo.sending(session)
            admins = {a.id: _admin_of(session, a) for a in awards}
        for award in awards:
            with self._store.read_session() as session:
                tally = bulk_repo.counts(session, bulk_id=award.id or 0)
            card = card_of(award, admins[award.id])
            if any(tally.get(s, 0) for s in UNDECIDED):
                if self._shown.get(award.short_id) != tally:
                    self._teller.tell(BulkProgressed(bulk=card, tally=tally))
                    self._shown[award.short_id] = tally
                continue
            self._finish(award, card, tally)
        return bool(awards)

    def _finish(self, award: BulkAward, card: BulkCard, tally: dict[str, int]) -> None:
        """Done: the outcomes CSV told, and the file marked done in the same transaction (a
        failure or a crash while telling leaves it sending, to be told again)."""
        with self._store.session() as session:
            fresh = session.get(BulkAward, award.id, populate_existing=True)
            if fresh is None or fresh.status != BulkStatus.SENDING.value:
                return
            if not bulk_repo.finish(session, award=fresh, tally=tally):
                return
            rows = bulk_repo.outcomes(session, bulk_id=award.id or 0)
            csv = rules_of_bulk.outcomes_csv(
                (r.line, r.recipient, r.points, r.status, r.reward) for r in rows
            )
            self._teller.tell(
                BulkFinished(
                    bulk=card, tally=tally, filename=f"bulk-{card.short_id}-outcomes.csv", csv=csv
                )
            )
        self._shown.pop(award.short_id, None)
        log.info("bulk %s done: %s", card.short_id, tally, extra={"bulk_id": card.short_id})


class WatchedRows:
    """The Teller the delivery worker and the doubt settler tell through: an outcome of a
    bulk file's row makes this process watch the file's progress, whichever process handled
    its Send (that one may have died while another delivers)."""

    def __init__(self, teller: Teller, *, watch: BulkWatch) -> None:
        self._teller = teller
        self._watch = watch

    def tell(self, event: Event) -> bool:
        told = self._teller.tell(event)
        reward = getattr(event, "reward", None)
        if isinstance(reward, RewardDetails) and is_bulk_key(reward.reward.idempotency_key):
            self._watch.start()
        return told


def _admin_of(session: Session, award: BulkAward) -> str:
    member = session.get(Member, award.admin_id)
    return member.slack_user_id if member is not None else ""

"""Persist before you acknowledge: every command, form submission and button click the bot
acknowledges is in the intake journal (`storage.intake`) before the acknowledgement leaves the
process, and whatever a crash leaves unfinished is resumed at the next start.

Listeners are registered through `Intake` (`intake.command(app, name, fn)`, `action`, `view`,
`shortcut`). Over HTTP the web layer records each verified request for them (`note`, keyed by
what Slack gives once: the trigger id, or the clicked action's ts) before Bolt dispatches it, so
the listener's ack leaves at once; otherwise (Socket Mode) the `ack` a listener gets records the
request first and only then acknowledges, and a listener that does work before its ack (the
reward form, whose ack carries the errors) calls `persist()` first. When the listener returns,
the entry is finished; work handed to another thread (`hand_off()`) takes the entry along and
finishes it, with the error handler's handling of a failure.

- A request Slack delivers again (same key) is acknowledged as the listener would, and nothing
  runs twice.
- A request the journal cannot record is acknowledged with a message saying nothing was done.
- At start, `resume()` runs each unfinished entry's listener again, with an `ack` that does
  nothing (that moment is past) and a `respond` that answers through Slack's response_url while
  it is valid, otherwise by DM (`LateReply`). The work behind every listener is safe to run
  again: giving is keyed by the trigger id, decisions are compare-and-set, cancelling recognises
  points already withdrawn, link batches are keyed by the request. A listener that fails on
  resume (a form that can no longer be opened) tells the person to try again.

In sandbox mode (`sandboxed`) the intake is where a listener's acks and response_url replies
leave the process, so it adds the sandbox notice to them (`bot.slack.sandbox_notice`): to the
`ack` and `respond` it offers every listener, to `LateReply` and to the failures it reports.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.processes import is_gone
from bot.slack.blocks.common import text_only
from bot.slack.blocks.kit import plain, section
from bot.slack.errors import explain, report_after_ack
from bot.slack.notifier import Notifier
from bot.slack.sandbox_notice import noticed, noticed_ack, noticing
from storage.intake import IntakeJournal, IntakeUnavailable, Pending
from storage.types import utcnow

log = logging.getLogger(__name__)

Listener = Callable[..., None]
# Slack's response_url takes answers for 30 minutes; stay clear of the edge.
RESPONSE_URL_VALID = timedelta(minutes=25)
# An entry untouched this long was left by a process that died (several processes on
# PostgreSQL), or kept after a failure: it is resumed. (A live process finishes its entries
# within seconds; resuming one that is merely slow repeats work that is safe to repeat.)
STALE_AFTER = timedelta(minutes=2)
SWEEP_SECONDS = 60.0
LISTENER_THREADS = 64
ACK_BUDGET = 2.8  # Slack gives up on an ack after 3 s
MAX_RESUMES = 3  # an entry that kept failing at start is given up, and the person told
ENDED_WAIT = 1.5  # how long a failure waits for "ended" to be recorded before telling
FORGET_AFTER = timedelta(days=1)

NOT_RECORDED = (
    ":warning: I couldn't make a note of your request just now, so I didn't do anything. "
    "Please try again in a minute."
)
NOT_FINISHED = (
    ":warning: I restarted while I was handling your request and couldn't finish it, so "
    "please try again. Nothing was done twice."
)


def request_key(body: dict[str, Any]) -> str | None:
    """What Slack gives once for this request (at most 255 characters: a longer one is
    shortened with its hash), or None when there is nothing to key it by."""
    key = _raw_key(body)
    if key is not None and len(key) > 255:
        key = f"{key[:180]}#{hashlib.sha256(key.encode()).hexdigest()}"
    return key


def _raw_key(body: dict[str, Any]) -> str | None:
    trigger = body.get("trigger_id")
    kind = body.get("type")
    if body.get("command"):
        return f"command:{trigger}" if trigger else None
    if kind == "block_actions":
        actions = body.get("actions") or [{}]
        ts = actions[0].get("action_ts") if isinstance(actions[0], dict) else None
        return f"action:{ts}" if ts else (f"action:{trigger}" if trigger else None)
    if kind == "view_submission":
        view_id = (body.get("view") or {}).get("id")
        return f"view:{view_id}:{trigger}" if view_id and trigger else None
    if kind in ("shortcut", "message_action"):
        return f"shortcut:{trigger}" if trigger else None
    return None


def user_of(body: dict[str, Any]) -> str:
    return str(body.get("user_id") or (body.get("user") or {}).get("id") or "")


# The BoltRequest context key under which the web layer hands listeners what it recorded.
NOTED = "rewardbot_intake"


@dataclass(frozen=True, slots=True)
class Noted:
    """What the web layer recorded before dispatching: the entry (None: it could not be
    recorded), and whether this was Slack's first delivery of the request."""

    entry_id: int | None
    fresh: bool = True


class _Stop(Exception):
    """Ends a listener at its ack: the request was a repeat, or could not be recorded."""


@dataclass
class _State:
    """The request the listener on this thread is working for."""

    kind: str
    body: dict[str, Any]
    entry_id: int | None = None
    taken: bool = False
    repeat: bool = False  # Slack delivered this request before: ack as the listener would, stop
    unrecorded: bool = False  # the journal could not take it: say so, do nothing


class Job:
    """A journal entry handed to another thread, finished there when the work is done."""

    def __init__(self, journal: IntakeJournal, entry_id: int | None) -> None:
        self._journal = journal
        self._entry_id = entry_id

    def finish(self, outcome: str = "done") -> None:
        if self._entry_id is not None:
            self._journal.finish(self._entry_id, outcome=outcome)
            self._entry_id = None

    def failed(self) -> bool:
        """The work failed: mark the entry ended and wait for it. False when that could not
        be recorded (the entry stays pending: it is resumed at the next start, so the person
        must not be told to try again)."""
        if self._entry_id is None:
            return True
        entry_id, self._entry_id = self._entry_id, None
        return self._journal.finish(entry_id, outcome="error", wait=ENDED_WAIT)


class Intake:
    def __init__(
        self,
        *,
        journal: IntakeJournal,
        slack: WebClient,
        notifier: Notifier,
        sandboxed: bool,
        shared: bool,
    ) -> None:
        self._journal = journal
        self._slack = slack
        self._notifier = notifier
        self._sandboxed = sandboxed
        self._shared = shared  # several processes share the journal (PostgreSQL)
        self._listeners: dict[str, tuple[Listener, frozenset[str]]] = {}
        self._local = threading.local()
        self._sweeper: threading.Thread | None = None
        self._stopping = threading.Event()
        # Listeners run here (Bolt's own executor is not used: see `_until_acked`).
        self._pool = ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="slack")

    @property
    def journal(self) -> IntakeJournal:
        return self._journal

    # ── registering ───────────────────────────────────────────────────────────────────────

    def command(
        self,
        app: App,
        name: str,
        fn: Listener,
        *,
        inline: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """`inline(body)` True: this request's listener acks and hands its work off at once,
        so it runs in Bolt's own thread (no hop through the pool and back before the ack)."""
        app.command(name)(self._durable(f"command:{name}", fn, inline=inline))

    def action(self, app: App, action_id: str, fn: Listener) -> None:
        app.action(action_id)(self._durable(f"action:{action_id}", fn))

    def view(self, app: App, callback_id: str, fn: Listener) -> None:
        app.view(callback_id)(self._durable(f"view:{callback_id}", fn))

    def shortcut(self, app: App, callback_id: str, fn: Listener) -> None:
        app.shortcut(callback_id)(self._durable(f"shortcut:{callback_id}", fn))

    def _durable(
        self, kind: str, fn: Listener, *, inline: Callable[[dict[str, Any]], bool] | None = None
    ) -> Listener:
        wants = frozenset(inspect.signature(fn).parameters)
        self._listeners[kind] = (fn, wants)

        def listener(
            ack: Ack,
            body: dict[str, Any],
            respond: Respond,
            client: WebClient,
            context: dict[str, Any],
        ) -> None:
            state = _State(kind=kind, body=body)
            noted = context.get(NOTED)
            if isinstance(noted, Noted):  # recorded by the web layer before the dispatch
                state.entry_id = noted.entry_id
                state.unrecorded = noted.entry_id is None
                state.repeat = state.taken = not noted.fresh
            acks, responds = self._egress(ack, respond)
            durable = _DurableAck(self, state, acks)
            if inline is not None and inline(body):
                self._inline(
                    lambda: self._run(fn, wants, state, ack=durable, respond=responds),
                    acked=durable.acked,
                    body=body,
                )
                return
            self._until_acked(
                lambda: self._run(fn, wants, state, ack=durable, respond=responds),
                acked=durable.acked,
                body=body,
            )

        listener.__name__ = getattr(fn, "__name__", "listener")
        return listener

    def _egress(
        self, ack: Callable[..., Any], respond: Callable[..., Any]
    ) -> tuple[Callable[..., Any], Callable[..., Any]]:
        """Bolt's `ack` and `respond`, as the listener's messages leave through them: in sandbox
        mode with the sandbox notice on every message and view (`bot.slack.sandbox_notice`)."""
        if not self._sandboxed:
            return ack, respond
        return noticing(ack, noticed_ack), noticing(respond)

    def event(self, app: App, name: str, fn: Listener) -> None:
        """An Events API listener: Bolt acknowledges events by itself; the work runs on the
        pool (events are not journaled: Slack repeats an event it had no answer to)."""
        wants = frozenset(inspect.signature(fn).parameters)

        def listener(body: dict[str, Any], event: dict[str, Any]) -> None:
            offered = {"body": body, "event": event, "client": self._slack}
            call = functools.partial(fn, **{k: offered[k] for k in wants if k in offered})
            self._pool.submit(self._after_ack, call, body)

        app.event(name)(listener)

    def _until_acked(
        self, work: Callable[[], None], *, acked: threading.Event, body: dict[str, Any]
    ) -> None:
        """Run a listener on the pool and return (to Bolt, which then answers Slack) as soon as
        it has acked; it goes on working there. A failure before the ack is raised here, so
        Bolt's error handler answers; one after it is reported to the person."""
        failed: list[BaseException] = []

        def run() -> None:
            try:
                self._inline(work, acked=acked, body=body)
            except BaseException as err:
                failed.append(err)
            finally:
                acked.set()

        self._pool.submit(run)
        acked.wait(ACK_BUDGET)
        if failed:
            raise failed[0]

    def _inline(
        self, work: Callable[[], None], *, acked: threading.Event, body: dict[str, Any]
    ) -> None:
        """Run a listener here. A failure before its ack is raised (Bolt's error handler
        answers); one after it is reported to the person."""
        try:
            work()
        except BaseException as err:
            if not acked.is_set():
                raise
            self._report(err, body)

    def _after_ack(self, call: Callable[[], None], body: dict[str, Any]) -> None:
        try:
            call()
        except Exception as err:
            self._report(err, body)

    def _report(self, err: BaseException, body: dict[str, Any]) -> None:
        decorate = noticed if self._sandboxed else None
        kept = "rewardbot: ended=False" in (getattr(err, "__notes__", None) or ())
        report_after_ack(err, body, self._slack, decorate=decorate, kept=kept)

    def kind_of(self, body: dict[str, Any]) -> str | None:
        """The registered listener kind this request goes to (None: it is not journaled)."""
        kind = None
        if body.get("command"):
            kind = f"command:{body['command']}"
        elif body.get("type") == "block_actions":
            kind = f"action:{(body.get('actions') or [{}])[0].get('action_id')}"
        elif body.get("type") == "view_submission":
            kind = f"view:{(body.get('view') or {}).get('callback_id')}"
        elif body.get("type") in ("shortcut", "message_action"):
            kind = f"shortcut:{body.get('callback_id')}"
        return kind if kind in self._listeners else None

    async def note(self, body: dict[str, Any]) -> Noted | None:
        """Record a verified request before it is dispatched, without blocking the event loop
        (so a listener's ack leaves at once). None: nothing to record."""
        kind, key = self.kind_of(body), request_key(body)
        if kind is None or key is None:
            return None
        try:
            recorded = await self._journal.record_async(
                key=key, kind=kind, user_id=user_of(body), body=body
            )
        except IntakeUnavailable:
            return Noted(entry_id=None)
        if not recorded.fresh:
            log.info("Slack delivered %s again; handled once", key)
        return Noted(entry_id=recorded.entry_id, fresh=recorded.fresh)

    # ── what listeners call ───────────────────────────────────────────────────────────────

    def persist(self) -> bool:
        """Record the current request now, before work that comes ahead of the ack; False when
        it could not be recorded (the listener then acks with `NOT_RECORDED` and stops)."""
        state = self._state()
        if state is None or state.unrecorded:
            return state is None
        if state.entry_id is not None:
            return True
        try:
            self._record(state)
        except IntakeUnavailable:
            return False
        return True

    def take_over(self) -> Job:
        """The current request's entry, for work handed to another thread to finish."""
        state = self._state()
        if state is None:
            return Job(self._journal, None)
        state.taken = True
        return Job(self._journal, state.entry_id)

    def hand_off(
        self,
        work: Callable[[], None],
        *,
        respond: Callable[..., Any],
        executor: Executor | None = None,
    ) -> None:
        """Finish the current request on another thread (`executor`, default the listener
        pool) after its ack: the one way listeners run work after the ack. The entry is finished
        when `work` returns. A failure is handled as the error handler handles one before the
        ack (logged with a ref, the person told through `respond`): the entry is ended, or, when
        that cannot be recorded, kept to be finished at the next start, and the person told
        not to send it again."""
        state = self._state()
        who = user_of(state.body) if state is not None else "someone"
        job = self.take_over()

        def run() -> None:
            try:
                work()
            except Exception as err:
                text = explain(err, kept=not job.failed())
                payload = text_only(text)
                try:
                    respond(replace_original=False, response_type="ephemeral", **payload)
                except Exception:
                    log.exception("could not tell %s about a failure", who)
            else:
                job.finish()

        (executor or self._pool).submit(run)

    # ── running ───────────────────────────────────────────────────────────────────────────

    def _state(self) -> _State | None:
        return getattr(self._local, "state", None)

    def _record(self, state: _State) -> bool:
        """Record `state`'s request; True the first time Slack delivered it."""
        key = request_key(state.body)
        if key is None:
            return True
        recorded = self._journal.record(
            key=key, kind=state.kind, user_id=user_of(state.body), body=state.body
        )
        state.entry_id = recorded.entry_id
        if not recorded.fresh:
            state.taken = True  # the first delivery owns the entry
            log.info("Slack delivered %s again; handled once", key)
        return recorded.fresh

    def _run(
        self,
        fn: Listener,
        wants: frozenset[str],
        state: _State,
        *,
        ack: Callable[..., None],
        respond: Callable[..., Any],
    ) -> None:
        previous = self._state()
        self._local.state = state
        body = state.body
        offered: dict[str, Any] = {
            "ack": ack,
            "body": body,
            "respond": respond,
            "client": self._slack,
            "command": body,
            "view": body.get("view") or {},
            "shortcut": body,
        }
        try:
            fn(**{name: offered[name] for name in wants if name in offered})
        except _Stop:
            pass
        except Exception as err:
            err.add_note(f"rewardbot: ended={self._ended(state)}")
            raise
        else:
            self._finish(state, "done")
        finally:
            self._local.state = previous

    def _finish(self, state: _State, outcome: str) -> None:
        if state.entry_id is not None and not state.taken:
            self._journal.finish(state.entry_id, outcome=outcome)

    def _ended(self, state: _State) -> bool:
        """After a failure: mark the entry ended ("error") and wait for it, so the person can
        be told to try again; False when that could not be recorded (the entry stays pending
        and is resumed at the next start, so they must not try again)."""
        if state.entry_id is None or state.taken:
            return True
        return self._journal.finish(state.entry_id, outcome="error", wait=ENDED_WAIT)

    # ── resuming after a crash ────────────────────────────────────────────────────────────

    def resume(self, *, stale_after: timedelta | None = None) -> int:
        """Run what a crash left unfinished again; returns how many entries were resumed."""
        try:
            self._journal.purge(finished_before=utcnow() - FORGET_AFTER)
            entries = self._journal.pending(stale_after=stale_after, abandoned=_abandoned)
        except Exception:
            log.exception("could not read the intake journal; nothing resumed")
            return 0
        resumed = 0
        for entry in entries:
            if self._stopping.is_set():
                break
            try:
                if not self._journal.claim(entry):
                    continue  # another process took it
                resumed += 1
                self._resume_one(entry)
            except Exception:
                log.exception("could not resume intake entry %s", entry.entry_id)
        if resumed:
            log.warning("resumed %d request(s) a restart had left unfinished", resumed)
        return resumed

    def _resume_one(self, entry: Pending) -> None:
        reply = LateReply(entry=entry, notifier=self._notifier, notice=self._sandboxed)
        found = self._listeners.get(entry.kind)
        if found is None or entry.resumes >= MAX_RESUMES:
            log.error("giving up intake entry %s (%s)", entry.entry_id, entry.kind)
            self._journal.finish(entry.entry_id, outcome="abandoned")
            reply.tell(NOT_FINISHED)
            return
        fn, wants = found
        log.info("resuming %s (entry %s)", entry.kind, entry.entry_id)
        state = _State(kind=entry.kind, body=entry.body, entry_id=entry.entry_id)
        try:
            self._run(fn, wants, state, ack=_past_ack, respond=reply)
        except Exception as err:
            log.exception("resuming %s failed", entry.kind)
            ended = "rewardbot: ended=True" in (getattr(err, "__notes__", None) or ())
            if ended:  # else it stays pending: the next start tries again (MAX_RESUMES)
                reply.tell(NOT_FINISHED)

    def start_sweeping(self) -> None:
        """Now and then, resume what nobody has touched for STALE_AFTER: what a process that
        died left (several processes), or a request whose failure could not be recorded as
        ended (the person was told it would be finished)."""
        if self._sweeper is not None:
            return

        def sweep() -> None:
            while not self._stopping.wait(SWEEP_SECONDS):
                self.resume(stale_after=STALE_AFTER)

        sweeper = threading.Thread(target=sweep, name="intake-sweep", daemon=True)
        sweeper.start()  # before it is kept: `stop` never joins a thread not yet started
        self._sweeper = sweeper

    def stop(self) -> None:
        self._stopping.set()
        if self._sweeper is not None:
            self._sweeper.join(5)
            self._sweeper = None
        self._pool.shutdown(wait=True)  # what listeners are still doing after their ack


class _DurableAck:
    """The `ack` a listener gets: record, then acknowledge (`acked` is set once it has)."""

    def __init__(self, intake: Intake, state: _State, ack: Callable[..., Any]) -> None:
        self._intake = intake
        self._state = state
        self._ack = ack
        self.acked = threading.Event()

    def __call__(self, **kwargs: Any) -> None:
        try:
            self._acknowledge(**kwargs)
        finally:
            self.acked.set()

    def _acknowledge(self, **kwargs: Any) -> None:
        state = self._state
        if state.unrecorded:
            self._ack(**unrecorded_ack(state.body))
            raise _Stop
        if state.repeat:
            self._ack(**kwargs)
            raise _Stop
        if state.entry_id is None:  # not recorded by the web layer (Socket Mode): now
            try:
                fresh = self._intake._record(state)
            except IntakeUnavailable:
                self._ack(**unrecorded_ack(state.body))
                raise _Stop from None
            if not fresh:
                self._ack(**kwargs)
                raise _Stop
        self._ack(**kwargs)


def _abandoned(claimed_by: str | None, claimed_at: datetime | None) -> bool:
    """Left by a process of this host that is gone (this one's previous life included)."""
    return is_gone(claimed_by, claimed_at=claimed_at.timestamp() if claimed_at else None)


def _past_ack(**_: Any) -> None:
    """A resumed request's ack: Slack had its answer (or gave up) before the restart."""


def unrecorded_ack(body: dict[str, Any]) -> dict[str, Any]:
    """The acknowledgement of a request the journal could not record."""
    if body.get("type") == "view_submission":
        view = {
            "type": "modal",
            "title": plain("Rewards", 24),
            "close": plain("Close", 24),
            "blocks": [section(NOT_RECORDED)],
        }
        return {"response_action": "update", "view": view}
    if body.get("command"):
        return text_only(NOT_RECORDED)
    return {}


class LateReply:
    """`respond` for a resumed request: Slack's response_url while it is valid (it takes
    answers for 30 minutes), otherwise a DM to the person who asked. With `notice` (sandbox
    mode) what it sends carries the sandbox notice (`bot.slack.sandbox_notice`)."""

    def __init__(self, *, entry: Pending, notifier: Notifier, notice: bool = False) -> None:
        self._entry = entry
        self._notifier = notifier
        self._notice = notice
        body = entry.body
        url = body.get("response_url") or next(
            (u.get("response_url") for u in body.get("response_urls") or []), None
        )
        fresh = utcnow() - entry.received_at < RESPONSE_URL_VALID
        self._url = url if isinstance(url, str) and url and fresh else None
        self.user_id = user_of(body)

    def __call__(self, text: str | None = None, blocks: Any = None, **_: Any) -> None:
        payload: dict[str, Any] = {"text": text or ""}
        if blocks:
            payload["blocks"] = blocks
        self.send(payload)

    def tell(self, text: str) -> None:
        self.send(text_only(text))

    def send(self, payload: dict[str, Any]) -> None:
        if self._notice:
            payload = noticed(payload)
        if self._url is not None:
            try:
                sent = WebhookClient(self._url).send(
                    response_type="ephemeral", replace_original=False, **payload
                )
                if sent.status_code == 200:
                    return
                log.info("response_url refused a late answer (%s); DMing", sent.status_code)
            except Exception as err:
                log.info("response_url failed (%s); DMing instead", type(err).__name__)
        if self.user_id:
            self._notifier.dm(self.user_id, payload)

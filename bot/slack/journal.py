"""Persist before you acknowledge, the way Bolt apps do it.

Every command, form submission, shortcut, journaled button click (`JOURNALED_ACTIONS`) and
journaled event (`JOURNALED_EVENTS`: reactions, keyed by Slack's event_id) is in the intake
journal (`storage.intake`) before its acknowledgement leaves the process, and whatever
a crash leaves unfinished is run again at the next start:

1. `RequestJournal.middleware`, a global Bolt middleware, records the request (keyed by what
   Slack gives once: the trigger id, or the clicked action's ts) and puts its `RequestEntry` in
   `context["request_entry"]`. A request the journal cannot record is answered with
   `NOT_RECORDED` (in the ack of a command or a form; through the response_url or a DM for a
   click or a shortcut) and no listener runs.
2. The listener's ack function acknowledges (Bolt answers Slack once it returns), and the work
   after the ack runs as a Bolt lazy listener on Bolt's `listener_executor`, decorated with
   `@after_ack`: when the work ends the entry is finished; when it fails, the entry is ended and
   the person told, as the error handler does before the ack (`bot.slack.errors.report`).
3. A request Slack delivers again (same key) runs the ack function again (it answers as it did);
   its `@after_ack` work is skipped: the first delivery owns the entry.
4. At start, `resume` dispatches each unfinished entry into the Bolt app again, with a `respond`
   that answers through Slack's response_url while it is valid, else by DM (`LateReply`). The
   work behind every listener is safe to run again: giving is keyed by the trigger id, decisions
   are compare-and-set, cancelling recognises points already withdrawn, link batches are keyed by
   the request.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse, Respond
from slack_sdk import WebClient

from bot.processes import is_gone
from bot.rewards.message_gifts import worth_a_look
from bot.rewards.people_dm import dropped_csv
from bot.slack.blocks.common import text_only
from bot.slack.blocks.kit import plain, section
from bot.slack.errors import report, tell
from bot.slack.ids import ActionId, CallbackId, Command, Event, Shortcut
from bot.slack.request_entry import ENTRY, NOT_FINISHED, RequestEntry, entry_of, form_not_sent
from storage.intake import IntakeJournal, IntakeUnavailable, Pending
from storage.types import utcnow

log = logging.getLogger(__name__)

RESUMING = "resuming_entry"  # the context key `resume` dispatches an unfinished entry with

# Slack's response_url takes answers for 30 minutes; stay clear of the edge.
RESPONSE_URL_VALID = timedelta(minutes=25)
# An entry untouched this long was left by a process that died (several processes on
# PostgreSQL), or kept after a failure: it is resumed. (A live process finishes its entries
# within seconds; resuming one that is merely slow repeats work that is safe to repeat.)
STALE_AFTER = timedelta(minutes=2)
SWEEP_SECONDS = 60.0
MAX_RESUMES = 3  # an entry that kept failing at start is given up, and the person told
FORGET_AFTER = timedelta(days=1)

# The button clicks that do something worth finishing after a crash. The others only open or
# redraw a window (a gift form's filters, Reveal, Redeem) or are links: they are not journaled.
JOURNALED_ACTIONS = frozenset(
    {
        ActionId.APPROVE,
        ActionId.REJECT,
        ActionId.SETTLE_SENT,
        ActionId.SETTLE_FAILED,
        ActionId.SEND_AGAIN,
        ActionId.UNDO,
        ActionId.OPEN_REWARD_MODAL,
        ActionId.CANCEL_CONFIRM,
        ActionId.CANCEL_KEEP,
        ActionId.BULK_SEND,
        ActionId.BULK_CANCEL,
        ActionId.BULK_APPROVE,
        ActionId.BULK_REJECT,
        ActionId.REPORT_RESTORE,
        ActionId.REPORT_CANCEL,
        ActionId.LINK_CAMPAIGN_PICK,
        ActionId.GIFT_APPROVE,
        ActionId.GIFT_REJECT,
        ActionId.FLAG_DISMISS,
        ActionId.FLAG_HOLD,
        ActionId.FLAG_LOCK,
        ActionId.GIFT_SETTLE_PLACED,
        ActionId.GIFT_SETTLE_FAILED,
        ActionId.GROUP_SEND,
        ActionId.GROUP_CANCEL,
    }
)

JOURNALED_COMMANDS = frozenset(Command)
JOURNALED_FORMS = frozenset(
    {
        CallbackId.REWARD_MODAL,
        CallbackId.REJECT_REASON,
        CallbackId.LINK_MODAL,
        CallbackId.GIFT_MODAL,
        CallbackId.REPORT_MODAL,
    }
)
JOURNALED_SHORTCUTS = frozenset(Shortcut)
# Events whose work gives or takes back: recorded before the ack, keyed by Slack's event_id
# (Slack delivers an event again, with X-Slack-Retry-Num, when an ack was slow or lost).
JOURNALED_EVENTS = frozenset({Event.REACTION_ADDED, Event.REACTION_REMOVED})

NOT_RECORDED = (
    ":warning: I couldn't make a note of your request just now, so I didn't do anything. "
    "Please try again in a minute."
)


# ── what is journaled, and under which key ───────────────────────────────────────────────


def journaled(body: dict[str, Any]) -> bool:
    """The bot's command, its forms' submissions, its shortcuts and the clicks worth finishing:
    what it has a listener for (anything else is not recorded, so nothing is left for a
    restart to take up)."""
    kind = body.get("type")
    if body.get("command"):
        return body["command"] in JOURNALED_COMMANDS
    if kind == "view_submission":
        return (body.get("view") or {}).get("callback_id") in JOURNALED_FORMS
    if kind in ("shortcut", "message_action"):
        return body.get("callback_id") in JOURNALED_SHORTCUTS
    if kind == "event_callback":
        if _event_type(body) == "message":  # only what may give or take back, or import
            return worth_a_look(body["event"]) or dropped_csv(body["event"]) is not None
        return _event_type(body) in JOURNALED_EVENTS
    if kind == "block_actions":
        actions = body.get("actions") or [{}]
        first = actions[0] if isinstance(actions[0], dict) else {}
        return first.get("action_id") in JOURNALED_ACTIONS
    return False


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
    if kind == "event_callback":
        event_id = body.get("event_id")
        return f"event:{event_id}" if isinstance(event_id, str) and event_id else None
    return None


def _event_type(body: dict[str, Any]) -> str | None:
    event = body.get("event")
    kind = event.get("type") if isinstance(event, dict) else None
    return kind if isinstance(kind, str) else None


def kind_of(body: dict[str, Any]) -> str:
    """What the request is, for the journal's readers ("command:/reward", "action:…")."""
    if body.get("command"):
        return f"command:{body['command']}"
    kind = body.get("type")
    if kind == "block_actions":
        return f"action:{(body.get('actions') or [{}])[0].get('action_id')}"
    if kind == "view_submission":
        return f"view:{(body.get('view') or {}).get('callback_id')}"
    if kind == "event_callback":
        return f"event:{_event_type(body)}"
    return f"shortcut:{body.get('callback_id')}"


def user_of(body: dict[str, Any]) -> str:
    if body.get("type") == "event_callback":
        user = (body.get("event") or {}).get("user")
        return user if isinstance(user, str) else ""
    return str(body.get("user_id") or (body.get("user") or {}).get("id") or "")


def unrecorded_ack(body: dict[str, Any]) -> dict[str, Any]:
    """The acknowledgement of a request the journal could not record (empty for a click or a
    shortcut, whose ack Slack shows nowhere: the middleware tells them otherwise)."""
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


# ── the middleware ───────────────────────────────────────────────────────────────────────


class RequestJournal:
    """The Slack side of the intake journal: the middleware that records, and `resume`."""

    def __init__(self, journal: IntakeJournal) -> None:
        self.journal = journal
        self._stopping = threading.Event()
        self._sweeper: threading.Thread | None = None

    def middleware(
        self, body: dict[str, Any], context: BoltContext, next_: Callable[[], None]
    ) -> BoltResponse | None:
        resuming = context.get(RESUMING)
        if isinstance(resuming, Pending):
            context[ENTRY] = RequestEntry(resuming.entry_id, self.journal, resumed=True)
            context["respond"] = LateReply(
                respond=context.respond if _url_valid(resuming.received_at) else None,
                client=context.client,
                user_id=user_of(body),
            )
            next_()
            return None
        key = request_key(body) if journaled(body) else None
        if key is None:
            next_()
            return None
        try:
            recorded = self.journal.record(
                key=key, kind=kind_of(body), user_id=user_of(body), body=body
            )
        except IntakeUnavailable:
            log.warning("could not record %s; told the person nothing was done", kind_of(body))
            ack = context.ack
            answer = unrecorded_ack(body)
            ack(**answer)
            if not answer:  # a click's or a shortcut's ack shows nothing: say it where it can
                tell(context, text_only(NOT_RECORDED))
            return ack.response
        if not recorded.fresh:
            log.info("Slack delivered %s again; handled once", key)
        context[ENTRY] = RequestEntry(recorded.entry_id, self.journal, act=recorded.fresh)
        next_()
        return None

    # ── resuming after a crash ────────────────────────────────────────────────────────────

    def resume(self, app: App, *, stale_after: timedelta | None = None) -> int:
        """Run what a crash left unfinished again; returns how many entries were resumed."""
        try:
            self.journal.purge(finished_before=utcnow() - FORGET_AFTER)
            entries = self.journal.pending(stale_after=stale_after, abandoned=_abandoned)
        except Exception:
            log.exception("could not read the intake journal; nothing resumed")
            return 0
        resumed = 0
        for entry in entries:
            if self._stopping.is_set():
                break
            try:
                if not self.journal.claim(entry):
                    continue  # another process took it
                resumed += 1
                self._resume_one(app, entry)
            except Exception:
                log.exception("could not resume intake entry %s", entry.entry_id)
        if resumed:
            log.warning("resumed %d request(s) a restart had left unfinished", resumed)
        return resumed

    def _resume_one(self, app: App, entry: Pending) -> None:
        if entry.body is None:  # damaged on disk
            self._give_up(app, entry, outcome="unreadable")
            return
        if entry.resumes >= MAX_RESUMES:
            self._give_up(app, entry)
            return
        log.info("resuming %s (entry %s)", entry.kind, entry.entry_id)
        request = BoltRequest(body=entry.body, mode="socket_mode", context={RESUMING: entry})
        answered = app.dispatch(request)
        if answered.status == 404:  # no listener takes it any more
            self._give_up(app, entry)
            return
        problems = _form_errors(entry.body, answered)
        if problems:  # the form closed before the restart: its errors have no field to show on
            user_id = user_of(entry.body) or entry.user_id
            LateReply(respond=None, client=app.client, user_id=user_id)(form_not_sent(problems))

    def _give_up(self, app: App, entry: Pending, *, outcome: str = "abandoned") -> None:
        """Ended without running again, and its person told it was not done (they were told
        it was taken): on its response_url while valid, else by DM. An entry damaged on disk
        ("unreadable") has no body to read one from: its recorded user id gets the DM."""
        log.error("giving up intake entry %s (%s): %s", entry.entry_id, entry.kind, outcome)
        self.journal.finish(entry.entry_id, outcome=outcome)
        body = entry.body or {}
        url = response_url_of(body) if _url_valid(entry.received_at) else None
        respond = Respond(response_url=url) if url else None
        user_id = user_of(body) or entry.user_id
        LateReply(respond=respond, client=app.client, user_id=user_id)(NOT_FINISHED)

    def start_sweeping(self, app: App) -> None:
        """Now and then, resume what nobody has touched for STALE_AFTER: what a process that
        died left (several processes), or a request whose failure could not be recorded as
        ended (the person was told it would be finished)."""
        if self._sweeper is not None:
            return

        def sweep() -> None:
            while not self._stopping.wait(SWEEP_SECONDS):
                self.resume(app, stale_after=STALE_AFTER)

        sweeper = threading.Thread(target=sweep, name="intake-sweep", daemon=True)
        sweeper.start()  # before it is kept: `stop` never joins a thread not yet started
        self._sweeper = sweeper

    def stop(self) -> None:
        self._stopping.set()
        if self._sweeper is not None:
            self._sweeper.join(5)
            self._sweeper = None


def response_url_of(body: dict[str, Any]) -> str | None:
    url = body.get("response_url") or next(
        (u.get("response_url") for u in body.get("response_urls") or [] if isinstance(u, dict)),
        None,
    )
    return url if isinstance(url, str) and url else None


def _form_errors(body: dict[str, Any], answered: BoltResponse) -> list[str]:
    """The field errors a resumed form's checks answered with (Slack shows them on no form)."""
    if body.get("type") != "view_submission" or not answered.body:
        return []
    try:
        ack = json.loads(answered.body)
    except ValueError:
        return []
    errors = ack.get("errors") if isinstance(ack, dict) else None
    if ack.get("response_action") != "errors" or not isinstance(errors, dict):
        return []
    return [str(text) for text in errors.values()]


def _url_valid(received_at: datetime) -> bool:
    return utcnow() - received_at < RESPONSE_URL_VALID


def _abandoned(claimed_by: str | None, claimed_at: datetime | None) -> bool:
    """Left by a process of this host that is gone (this one's previous life included)."""
    return is_gone(claimed_by, claimed_at=claimed_at.timestamp() if claimed_at else None)


class LateReply:
    """`respond` for a resumed request: Slack's response_url while it is valid (it takes
    answers for 30 minutes), otherwise a DM to the person who asked."""

    def __init__(self, *, respond: Callable[..., Any] | None, client: WebClient, user_id: str):
        self._respond = respond
        self._client = client
        self.user_id = user_id

    def __call__(self, text: str | None = None, blocks: Any = None, **_: Any) -> None:
        payload: dict[str, Any] = {"text": text or ""}
        if blocks:
            payload["blocks"] = blocks
        if self._respond is not None:
            try:
                sent = self._respond(response_type="ephemeral", replace_original=False, **payload)
                if getattr(sent, "status_code", 200) == 200:
                    return
                log.info("response_url refused a late answer (%s); DMing", sent.status_code)
            except Exception as err:
                log.info("response_url failed (%s); DMing instead", type(err).__name__)
        if self.user_id:
            channel = self._client.conversations_open(users=self.user_id)["channel"]["id"]
            self._client.chat_postMessage(channel=channel, **payload)


# ── the work after the ack ───────────────────────────────────────────────────────────────


def after_ack(work: Callable[..., None]) -> Callable[..., None]:
    """A Bolt lazy listener that runs `work` (with the Bolt arguments it names) after the ack,
    and finishes the request's journal entry when it ends. A failure is handled as the error
    handler handles one before the ack (`bot.slack.errors.report`): the entry is ended, or,
    when that cannot be recorded, kept to be finished later, and the person told. The work
    runs only for the delivery that owns the entry (not for a repeat)."""
    signature = inspect.signature(work)
    wants = tuple(signature.parameters)
    offered = list(signature.parameters.values())
    if "context" not in signature.parameters:
        offered.append(inspect.Parameter("context", inspect.Parameter.POSITIONAL_OR_KEYWORD))

    def run(**kwargs: Any) -> None:
        context: BoltContext = kwargs["context"]
        entry = entry_of(context)
        if entry is not None and not entry.act:
            return
        try:
            work(**{name: kwargs[name] for name in wants})
        except Exception as err:
            report(err, context)
        else:
            if entry is not None:
                entry.finish()

    run.__signature__ = signature.replace(parameters=offered)  # type: ignore[attr-defined]
    run.__name__ = work.__name__
    run.__qualname__ = work.__qualname__
    run.__doc__ = work.__doc__
    run.__module__ = work.__module__
    return run


def ack_at_once(ack: Callable[..., Any]) -> None:
    """The ack function of listeners whose whole work comes after the ack."""
    ack()

"""A journaled Slack request as its listener sees it: `context["request_entry"]`.

`bot.slack.journal` records the request and puts its entry in the context; the work after the
ack (`bot.slack.journal.after_ack`) and the error handler (`bot.slack.errors`) finish or end it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from slack_bolt import BoltContext

from storage.intake import IntakeJournal

ENTRY = "request_entry"
ENDED_WAIT = 1.5  # how long a failure waits for "ended" to be recorded before telling
NOT_FINISHED = (
    ":warning: I restarted while I was handling your request and couldn't finish it, so "
    "please try again. Nothing was done twice."
)


def form_not_sent(problems: list[str]) -> str:
    """A form Slack closed before a restart that failed its checks when it ran again: what
    the person would have seen on the form's fields, and that nothing came of it."""
    listed = "\n".join(f"• {p}" for p in problems)
    return (
        ":warning: I restarted while I was handling your form, and when I checked it again it "
        f"couldn't go ahead:\n{listed}\nNothing was sent or ordered; please open the form again."
    )


@dataclass(frozen=True, slots=True)
class RequestEntry:
    """A journaled request, as its listener sees it in `context["request_entry"]`.

    `act`: the work after the ack is this delivery's to do (False for a request Slack delivered
    again, and once the ack function failed); `resumed`: run again after a restart. Bolt copies
    a lazy listener's context; an entry is immutable and its journal shared, so it is never
    copied."""

    entry_id: int
    journal: IntakeJournal
    act: bool = True
    resumed: bool = False

    def __deepcopy__(self, memo: dict[int, Any]) -> RequestEntry:
        return self

    def finish(self, outcome: str = "done") -> None:
        self.journal.finish(self.entry_id, outcome=outcome)

    def ended(self) -> bool:
        """After a failure: mark the entry ended ("error") and wait for it, so the person can
        be told to try again; False when that could not be recorded (the entry stays pending
        and is resumed later, so they must not try again)."""
        return self.journal.finish(self.entry_id, outcome="error", wait=ENDED_WAIT)


def entry_of(context: BoltContext) -> RequestEntry | None:
    entry = context.get(ENTRY)
    return entry if isinstance(entry, RequestEntry) else None


def stop_work(context: BoltContext) -> None:
    """The ack function failed: its work after the ack must not run (the error handler has
    ended the entry and told the person)."""
    entry = entry_of(context)
    if entry is not None:
        context[ENTRY] = replace(entry, act=False)

"""Rewards sent together: which queued rewards share one sendBalance call, and which of them
Xoxoday's answer shows as sent. Pure: no Slack, HTTP or database.

**How many recipients per call** (`PLUM_SEND_BATCH_MAX`, default `DEFAULT_BATCH_MAX`). Xoxoday
publishes no limit on the recipients of one sendBalance call: its Send Points API page
(https://developers.xoxoday.com/reference/send-points-api, the seeds' `000_…`) documents
`recipients` as a list with no maximum, and its published rate limits (the Plum API's
"Rate limits", /work/shared/plum-api-notes.md) name no points operation. The only published
figures are for files uploaded in the dashboard ("Distribution of Xoxo-points",
https://xoxoday.gitbook.io/plum/user-guide/for-admins-1/xoxo-points/how-to-transfer-xoxo-points-to-others:
at most 500 recipients per file in the older page, 10,000 in the newer), which is not the API.
So the default is a conservative 50: a body of about 10 KB, a call that stays well inside the
client's timeouts, and, when a call's outcome is unknown, at most 50 recipients in doubt at once.

**What goes together** (`compose`): the oldest due reward always (a reward with more
recipients than the limit goes alone, as it always has), then the next ones while they fit the
limit, share its expiry (one `expiry_month` per call) and add no recipient line whose email and
points another line of the call already has (Xoxoday's rows echo neither our citation nor our
order, so email and points are what a row is matched by: they must name one line). A reward
left out waits for the next call, keeping its place.

**What the answer shows** (`match`): Xoxoday's `error: false` is the call's result, for every
recipient it carried. The rows (`recipients[…]`, seed spec) give each recipient's unique_id:
- a row with an email is matched to the one line with that email and points;
- when the answer lists rows and a line has no row with its email, the line is matched only
  if the rows without an email are exactly as many as the lines still unmatched (the seed
  spec's rows carry no email): it is sent, and its unique_id is known when its points are
  unique among those rows and lines. Position is never used: no source says rows keep the
  request's order;
- otherwise (the answer lists fewer rows than it was sent, or rows that name other people)
  the reward is **in doubt**: never "sent" by guess. `bot.rewards.doubt` settles it from the
  payment report;
- an answer with no rows at all (the quick-start's `error: false` and a message) is the call
  as a whole: every reward sent, unique ids unknown, as a single reward's is today.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from bot.plum import AnsweredRow

DEFAULT_BATCH_MAX = 50


@dataclass(frozen=True, slots=True)
class Line:
    """One recipient of one reward, as it goes out in a call."""

    reward_id: int
    member_id: int
    email: str
    points: int

    @property
    def key(self) -> tuple[str, int]:
        return (self.email.strip().lower(), self.points)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A queued reward that may go in the next call."""

    reward_id: int
    expiry_months: int | None
    lines: tuple[Line, ...]


def new_batch_id() -> str:
    """A name for one call, kept on each reward it carries (`rewards.send_batch`)."""
    return f"b-{secrets.token_hex(8)}"


def compose(candidates: Sequence[Candidate], *, max_recipients: int) -> list[Candidate]:
    """The rewards of the next call, oldest first (see the module doc); empty only when
    `candidates` is."""
    if not candidates:
        return []
    first, *rest = candidates
    chosen = [first]
    if max_recipients <= 1:
        return chosen
    size = len(first.lines)
    keys = {line.key for line in first.lines if line.email}
    for candidate in rest:
        if size >= max_recipients:
            break
        if candidate.expiry_months != first.expiry_months:
            continue
        if not candidate.lines or size + len(candidate.lines) > max_recipients:
            continue
        own = [line.key for line in candidate.lines if line.email]
        if len(set(own)) != len(own) or keys & set(own):
            continue
        chosen.append(candidate)
        size += len(candidate.lines)
        keys |= set(own)
    return chosen


class Shown(Enum):
    SENT = "sent"
    UNMATCHED = "unmatched"  # in doubt


@dataclass(frozen=True, slots=True)
class Matched:
    """What the answer shows of one reward: sent (with the unique ids it names, member id →
    unique id) or not matched (in doubt)."""

    shown: Shown
    unique_ids: dict[int, int]


def match(
    lines: Sequence[Line], rows: Sequence[AnsweredRow], *, listed: bool
) -> dict[int, Matched]:
    """Each reward's lines against a successful answer's rows (see the module doc); keyed by
    reward id. `listed`: the answer carried rows at all."""
    rewards = list(dict.fromkeys(line.reward_id for line in lines))
    if not listed:
        return {r: Matched(Shown.SENT, {}) for r in rewards}
    by_key: dict[tuple[str, int], list[AnsweredRow]] = {}
    anonymous: list[AnsweredRow] = []
    for row in rows:
        if row.email:
            if row.points is not None:
                by_key.setdefault((row.email.strip().lower(), row.points), []).append(row)
        else:
            anonymous.append(row)
    line_keys = Counter(line.key for line in lines)
    found: dict[tuple[int, int], int | None] = {}  # (reward, member) → unique id
    rest: list[Line] = []
    used: set[tuple[str, int]] = set()
    for line in lines:
        candidates = by_key.get(line.key, [])
        if len(candidates) == 1 and line_keys[line.key] == 1:
            found[(line.reward_id, line.member_id)] = candidates[0].unique_id
            used.add(line.key)
        else:
            rest.append(line)
    strangers = set(by_key) - used  # rows naming someone the call did not carry
    if rest and not strangers and len(anonymous) == len(rest):
        # The rows without an email stand for exactly the lines left: each was sent; an id
        # is known where its points name one row and one line.
        row_points = Counter(row.points for row in anonymous)
        left_points = Counter(line.points for line in rest)
        for line in rest:
            unique_id = None
            if row_points[line.points] == 1 and left_points[line.points] == 1:
                (row,) = [r for r in anonymous if r.points == line.points]
                unique_id = row.unique_id
            found[(line.reward_id, line.member_id)] = unique_id
        rest = []
    out: dict[int, Matched] = {}
    for reward in rewards:
        mine = [line for line in lines if line.reward_id == reward]
        if any((line.reward_id, line.member_id) not in found for line in mine):
            out[reward] = Matched(Shown.UNMATCHED, {})
            continue
        ids = {
            line.member_id: uid
            for line in mine
            if (uid := found[(line.reward_id, line.member_id)]) is not None
        }
        out[reward] = Matched(Shown.SENT, ids)
    return out

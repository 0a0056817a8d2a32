"""Messages about one reward's delivery: the recipient's DM, the channel announcement, what the
giver is told (sent, waiting for approval, failed, being checked), the admins' alerts for
rewards in doubt, and the notice that points were withdrawn.

Every function returns `{"text": fallback, "blocks": [...]}`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.rewards.cards import SETTLED_BY_RECORDS, RewardCard, Settlement, unique_rewards
from bot.rewards.policy import NOT_AGAIN_TODO, FailureKind, may_send_again
from bot.rewards.redeem import RedeemButton
from bot.rewards.wording import plain_reason
from bot.slack.blocks.common import (
    FIELD_TEXT_MAX,
    MESSAGE_MAX_BLOCKS,
    MESSAGE_TEXT_BUDGET,
    REDEEM_HINT,
    clip,
    format_date,
    format_datetime,
    mention,
    message,
    one_line,
    people,
    points,
    quote,
    safe_mrkdwn,
    short_id,
    values_text,
)
from bot.slack.blocks.kit import (
    Block,
    actions,
    button,
    confirm_dialog,
    context,
    fitting,
    header,
    keyed,
    section,
    text_size,
)
from bot.slack.blocks.redeem import STOREFRONT_HINT, redeem_actions
from bot.slack.ids import ActionId, BlockId

Payload = dict[str, Any]


# ── pieces ───────────────────────────────────────────────────────────────────────────────


def amount_phrase(reward: RewardCard) -> str:
    """`*100 points*`, `*100 points* each (*200 points* in all)` or, for uneven amounts,
    `*250 points* in all`."""
    each = reward.each
    if len(reward.recipients) <= 1:
        return f"*{points(reward.total)}*"
    if each is not None:
        return f"*{points(each)}* each (*{points(reward.total)}* in all)"
    return f"*{points(reward.total)}* in all"


def citation(reward: RewardCard) -> str:
    """The citation as safe mrkdwn (whether it was stored escaped or raw)."""
    return safe_mrkdwn(reward.citation.strip())


def citation_block(reward: RewardCard) -> Block:
    return section(quote(citation(reward) or "(no message)"))


def reward_note(text: str) -> Payload:
    """A short answer about a reward (mrkdwn), as a Block Kit message, like every card about a
    reward (what is added to cards where they leave the process is added to it, as it is not
    to a plain reply)."""
    return message(text, [section(text)])


def with_undo(note: Payload, reward: RewardCard, *, seconds: int) -> Payload:
    """The giver's confirmation with "Undo" under it, while the reward waits its undo window
    (the button's value is the reward's short id)."""
    undo = button("Undo", action_id=ActionId.UNDO, value=reward.short_id)
    within = "a second" if seconds == 1 else f"{seconds} seconds"
    hint = context(f"Changed your mind? Undo within {within} and nothing is sent.")
    blocks = [*note["blocks"], hint, actions(keyed(BlockId.UNDO_ACTIONS, reward.short_id), undo)]
    return {**note, "blocks": blocks}


def undone(reward: RewardCard) -> Payload:
    """The giver's confirmation once they clicked "Undo" inside the window."""
    return reward_note(
        f"↩️ Undone: nothing was sent. Reward {short_id(reward.short_id)} to "
        f"{people(reward.recipient_ids, limit=600)} is cancelled, and nobody was told of it."
    )


def undo_too_late(reward: RewardCard) -> Payload:
    """ "Undo" clicked after the window: the reward stands."""
    return reward_note(
        f"It's too late to undo reward {short_id(reward.short_id)}: its "
        f"{points(reward.total)} to {people(reward.recipient_ids, limit=600)} were already on "
        "their way. If they shouldn't have been, ask an admin to cancel the reward."
    )


def values_context(reward: RewardCard) -> list[Block]:
    return [context(f"Values: {values_text(reward.values)}")] if reward.values else []


def id_context(reward: RewardCard, tz: str | None) -> Block:
    """The reward's id and when it was made; "given" only once its points were sent (a reward
    waiting, delayed, in doubt or not sent hasn't been given)."""
    when = format_datetime(reward.created_at, tz)
    said = f"given {when}" if reward.status == "sent" else when
    return context(f"Reward {short_id(reward.short_id)} · {said}")


def recipient_lines(reward: RewardCard, *, emails: bool) -> str:
    """One line per recipient (for admins: with their email, to look them up in Xoxoday)."""
    lines = []
    for r in reward.recipients:
        email = f" · {safe_mrkdwn(r.email)}" if emails and r.email else ""
        outcome = f" · {r.outcome.replace('_', ' ')}" if r.outcome else ""
        lines.append(f"{mention(r.user_id)} · {points(r.points)}{email}{outcome}")
    return clip("\n".join(lines), FIELD_TEXT_MAX - 20)


def _who(reward: RewardCard) -> str:
    return people(reward.recipient_ids, limit=600)


# ── recipients and channel ───────────────────────────────────────────────────────────────


def recipient_dm(
    *,
    reward: RewardCard,
    recipient_id: str,
    tz: str | None,
    redeem: RedeemButton | None = None,
) -> Payload:
    """The DM a recipient gets once their points are sent: from whom, how much, what for, how
    to redeem and when the points expire (in their time zone). With points in the bot
    (`redeem` given), a Redeem button opens Xoxoday's store."""
    mine = reward.points_for(recipient_id) or reward.each or reward.total
    others = [u for u in reward.recipient_ids if u != recipient_id]
    also = f" (along with {people(others, limit=400)})" if others else ""
    lead = f"🎉 {mention(reward.giver_id)} sent you *{points(mine)}*{also}!"
    how = REDEEM_HINT if redeem is None else STOREFRONT_HINT
    if reward.expires_on is not None:
        how += f" Your points expire on *{format_date(reward.expires_on, tz)}*."
    blocks = [
        section(lead),
        citation_block(reward),
        *values_context(reward),
        section(how),
        *([redeem_actions(redeem)] if redeem is not None else []),
        id_context(reward, tz),
    ]
    text = f"🎉 {mention(reward.giver_id)} sent you {points(mine)}: {one_line(citation(reward))}"
    return message(text, blocks)


def channel_announcement(*, reward: RewardCard) -> Payload:
    """The public post in the channel where the reward was given (or the announce channel)."""
    lead = f"🎉 {mention(reward.giver_id)} rewarded {_who(reward)} with {amount_phrase(reward)}!"
    blocks = [section(lead), citation_block(reward), *values_context(reward)]
    text = f"🎉 {mention(reward.giver_id)} rewarded {_who(reward)}: {one_line(citation(reward))}"
    return message(text, blocks)


JOINED_LIMIT = 120  # characters of mentions on the "joined by" line; the rest are counted


def group_announcement(*, reward: RewardCard, joined: Sequence[RewardCard]) -> Payload:
    """An announcement showing the reward it was posted for and, on one line, everyone who
    joined it since (more reactions on the same message, or reactions on the announcement)."""
    payload = channel_announcement(reward=reward)
    givers = [card.giver_id for card in joined if card.giver_id != reward.giver_id]
    if not givers:
        return payload
    more = sum(card.total for card in joined)
    line = f"🙌 Joined by {people(givers, limit=JOINED_LIMIT)} (+{points(more)})"
    payload["blocks"] = [*payload["blocks"], context(line)][:MESSAGE_MAX_BLOCKS]
    return payload


# ── the giver ────────────────────────────────────────────────────────────────────────────


def giver_confirmation(
    *, reward: RewardCard, tz: str | None, announced_in: str | None = None
) -> Payload:
    """The giver's confirmation once Plum has taken the points. Recipients whose part failed
    (`outcome == "failed"`) are named with the reason."""
    failed = [r for r in reward.recipients if r.outcome == "failed"]
    got = [r for r in reward.recipients if r.outcome != "failed"]
    if got:
        got_ids = [r.user_id for r in got]
        amounts = {r.points for r in got}
        each = f"{points(amounts.pop())} each" if len(amounts) == 1 and len(got) > 1 else ""
        total = sum(r.points for r in got)
        how_much = f"*{each}* (*{points(total)}* in all)" if each else f"*{points(total)}*"
        lead = f"✅ Sent! {people(got_ids, limit=600)} got {how_much}."
    else:
        lead = "❌ None of the points were sent."
    parts = [lead]
    if got:
        parts.append("They have a DM from me with how to redeem.")
    if announced_in:
        parts.append(f"I announced it in <#{announced_in}>.")
    elif not reward.public:
        parts.append("It wasn't announced in a channel.")
    blocks = [section(" ".join(parts))]
    if failed:
        lines = [
            f"• {mention(r.user_id)}: {safe_mrkdwn(one_line(r.reason or 'Xoxoday refused it'))}"
            for r in failed
        ]
        blocks.append(
            section(
                "⚠️ *Not sent to*\n"
                + "\n".join(lines)
                + "\nThat part doesn't count against your allowance. Ask an admin if it's "
                f"unclear, and mention {short_id(reward.short_id)}."
            )
        )
    blocks += [citation_block(reward), id_context(reward, tz)]
    text = f"Sent! Reward {reward.short_id}: {points(reward.total)} to {_who(reward)}."
    if not got:
        text = f"Reward {reward.short_id} was not sent."
    return message(text, blocks)


def giver_pending_approval(
    *,
    reward: RewardCard,
    approver_ids: Sequence[str],
    tz: str | None,
    threshold: int | None = None,
    via_manager: bool = False,
    held: bool = False,
) -> Payload:
    """The giver is told their reward waits for approval, who was asked, and that nothing is
    sent until then. `held`: a flag held it for an admin's review (not the threshold)."""
    if held:
        asked = (
            f"I've asked {people(approver_ids, limit=600)}."
            if approver_ids
            else "It waits until an admin decides."
        )
        lead = (
            f"⏳ Your reward of {amount_phrase(reward)} to {_who(reward)} waits for an admin's "
            f"review before it goes out. {asked} Nothing is sent until then; you'll hear from "
            "me here."
        )
        blocks = [section(lead), citation_block(reward), id_context(reward, tz)]
        text = f"Your reward {reward.short_id} waits for an admin's review."
        return message(text, blocks)
    why = f" (rewards of {points(threshold)} or more do)" if threshold is not None else ""
    if via_manager and approver_ids:
        asked = f"I've asked your manager, {mention(approver_ids[0])}."
    elif approver_ids:
        asked = f"I've asked {people(approver_ids, limit=600)}."
    else:
        asked = (
            "But nobody can approve it yet: no approvers or admins are set up besides you. "
            "Ask whoever runs this bot to name approvers; it will wait until someone decides."
        )
    lead = (
        f"⏳ Your reward of {amount_phrase(reward)} to {_who(reward)} needs approval{why}. "
        f"{asked} Nothing is sent until someone decides; you'll hear from me here."
    )
    blocks = [section(lead), citation_block(reward), id_context(reward, tz)]
    text = f"Your reward {reward.short_id} needs approval; nothing is sent until then."
    return message(text, blocks)


def giver_failed(*, reward: RewardCard, tz: str | None) -> Payload:
    """A definite refusal from Plum: what happened, in plain words, and what to do."""
    reason = safe_mrkdwn(plain_reason(reward.failure_reason))
    what = f"{reason}." if reason else "Xoxoday refused it and didn't say why."
    lead = f"❌ Your reward of {amount_phrase(reward)} to {_who(reward)} wasn't sent."
    said_nothing_sent = "nothing was sent" in reason.lower()
    counts = ("It" if said_nothing_sent else "Nothing was sent, and it") + (
        " doesn't count against your monthly allowance."
    )
    again = may_send_again(reward.status, reward.failure_kind)
    todo = f"{counts} {_failed_todo(reward, again=again)}"
    blocks = [
        section(lead),
        section(f"*What happened*\n{what}"),
        section(f"*What to do*\n{todo}"),
        *([send_again_actions(reward)] if again else []),
        citation_block(reward),
        id_context(reward, tz),
    ]
    text = f"Your reward {reward.short_id} wasn't sent: {what}"
    return message(text, blocks)


def _failed_todo(reward: RewardCard, *, again: bool) -> str:
    """What the giver can do about a failed reward, by why it failed (`FailureKind`)."""
    kind = reward.failure_kind
    ref = short_id(reward.short_id)
    if not again:
        if kind in NOT_AGAIN_TODO:
            return NOT_AGAIN_TODO[FailureKind(kind)].format(id=ref)
        return (
            "If the problem is on your side (for example, a recipient's email), fix it and "
            f"give the reward again with `/reward`. Otherwise ask an admin and mention {ref}."
        )
    if kind == FailureKind.LOW_BALANCE:
        return (
            "The company account at Xoxoday was short. Once an admin has topped it up, press "
            f"Send again. Ask an admin and mention {ref} if you're not sure who."
        )
    if kind == FailureKind.NO_EMAIL:
        return "Once their email is in their Slack profile, press Send again."
    if kind == FailureKind.PASSING:
        return (
            "It was a passing problem: press Send again. If it fails again, ask an admin and "
            f"mention {ref}."
        )
    return (
        "If the problem is on your side (for example, a recipient's email), fix it and press "
        f"Send again. Otherwise ask an admin and mention {ref}."
    )


def send_again_actions(reward: RewardCard) -> Block:
    """ "Send again" on a failed reward: a new reward with the same recipients, amount and
    reason, through every rule again (the button's value is the failed reward's short id)."""
    again = button(
        "Send again",
        action_id=ActionId.SEND_AGAIN,
        value=reward.short_id,
        style="primary",
        confirm=confirm_dialog(
            title="Send it again?",
            text=f"A new reward of {amount_phrase(reward)} to "
            f"{people(reward.recipient_ids, limit=120)}, with the same "
            "reason. It goes through the usual checks again (your allowance, approval).",
            confirm="Send again",
        ),
    )
    return actions(keyed(BlockId.AGAIN_ACTIONS, reward.short_id), again)


def sent_again_context(new: RewardCard, tz: str | None) -> Block:
    """What takes the place of "Send again" once it was pressed: the new reward's id."""
    return context(
        f"🔁 You sent it again as reward {short_id(new.short_id)} on "
        f"{format_datetime(new.created_at, tz)}."
    )


def giver_in_doubt(*, reward: RewardCard, tz: str | None, admins_check: bool = True) -> Payload:
    """The outcome is unknown: it is being checked (which kind of failure it was, and who
    checks: the bot in Xoxoday's records first, or an admin), and the giver must not send it
    again."""
    lead = f"🔎 Your reward of {amount_phrase(reward)} to {_who(reward)} is being checked."
    why = safe_mrkdwn(plain_reason(reward.failure_reason))
    what = (
        f"{why[:1].upper()}{why[1:]}, so I don't know yet whether the points arrived"
        if why
        else "Xoxoday didn't confirm whether the points arrived"
    )
    who = (
        ", so an admin is checking. You'll hear from me once they know."
        if admins_check
        else ". I'm checking Xoxoday's payment records and will tell you here (an admin looks "
        "if they don't show it)."
    )
    body = f"{what}{who} *Please don't send it again:* the points could arrive twice."
    blocks = [section(f"{lead}\n{body}"), citation_block(reward), id_context(reward, tz)]
    text = f"Your reward {reward.short_id} is being checked. Please don't send it again."
    return message(text, blocks)


def giver_delayed(*, reward: RewardCard, hours: float, tz: str | None) -> Payload:
    """Xoxoday can't take it right now: it waits and is sent later, nothing to do."""
    lead = (
        f"⏳ Your reward of {amount_phrase(reward)} to {_who(reward)} is delayed: Xoxoday "
        "can't take it right now, so nothing has been sent yet."
    )
    body = (
        f"I'll keep trying for up to {_hours(hours)} and tell you here when it's sent. "
        "There's nothing to do, and please don't send it again."
    )
    blocks = [section(f"{lead}\n{body}"), citation_block(reward), id_context(reward, tz)]
    text = f"Your reward {reward.short_id} is delayed; I'll send it as soon as Xoxoday is back."
    return message(text, blocks)


def _hours(hours: float) -> str:
    if hours >= 1 and hours == int(hours):
        return "1 hour" if hours == 1 else f"{int(hours)} hours"
    minutes = max(1, round(hours * 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


# ── admins ───────────────────────────────────────────────────────────────────────────────


def admin_plum_unreachable(
    *,
    since: datetime,
    reason: str,
    waiting: int,
    setup_problem: bool,
    tz: str | None,
) -> Payload:
    """Xoxoday has not taken a send for a while (or refuses the bot's credentials)."""
    when = format_datetime(since, tz)
    why = safe_mrkdwn(plain_reason(reason))  # "…allow-list it." ends in a full stop
    rewards = "1 reward is" if waiting == 1 else f"{waiting:,} rewards are"
    todo = (
        "This is about the bot's set-up, not the rewards: fix it in Xoxoday's dashboard or in "
        "the `PLUM_*` settings (`rewardbot plum check` tells what is wrong)."
        if setup_problem
        else "Check `PLUM_BASE_URL`, the network and Xoxoday's status; `rewardbot plum check` "
        "tells what the bot sees."
    )
    lead = (
        f"🔌 Xoxoday hasn't taken the bot's sends since {when}: {why}. {rewards} waiting; "
        "I keep trying and send them as soon as it works again, and I never send one twice."
    )
    blocks = [header("Xoxoday can't be reached"), section(lead), section(f"*What to do* {todo}")]
    text = f"Xoxoday can't be reached since {when}; {rewards} waiting."
    return message(text, blocks)


def admin_plum_reachable(*, since: datetime, waiting: int, tz: str | None) -> Payload:
    """Xoxoday answers again; the rewards that waited for it are on their way (`waiting`:
    how many; none when they were all settled meanwhile)."""
    if waiting == 0:
        rewards = "no reward is waiting for it any more."
    elif waiting == 1:
        rewards = "the 1 reward that waited is going out now."
    else:
        rewards = f"the {waiting:,} rewards that waited are going out now."
    lead = (
        f"✅ Xoxoday answers again (it couldn't be reached from {format_datetime(since, tz)}); "
        f"{rewards}"
    )
    return message("Xoxoday answers again.", [section(lead)])


def settle_buttons(reward: RewardCard) -> Block:
    """ "It was sent" / "It failed" for an in-doubt reward; each button's value is the short id."""
    sent = button(
        "It was sent",
        action_id=ActionId.SETTLE_SENT,
        value=reward.short_id,
        style="primary",
        confirm=confirm_dialog(
            title="Mark as sent?",
            text="Only if Xoxoday's dashboard shows the points arrived. The giver is told "
            "they did.",
            confirm="It was sent",
        ),
    )
    failed = button(
        "It failed",
        action_id=ActionId.SETTLE_FAILED,
        value=reward.short_id,
        style="danger",
        confirm=confirm_dialog(
            title="Mark as failed?",
            text="Only if Xoxoday's dashboard shows no points arrived. The giver is told, "
            "and may send it again.",
            confirm="It failed",
            style="danger",
        ),
    )
    return actions(keyed(BlockId.SETTLE_ACTIONS, reward.short_id), sent, failed)


def settlement_context(settlement: Settlement, tz: str | None) -> Block:
    said = "✅ Marked as sent" if settlement.outcome == "sent" else "❌ Marked as failed"
    when = format_datetime(settlement.settled_at, tz)
    if settlement.settled_by == SETTLED_BY_RECORDS:
        return context(f"{said} on {when}: Xoxoday's payment report shows it.")
    return context(f"{said} by {mention(settlement.settled_by)} on {when}.")


_SETTLED_AS = {"sent": "settled as sent", "failed": "settled as not sent"}


def admin_in_doubt_alert(
    *,
    reward: RewardCard,
    tz: str | None,
    settlement: Settlement | None = None,
) -> Payload:
    """An admin's DM about a reward whose outcome is unknown, with "It was sent" / "It failed"
    buttons; with `settlement`, the same message after the decision, without the buttons."""
    detail = safe_mrkdwn(plain_reason(reward.failure_reason))
    said = f"\n*What happened* {detail}." if detail else ""
    lead = (
        f"I sent {mention(reward.giver_id)}'s reward to Xoxoday but got no clear answer, so I "
        f"don't know whether the points arrived. I won't send it again by myself.{said}"
    )
    title = f"Reward in doubt: {reward.short_id}"
    if settlement is not None:  # the heading follows: it is no longer in doubt
        title = f"Reward {_SETTLED_AS.get(settlement.outcome, 'settled')}: {reward.short_id}"
    blocks: list[Block] = [
        header(title),
        section(lead),
        section(
            fields=[
                f"*From*\n{mention(reward.giver_id)}",
                f"*Total*\n{points(reward.total)}",
                f"*To*\n{recipient_lines(reward, emails=True)}",
                f"*Given*\n{format_datetime(reward.created_at, tz)}",
            ]
        ),
        citation_block(reward),
    ]
    if settlement is None:
        blocks += [
            section(
                "*What to do* Look the recipients up in Xoxoday's dashboard. If the points "
                "arrived, press *It was sent*; if not, press *It failed* (the giver is told and "
                "may send it again)."
            ),
            settle_buttons(reward),
        ]
    else:
        blocks.append(settlement_context(settlement, tz))
    text = f"Reward {reward.short_id} is in doubt: check Xoxoday and settle it."
    if settlement is not None:
        text = f"Reward {reward.short_id} was settled as {settlement.outcome}."
    return message(text, blocks)


def in_doubt_row(reward: RewardCard, tz: str | None) -> Block:
    """One in-doubt reward in a list: who, how much, when, the recipients' emails."""
    emails = clip(safe_mrkdwn(", ".join(r.email for r in reward.recipients if r.email)), 200)
    line = (
        f"{short_id(reward.short_id)} · {mention(reward.giver_id)} → "
        f"{people(reward.recipient_ids, limit=200)} · "
        f"{points(reward.total)} · {format_date(reward.created_at, tz)}"
    )
    if emails:
        line += f"\n{emails}"
    return section(line)


def admin_crash_recovery_alert(
    *, rewards: Sequence[RewardCard], tz: str | None, now: datetime | None = None
) -> Payload:
    """After a restart: rewards a crash left mid-send are now in doubt; each with its settle
    buttons (as many as fit in one message; the rest are counted)."""
    cards = unique_rewards(rewards)
    n = len(cards)
    when = f" on {format_datetime(now, tz)}" if now else ""
    intro = (
        f"The bot restarted{when} while sending {n} reward{'s' if n != 1 else ''}, so I don't "
        "know whether Xoxoday received "
        f"{'them' if n != 1 else 'it'}. I won't send anything again by myself. Check each in "
        "Xoxoday's dashboard and settle it here."
    )
    text = f"{n} reward{'s' if n != 1 else ''} in doubt after a restart: check and settle them."
    return in_doubt_list(
        title="Rewards in doubt after a restart",
        intro=intro,
        cards=cards,
        total=n,
        tz=tz,
        text=text,
    )


def in_doubt_list(
    *,
    title: str,
    intro: str,
    cards: Sequence[RewardCard],
    total: int,
    tz: str | None,
    text: str,
) -> Payload:
    """A message listing in-doubt rewards, each with its settle buttons; what does not fit
    within Slack's limits is counted in a last line pointing at the App Home."""
    blocks: list[Block] = [header(title), section(intro)]
    rows = [[in_doubt_row(card, tz), settle_buttons(card)] for card in cards]
    room = fitting(
        rows,
        blocks_left=MESSAGE_MAX_BLOCKS - len(blocks) - 2,  # room for a last line, "more" line
        chars_left=MESSAGE_TEXT_BUDGET - text_size(blocks) - 200,
    )
    for row in rows[:room]:
        blocks += row
    if total > room:
        blocks.append(
            context(f"…and {total - room} more: see *Rewards in doubt* in the bot's App Home.")
        )
    return message(text, blocks)


def recipient_cancelled(
    *,
    reward: RewardCard,
    recipient_id: str,
    reason: str,
    tz: str | None,
    cancelled_by: str | None = None,
) -> Payload:
    """A recipient is told their points were withdrawn, and why."""
    mine = reward.points_for(recipient_id) or reward.total
    by = f" by {mention(cancelled_by)}" if cancelled_by else " by an admin"
    lead = (
        f"↩️ The *{points(mine)}* {mention(reward.giver_id)} sent you on "
        f"{format_date(reward.created_at, tz)} were withdrawn{by}."
    )
    why = safe_mrkdwn(one_line(reason)) or "No reason was given."
    ask = f"Questions? Ask {mention(cancelled_by)}." if cancelled_by else "Questions? Ask an admin."
    blocks = [
        section(f"{lead}\n*Reason:* {why}"),
        citation_block(reward),
        context(f"Reward {short_id(reward.short_id)} · {ask}"),
    ]
    text = f"The {points(mine)} from reward {reward.short_id} were withdrawn: {why}"
    return message(text, blocks)

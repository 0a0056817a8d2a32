"""Gift cards and donations: `/reward gift [@maria]`, `/reward donate [@maria]` and the App
Home buttons open the catalogue form; typing in its search is answered from the catalogue kept
in memory (`block_suggestion`, well within Slack's 3 seconds, at most 100 options); a filter or
a product picked redraws the form; the submission is checked beside its fields, then the order
is committed and its sender told by DM. Reveal opens the code for the recipient alone; approvers
decide with buttons."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk.errors import SlackApiError

from bot.rewards.commands import OpenGiftForm
from bot.rewards.gifts import GiftCard, GiftForm, GiftRequest
from bot.rewards.refusal import Refusal
from bot.slack.blocks import gifts as gift_blocks
from bot.slack.blocks.common import text_only
from bot.slack.blocks.reward_messages import reward_note
from bot.slack.ids import ActionId, BlockId, CallbackId
from bot.slack.journal import ack_at_once, after_ack, request_key, user_of
from bot.slack.listeners.action_replies import action_value, id_value, notice_modal, open_soon
from bot.slack.listeners.command_replies import reply
from bot.slack.listeners.in_time import SUBMIT_BUDGET_SECONDS, in_background, slow_note, soon
from bot.slack.request_entry import entry_of

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

# Form fields as the service names them → the form's blocks.
FIELD_BLOCKS = {
    "recipient": BlockId.GIFT_RECIPIENT,
    "product": BlockId.GIFT_PRODUCT,
    "amount": BlockId.GIFT_AMOUNT,
    "note": BlockId.GIFT_NOTE,
    "pay": BlockId.GIFT_PAY,
}
# How long opening a form or answering a search waits for a first read of Xoxoday's catalogue
# before saying it is loading (a trigger and an options request both last 3 s).
CATALOGUE_WAIT_SECONDS = 1.5
FORM_GONE = "That form is out of date. Open it again with `/reward gift`."


def may_not_open(
    runtime: Runtime, parsed: OpenGiftForm, command: dict[str, Any]
) -> dict[str, Any] | None:
    """In the ack: why this person can't open the form (None: they can). Never waits for
    Xoxoday's catalogue (a read is started if it was never read)."""
    form = runtime.gifts.form(
        command["user_id"], donation=parsed.donation, recipient=parsed.recipient, wait=False
    )
    return text_only(form.text) if isinstance(form, Refusal) else None


def open_from_command(
    runtime: Runtime, parsed: OpenGiftForm, command: dict[str, Any], respond: Respond
) -> None:
    user_id = command["user_id"]
    form = runtime.gifts.form(
        user_id,
        donation=parsed.donation,
        recipient=parsed.recipient,
        wait=False,
        within=CATALOGUE_WAIT_SECONDS,
    )
    if isinstance(form, Refusal):  # changed since the ack: say so
        reply(respond, text_only(form.text))
        return
    opened = _open(
        runtime,
        form,
        user_id=user_id,
        trigger_id=command["trigger_id"],
        recipient=parsed.recipient,
        channel_id=command.get("channel_id"),
    )
    if opened is None:
        reply(respond, text_only("I couldn't open the form in time. Type the command again."))


def _open(
    runtime: Runtime,
    form: GiftForm,
    *,
    user_id: str,
    trigger_id: str,
    recipient: str | None = None,
    channel_id: str | None = None,
    push: bool = False,
) -> dict[str, Any] | None:
    """Open the form at once (the trigger lasts 3 s); while Xoxoday's catalogue loads, it
    says so, and it is drawn again with the filters and the search when the catalogue is
    here (unless the person changed it meanwhile). The view opened (None: Slack refused)."""
    view = gift_blocks.gift_modal(
        form=form, recipient=recipient, product=None, channel_id=channel_id
    )
    try:
        if push:
            opened = runtime.slack.views_push(trigger_id=trigger_id, view=view)
        else:
            opened = runtime.slack.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as err:
        log.info("could not open the gift form: %s", err.response.get("error"))
        return None
    shown = dict(opened.get("view") or {})
    if not form.loading:
        return shown
    ready = runtime.gifts.form(user_id, donation=form.donation, recipient=None)
    if isinstance(ready, Refusal):
        return shown
    new = gift_blocks.gift_modal(
        form=ready, recipient=recipient, product=None, channel_id=channel_id
    )
    try:
        runtime.slack.views_update(view_id=shown.get("id"), hash=shown.get("hash"), view=new)
    except SlackApiError as err:  # changed meanwhile (hash_conflict) or closed: leave it
        log.info("could not draw the loaded gift form: %s", err.response.get("error"))
    return shown


def register(app: App) -> None:
    app.action(ActionId.OPEN_GIFT_MODAL)(ack=ack_at_once, lazy=[open_form])
    app.action(ActionId.OPEN_DONATE_MODAL)(ack=ack_at_once, lazy=[open_form])
    app.options(ActionId.GIFT_PRODUCT_SELECT)(suggest)
    app.action(ActionId.GIFT_PRODUCT_SELECT)(ack=ack_at_once, lazy=[redraw])
    app.action(re.compile(f"^{re.escape(str(ActionId.GIFT_FILTER))}:"))(
        ack=ack_at_once, lazy=[redraw]
    )
    app.view(CallbackId.GIFT_MODAL)(ack=check, lazy=[order])
    app.action(ActionId.GIFT_REVEAL)(ack=ack_at_once, lazy=[reveal])
    app.action(ActionId.GIFT_SETTLE_PLACED)(ack=ack_at_once, lazy=[settle])
    app.action(ActionId.GIFT_SETTLE_FAILED)(ack=ack_at_once, lazy=[settle])
    app.action(ActionId.GIFT_APPROVE)(ack=ack_at_once, lazy=[decide])
    app.action(ActionId.GIFT_REJECT)(ack=ack_at_once, lazy=[decide])


@after_ack
def open_form(body: dict[str, Any], runtime: Runtime) -> None:
    """App Home's (or the reward form's) "Send a gift card" and "Donate"."""
    donation = _clicked(body) == ActionId.OPEN_DONATE_MODAL
    user_id = user_of(body)
    form = runtime.gifts.form(
        user_id, donation=donation, recipient=None, wait=False, within=CATALOGUE_WAIT_SECONDS
    )
    if isinstance(form, Refusal):
        runtime.notifier.answer(user_id, text_only(form.text))
        return
    in_a_form = (body.get("view") or {}).get("type") == "modal"  # the reward form's button
    _open(runtime, form, user_id=user_id, trigger_id=body["trigger_id"], push=in_a_form)


def suggest(ack: Ack, body: dict[str, Any], runtime: Runtime) -> None:
    """The catalogue search, answered from memory in the ack (`block_suggestion`)."""
    view = body.get("view") or {}
    meta = gift_blocks.metadata(view)
    found = runtime.gifts.options(
        str(body.get("value") or ""),
        filters=gift_blocks.filters_of(meta),
        donation=bool(meta.get("donation")),
        within=CATALOGUE_WAIT_SECONDS,
    )
    ack(**gift_blocks.suggestions(found))


@after_ack
def decide(body: dict[str, Any], respond: Respond, runtime: Runtime) -> None:
    approve = _clicked(body) == ActionId.GIFT_APPROVE
    approver = user_of(body)
    po_number = action_value(body)
    doing = "Approving" if approve else "Rejecting"
    outcome = soon(  # the approver's copy asks Xoxoday for the account's currency
        lambda: runtime.gifts.decide(po_number=po_number, user_id=approver, approve=approve),
        meanwhile=lambda: respond(
            replace_original=True, **slow_note(f"{doing} order `{po_number}`")
        ),
    )
    if isinstance(outcome, Refusal):
        respond(replace_original=False, response_type="ephemeral", **text_only(outcome.text))
        return
    # the approver's copy keeps who, for whom and how much, with the decision for buttons
    decided = gift_blocks.approval_decided(outcome, approver=approver, approved=approve)
    respond(replace_original=True, **decided)


@after_ack
def settle(body: dict[str, Any], respond: Respond, runtime: Runtime) -> None:
    placed = _clicked(body) == ActionId.GIFT_SETTLE_PLACED
    po_number = action_value(body)
    outcome = soon(  # Xoxoday's record of the order is looked up first
        lambda: runtime.gifts.settle(po_number=po_number, user_id=user_of(body), placed=placed),
        meanwhile=lambda: respond(
            replace_original=True, **slow_note(f"Settling order `{po_number}`")
        ),
    )
    what = "ordered" if placed else "not ordered"
    _answer(
        respond,
        outcome,
        lambda card: f"Settled: order `{card.po_number}` was {what}. I told the sender.",
    )


def _clicked(body: dict[str, Any]) -> str:
    return str((body.get("actions") or [{}])[0].get("action_id") or "")


def _answer(respond: Respond, outcome: GiftCard | Refusal, done: Callable[[GiftCard], str]) -> None:
    """A decision's answer: the message with the buttons becomes what was done; a refusal is
    said to the person who clicked, and the buttons stay."""
    if isinstance(outcome, Refusal):
        respond(replace_original=False, response_type="ephemeral", **text_only(outcome.text))
        return
    respond(replace_original=True, **reward_note(done(outcome)))


def _values(view: dict[str, Any]) -> dict[str, Any]:
    values = (view.get("state") or {}).get("values") or {}
    return values if isinstance(values, dict) else {}


def _field(view: dict[str, Any], block: BlockId, action: ActionId) -> dict[str, Any]:
    found = (_values(view).get(str(block)) or {}).get(str(action))
    return found if isinstance(found, dict) else {}


def _picked_product(view: dict[str, Any]) -> int | None:
    chosen = _field(view, BlockId.GIFT_PRODUCT, ActionId.GIFT_PRODUCT_SELECT)
    value = (chosen.get("selected_option") or {}).get("value")
    picked = id_value(value)
    if picked is not None:
        return picked
    meta = gift_blocks.metadata(view).get("product")
    return meta if isinstance(meta, int) and not isinstance(meta, bool) else None


@after_ack
def redraw(body: dict[str, Any], runtime: Runtime) -> None:
    """A filter or a product was picked: draw the form again with it."""
    view = body.get("view") or {}
    if view.get("callback_id") != CallbackId.GIFT_MODAL:
        return
    user_id = user_of(body)
    meta = gift_blocks.metadata(view)
    chosen = dict(meta.get("filters") or {})
    action = (body.get("actions") or [{}])[0]
    action_id = str(action.get("action_id") or "")
    product_id = _picked_product(view)
    if action_id.startswith(f"{ActionId.GIFT_FILTER}:"):
        group = action_id.split(":", 1)[1]
        chosen[group] = str((action.get("selected_option") or {}).get("value") or "")
    elif action_id == ActionId.GIFT_PRODUCT_SELECT:
        value = (action.get("selected_option") or {}).get("value")
        picked = id_value(value)
        product_id = product_id if picked is None else picked
    recipient = _field(view, BlockId.GIFT_RECIPIENT, ActionId.GIFT_RECIPIENT_SELECT).get(
        "selected_user"
    )
    form = runtime.gifts.form(user_id, donation=bool(meta.get("donation")), recipient=None)
    if isinstance(form, Refusal):
        return
    product = runtime.gifts.product(product_id) if product_id is not None else None
    channel = meta.get("channel")
    new = gift_blocks.gift_modal(
        form=form,
        recipient=recipient or None,
        product=product,
        chosen=chosen,
        channel_id=channel if isinstance(channel, str) else None,
    )
    try:
        runtime.slack.views_update(view_id=view.get("id"), hash=view.get("hash"), view=new)
    except SlackApiError as err:
        log.info("could not redraw the gift form: %s", err.response.get("error"))


ORDER = "gift_order"  # context: the order the checked form asks for


def check(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, runtime: Runtime
) -> None:
    """Check the form in its ack (errors beside the fields); the order is placed after the ack
    (`order`), and the sender hears by DM how it went (a form has nowhere else to answer)."""
    started = time.monotonic()
    user_id = user_of(body)
    meta = gift_blocks.metadata(view)
    if not meta:
        ack(response_action="update", view=notice_modal("Send a gift card", FORM_GONE))
        return
    amount = _field(view, BlockId.GIFT_AMOUNT, ActionId.GIFT_AMOUNT_INPUT)
    amount_text = str(
        amount.get("value") or (amount.get("selected_option") or {}).get("value") or ""
    )
    pay = _field(view, BlockId.GIFT_PAY, ActionId.GIFT_PAY_SELECT).get("selected_option") or {}
    recipient = _field(view, BlockId.GIFT_RECIPIENT, ActionId.GIFT_RECIPIENT_SELECT).get(
        "selected_user"
    )
    request = GiftRequest(
        user_id=user_id,
        request_key=f"gift:{request_key(body) or view.get('id')}",
        donation=bool(meta.get("donation")),
        recipient_id=str(recipient) if recipient else None,
        product_id=_picked_product(view),
        amount=amount_text,
        note=str(_field(view, BlockId.GIFT_NOTE, ActionId.GIFT_NOTE_INPUT).get("value") or ""),
        pay_with_points=pay.get("value") == gift_blocks.PAY_POINTS,
        channel_id=meta.get("channel") if isinstance(meta.get("channel"), str) else None,
    )
    entry = entry_of(context)
    resumed = entry is not None and entry.resumed  # after a crash: no Slack waits, nobody sees
    ready = runtime.gifts.catalogue.loaded(CATALOGUE_WAIT_SECONDS) or resumed
    if not ready:  # a restart since the form opened, and Xoxoday slow to give the catalogue
        ack(
            response_action="errors",
            errors={str(BlockId.GIFT_PRODUCT): gift_blocks.CATALOGUE_NOT_READY},
        )
        return
    problems = runtime.gifts.problems(request)
    if not problems:  # the person picked, as Slack knows them (its picker offers anyone)
        wrong = _recipient_problem(runtime, request, started)
        if wrong is not None:
            problems["recipient"] = wrong
    if problems:
        ack(
            response_action="errors",
            errors={str(FIELD_BLOCKS[k]): v for k, v in problems.items() if k in FIELD_BLOCKS},
        )
        return
    context[ORDER] = request
    ack()  # closes the form; the answer follows by DM


def _recipient_problem(runtime: Runtime, request: GiftRequest, started: float) -> str | None:
    """`GiftService.recipient_problem`, if Slack answers within the form's budget (else the
    order checks again after the ack and says it by DM)."""
    if request.recipient_id is None:
        return None
    pending = in_background(lambda: runtime.gifts.recipient_problem(request), name="gift-form")
    budget = SUBMIT_BUDGET_SECONDS - (time.monotonic() - started)
    try:
        return pending.result(timeout=max(budget, 0.05))
    except FutureTimeout:
        log.info("the gift form's recipient lookup took over %.1fs", budget)
        return None
    except Exception:  # the order checks again after the ack, and says it by DM
        log.exception("the gift form's recipient lookup failed")
        return None


@after_ack
def order(context: BoltContext, runtime: Runtime) -> None:
    request = context.get(ORDER)
    if not isinstance(request, GiftRequest):
        return  # the form was refused in its ack
    outcome = soon(  # the company account is checked with Xoxoday before the order
        lambda: runtime.gifts.submit(request),
        meanwhile=lambda: runtime.notifier.answer(request.user_id, text_only(ORDER_SLOW)),
    )
    if isinstance(outcome, Refusal):
        runtime.notifier.answer(request.user_id, text_only(f"Nothing was ordered: {outcome.text}"))


@after_ack
def reveal(body: dict[str, Any], runtime: Runtime) -> None:
    """The code, in a window only the recipient sees. When Xoxoday is slow to give it, the
    window opens at once saying so (the click's trigger lasts 3 s) and shows the code when
    it comes."""
    user_id = user_of(body)
    if not body.get("trigger_id"):
        return

    def window() -> dict[str, Any]:
        outcome = runtime.gifts.reveal(po_number=action_value(body), user_id=user_id)
        if isinstance(outcome, Refusal):
            return notice_modal("Your gift card", outcome.text)
        return gift_blocks.code_modal(outcome, emailed=runtime.settings.REWARD_GIFT_NOTIFY_EMAIL)

    open_soon(
        runtime.slack,
        trigger_id=body["trigger_id"],
        build=window,
        waiting=notice_modal("Your gift card", REVEAL_SLOW),
        what="the gift card window",
    )


ORDER_SLOW = (
    "⏳ Checking the company account with Xoxoday before ordering: it is slow to answer right "
    "now. I'll tell you here how it went."
)
REVEAL_SLOW = (
    "⏳ Fetching your gift card from Xoxoday, which is slow to answer right now. It shows "
    "here as soon as it comes."
)

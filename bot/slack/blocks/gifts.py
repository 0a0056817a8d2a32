"""The gift and donation form (a catalogue searched as you type), and the messages about an
order: on its way, waiting for approval, placed (the recipient's Reveal), failed, in doubt, and
the Reveal window with the code. Codes appear only in `code_modal`, which only the recipient
opens."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from bot.plum import Voucher
from bot.rewards.catalogue import Filters, amounts_of
from bot.rewards.gifts import GiftCard, GiftCost, GiftForm, Revealed, denominations_text
from bot.rewards.wording import mention, money, plain_reason, safe_mrkdwn
from bot.slack.blocks.common import MODAL_TITLE_MAX, message
from bot.slack.blocks.kit import (
    Block,
    actions,
    button,
    confirm_dialog,
    context,
    header,
    input_block,
    option,
    plain,
    section,
)
from bot.slack.ids import ActionId, BlockId, CallbackId

Payload = dict[str, Any]
FILTER_LABELS = {"country": "Country", "product_category": "Category", "currency": "Currency"}
ANY = "*"
PAY_POINTS, PAY_COMPANY = "points", "company"
NOTE_MAX = 500


def filter_action(group: str) -> str:
    return f"{ActionId.GIFT_FILTER}:{group}"


# ── the form ─────────────────────────────────────────────────────────────────────────────


def metadata(view: Mapping[str, Any]) -> dict[str, Any]:
    try:
        found = json.loads(str(view.get("private_metadata") or "{}"))
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def filters_of(meta: Mapping[str, Any]) -> Filters:
    chosen = meta.get("filters") if isinstance(meta.get("filters"), dict) else {}
    assert isinstance(chosen, dict)

    def pick(name: str) -> str | None:
        value = chosen.get(name)
        return value if isinstance(value, str) and value and value != ANY else None

    return Filters(
        country=pick("country"), category=pick("product_category"), currency=pick("currency")
    )


def gift_modal(
    *,
    form: GiftForm,
    recipient: str | None,
    product: Voucher | None,
    chosen: Mapping[str, str] | None = None,
    channel_id: str | None = None,
) -> Payload:
    chosen = dict(chosen or {})
    meta = {
        "channel": channel_id,
        "donation": form.donation,
        "filters": chosen,
        "product": product.product_id if product else None,
        "points": form.points is not None,
        "company": form.company,
    }
    who: dict[str, Any] = {
        "type": "users_select",
        "action_id": str(ActionId.GIFT_RECIPIENT_SELECT),
        "placeholder": plain("Pick a person", 150),
    }
    if recipient:
        who["initial_user"] = recipient
    blocks: list[Block] = [context(LOADING)] if form.loading else []
    blocks += [
        input_block(
            block_id=BlockId.GIFT_RECIPIENT,
            label="In whose name?" if form.donation else "Who is it for?",
            element=who,
            optional=form.donation,
            hint="Leave it empty to give in the team's name." if form.donation else None,
        )
    ]
    selects = []
    for group, choices in form.filters.items():
        if not choices:
            continue
        options = [option(f"Any {FILTER_LABELS[group].lower()}", ANY)] + [
            option(label, value) for label, value in choices[:99]
        ]
        select: dict[str, Any] = {
            "type": "static_select",
            "action_id": filter_action(group),
            "placeholder": plain(FILTER_LABELS[group], 150),
            "options": options,
        }
        picked = chosen.get(group)
        initial = next((o for o in options if o["value"] == picked), None)
        if initial is not None:
            select["initial_option"] = initial
        selects.append(select)
    if selects:
        blocks.append(actions(str(BlockId.GIFT_FILTERS), *selects))
    search: dict[str, Any] = {
        "type": "external_select",
        "action_id": str(ActionId.GIFT_PRODUCT_SELECT),
        "placeholder": plain("Type to search" if not product else product.name[:150], 150),
        "min_query_length": 0,
    }
    if product is not None:
        search["initial_option"] = product_option(product)
    product_input = input_block(
        block_id=BlockId.GIFT_PRODUCT,
        label="Charity" if form.donation else "Gift card",
        element=search,
        hint=LOADING_HINT if form.loading else None,
    )
    product_input["dispatch_action"] = True
    blocks.append(product_input)
    if product is not None:
        blocks.append(section(product_details(product)))
        blocks.append(_amount_input(product))
    blocks.append(
        input_block(
            block_id=BlockId.GIFT_NOTE,
            label="Your message",
            element={
                "type": "plain_text_input",
                "action_id": str(ActionId.GIFT_NOTE_INPUT),
                "multiline": True,
                "max_length": NOTE_MAX,
            },
            optional=True,
        )
    )
    if form.points is not None:
        pay = [option(f"My points ({form.points:,} to spend)", PAY_POINTS)]
        if form.company:
            pay.append(option("The company account", PAY_COMPANY))
        blocks.append(
            input_block(
                block_id=BlockId.GIFT_PAY,
                label="Pay with",
                element={
                    "type": "radio_buttons",
                    "action_id": str(ActionId.GIFT_PAY_SELECT),
                    "options": pay,
                    "initial_option": pay[0],
                },
            )
        )
    title = "Donate" if form.donation else "Send a gift card"
    return {
        "type": "modal",
        "callback_id": str(CallbackId.GIFT_MODAL),
        "title": plain(title, MODAL_TITLE_MAX),
        "submit": plain("Donate" if form.donation else "Send", MODAL_TITLE_MAX),
        "close": plain("Cancel", MODAL_TITLE_MAX),
        "private_metadata": json.dumps(meta),
        "blocks": blocks,
    }


def _amount_input(product: Voucher) -> Block:
    fixed = amounts_of(product)
    currency = product.currency_code or ""
    if fixed:
        element: dict[str, Any] = {
            "type": "static_select",
            "action_id": str(ActionId.GIFT_AMOUNT_INPUT),
            "placeholder": plain("Pick an amount", 150),
            "options": [option(f"{d:,} {currency}", str(d)) for d in fixed[:100]],
        }
    else:
        element = {
            "type": "plain_text_input",
            "action_id": str(ActionId.GIFT_AMOUNT_INPUT),
            "placeholder": plain(range_hint(product), 150),
        }
    return input_block(block_id=BlockId.GIFT_AMOUNT, label=f"Amount ({currency})", element=element)


def range_hint(product: Voucher) -> str:
    """What an open-value product may be ordered for: `Between 1 and 2,000 USD`."""
    low, high = product.min_value, product.max_value
    currency = f" {product.currency_code}" if product.currency_code else ""
    if low is not None and high is not None:
        return f"Between {low:,} and {high:,}{currency}"
    if low is not None:
        return f"At least {low:,}{currency}"
    if high is not None:
        return f"Up to {high:,}{currency}"
    return f"Any amount{' in' + currency if currency else ''}"


def product_option(product: Voucher) -> dict[str, Any]:
    where = product.country_name or product.country_code or ""
    label = f"{product.name} · {product.currency_code or ''} {where}".strip()
    return option(label[:75], str(product.product_id))


def product_details(product: Voucher) -> str:
    parts = [f"*{safe_mrkdwn(product.name)}*", f"Amounts: {denominations_text(product)}"]
    if product.fee:
        parts.append(f"Fee: {money(product.fee, product.currency_code)}")
    if product.delivery_type:
        parts.append(f"Delivery: {product.delivery_type}")
    if product.country_name:
        parts.append(f"Where: {product.country_name}")
    return "\n".join(parts)


LOADING = (
    "⏳ Xoxoday is slow to answer right now: I'm loading its catalogue. The search and the "
    "filters work as soon as it's here (this form updates itself)."
)
LOADING_HINT = "The catalogue is still loading from Xoxoday: type again in a few seconds."
CATALOGUE_NOT_READY = (
    "Xoxoday's catalogue is still loading (it is slow to answer right now): send the form "
    "again in a few seconds."
)
LOADING_OPTION = "loading"  # the value of the one option saying the catalogue is loading


def suggestions(products: Sequence[Voucher] | None) -> dict[str, Any]:
    """The answer to a `block_suggestion`: up to 100 options; while the catalogue loads
    (None), one option saying so (Slack's options must answer within 3 s: nobody waits)."""
    if products is None:
        return {
            "options": [option("⏳ Still loading Xoxoday's catalogue: type again", LOADING_OPTION)]
        }
    return {"options": [product_option(p) for p in products[:100]]}


# ── the messages ─────────────────────────────────────────────────────────────────────────


def _what(card: GiftCard) -> str:
    if card.donation:
        whose = (
            f"in {mention(card.recipient_id)}'s name" if card.recipient_id else "in the team's name"
        )
        return f"a donation of *{card.price}* to *{safe_mrkdwn(card.product)}* {whose}"
    return f"a *{card.price}* {safe_mrkdwn(card.product)} for {mention(card.recipient_id or '')}"


def _first_up(text: str) -> str:
    return text[:1].upper() + text[1:]


def _id(card: GiftCard, *, payer: bool = False) -> Block:
    """The order's id; to the person who paid (`payer`) also the points they paid with."""
    paid = f" · paid with {card.points:,} of your points" if payer and card.points else ""
    return context(f"Order `{card.po_number}`{paid}")


def sender_queued(card: GiftCard) -> Payload:
    text = f"🎁 Ordering {_what(card)} now. I'll DM you when Xoxoday confirms it (a minute or two)."
    return message(text.replace("*", ""), [section(text), _id(card, payer=True)])


def _why_approval(cost: GiftCost) -> str:
    """`it costs 1,660.00 INR, and orders of 1,500.00 INR or more need one`: the order's value
    and the threshold, in the account's currency."""
    return (
        f"it costs {money(cost.value, cost.currency)}, and orders of "
        f"{money(cost.threshold, cost.currency)} or more need one"
    )


def sender_pending(card: GiftCard) -> Payload:
    why = (
        _why_approval(card.cost)
        if card.cost is not None
        else "it is worth the approval threshold or more"
    )
    text = (
        f"⏳ {_first_up(_what(card))} needs an approver's OK first: {why}. "
        "I'll DM you when it's decided."
    )
    return message(text.replace("*", ""), [section(text), _id(card, payer=True)])


def _for_whom(card: GiftCard) -> str:
    if card.recipient_id:
        return (
            f"In {mention(card.recipient_id)}'s name"
            if card.donation
            else mention(card.recipient_id)
        )
    return "In the team's name"


def _month(cost: GiftCost) -> str:
    """`340.00 INR before this one; 2,000.00 INR of 2,000.00 INR with it`."""
    with_it = cost.spent_before + cost.value
    return (
        f"{money(cost.spent_before, cost.currency)} before this one; "
        f"{money(with_it, cost.currency)} of {money(cost.cap, cost.currency)} with it"
    )


def _order_blocks(card: GiftCard, *, decided: bool = False) -> list[Block]:
    """Who sends what to whom, and what it costs the company account: the approver's card,
    before and after the decision."""
    kind = "donation" if card.donation else "gift card"
    asks = "asked to send" if decided else "wants to send"
    lead = f"{mention(card.giver_id)} {asks} {_what(card)}."
    fields = [f"*From*\n{mention(card.giver_id)}", f"*To*\n{_for_whom(card)}"]
    if card.cost is not None:
        if not decided:
            lead += f" It needs approval: {_why_approval(card.cost)}."
        fields.append(f"*Costs the company*\n{money(card.cost.value, card.cost.currency)}")
        fields.append(f"*Sender's spend this month*\n{_month(card.cost)}")
    else:
        fields.append(f"*Value*\n{card.price}")
    blocks: list[Block] = [header(f"{_first_up(kind)} to approve"), section(lead)]
    blocks.append(section(fields=fields))
    if card.note:
        blocks.append(section(f">{safe_mrkdwn(card.note)}"))
    return blocks


def _approve_confirm(card: GiftCard) -> dict[str, Any]:
    what = "donation" if card.donation else "gift card"
    spent = (
        f"{money(card.cost.value, card.cost.currency)} from the company account"
        if card.cost is not None
        else f"{card.price} from the company account"
    )
    return confirm_dialog(
        title=f"Approve this {what}?",
        text=f"{spent} will be spent on {_what(card)}. It's ordered right away.",
        confirm="Approve",
    )


def approval_request(card: GiftCard) -> Payload:
    blocks = _order_blocks(card)
    blocks.append(
        actions(
            str(BlockId.GIFT_ACTIONS),
            button(
                "Approve",
                action_id=ActionId.GIFT_APPROVE,
                value=card.po_number,
                style="primary",
                confirm=_approve_confirm(card),
            ),
            button("Reject", action_id=ActionId.GIFT_REJECT, value=card.po_number, style="danger"),
        )
    )
    blocks.append(_id(card))
    return message(f"Approve a gift order from {mention(card.giver_id)}?", blocks)


def approval_decided(card: GiftCard, *, approver: str, approved: bool) -> Payload:
    """The approver's copy once decided: who, for whom and how much stay; the buttons give way
    to the decision."""
    blocks = _order_blocks(card, decided=True)
    kind = "Donation" if card.donation else "Gift card"
    blocks[0] = header(f"{kind} {'approved' if approved else 'rejected'}")
    said = (
        f"✅ *Approved* by {mention(approver)}. It's being ordered now."
        if approved
        else f"🚫 *Rejected* by {mention(approver)}. Nothing was ordered."
    )
    blocks += [section(said), _id(card)]
    verb = "approved" if approved else "rejected"
    return message(f"You {verb} order {card.po_number} ({card.product}).", blocks)


def decided(card: GiftCard, *, approver: str, approved: bool) -> Payload:
    verb = "approved" if approved else "rejected"
    tail = " It's being ordered now." if approved else " Nothing was ordered."
    text = f"{mention(approver)} {verb} {_what(card)}.{tail}"
    return message(text.replace("*", ""), [section(text), _id(card, payer=True)])


def recipient_gift(card: GiftCard) -> Payload:
    lead = f"🎁 {mention(card.giver_id)} sent you a *{card.price}* {safe_mrkdwn(card.product)}!"
    blocks: list[Block] = [section(lead)]
    if card.note:
        blocks.append(section(f">{safe_mrkdwn(card.note)}"))
    blocks.append(
        section("Press *Reveal* to see the code. Only you can see it; keep it to yourself.")
    )
    blocks.append(
        actions(
            str(BlockId.GIFT_ACTIONS),
            button("Reveal", action_id=ActionId.GIFT_REVEAL, value=card.po_number, style="primary"),
        )
    )
    blocks.append(_id(card))
    return message(f"{mention(card.giver_id)} sent you a gift card: {card.product}", blocks)


def donated_in_your_name(card: GiftCard) -> Payload:
    text = (
        f"💚 {mention(card.giver_id)} donated *{card.price}* to *{safe_mrkdwn(card.product)}* "
        "in your name."
    )
    blocks: list[Block] = [section(text)]
    if card.note:
        blocks.append(section(f">{safe_mrkdwn(card.note)}"))
    blocks.append(_id(card))
    return message(text.replace("*", ""), blocks)


def sender_placed(card: GiftCard) -> Payload:
    if card.donation:
        text = f"✅ Done: {_what(card)}. Xoxoday emails the receipt."
    else:
        text = f"✅ Sent: {_what(card)}. They have a DM from me with the code behind *Reveal*."
    return message(text.replace("*", ""), [section(text), _id(card, payer=True)])


def sender_failed(card: GiftCard) -> Payload:
    why = safe_mrkdwn(plain_reason(card.message) or "Xoxoday refused it")
    back = " Your points are back." if card.points else ""
    text = f"❌ {_first_up(_what(card))} wasn't ordered: {why}.{back}"
    return message(text.replace("*", ""), [section(text), _id(card, payer=True)])


def admin_unknown(card: GiftCard) -> Payload:
    why = safe_mrkdwn(plain_reason(card.message) or "Xoxoday's answer was lost")
    text = (
        f"⚠️ I can't tell whether {_what(card)} (from {mention(card.giver_id)}) was ordered: "
        f"{why}. I keep looking it up by its poNumber `{card.po_number}`; it will never be "
        "ordered twice. If you know from Xoxoday's dashboard, settle it here."
    )
    buttons = actions(
        str(BlockId.GIFT_ACTIONS),
        button("It was ordered", action_id=ActionId.GIFT_SETTLE_PLACED, value=card.po_number),
        button("It wasn't", action_id=ActionId.GIFT_SETTLE_FAILED, value=card.po_number),
    )
    return message(text.replace("*", ""), [section(text), buttons])


def announcement(card: GiftCard) -> Payload:
    """What the channel sees: that a gift card was sent, or a donation made, never a code."""
    if card.donation:
        whose = f" in {mention(card.recipient_id)}'s name" if card.recipient_id else ""
        text = (
            f"💚 {mention(card.giver_id)} donated {card.price} to "
            f"*{safe_mrkdwn(card.product)}*{whose}."
        )
    else:
        text = (
            f"🎁 {mention(card.giver_id)} sent {mention(card.recipient_id or '')} a gift card "
            f"({safe_mrkdwn(card.product)})."
        )
    blocks: list[Block] = [section(text)]
    if card.note:
        blocks.append(section(f">{safe_mrkdwn(card.note)}"))
    return message(text.replace("*", ""), blocks)


def code_modal(revealed: Revealed, *, emailed: bool = False) -> Payload:
    card = revealed.card
    blocks: list[Block] = [section(f"*{safe_mrkdwn(card.product)}* · {card.price}")]
    for n, code in enumerate(revealed.codes, 1):
        lines = []
        if code.code:
            lines.append(f"*Code:* `{code.code}`")
        if code.pin:
            lines.append(f"*PIN:* `{code.pin}`")
        if code.validity:
            lines.append(f"Valid until: {code.validity}")
        label = f"Card {n}\n" if len(revealed.codes) > 1 else ""
        blocks.append(section(label + "\n".join(lines)))
    also = " Xoxoday emailed it to you too." if emailed else ""
    blocks.append(context(f"Only you can see this. Anyone with the code can spend it.{also}"))
    return {
        "type": "modal",
        "callback_id": str(CallbackId.GIFT_CODE),
        "title": plain("Your gift card", MODAL_TITLE_MAX),
        "close": plain("Close", MODAL_TITLE_MAX),
        "blocks": blocks,
    }

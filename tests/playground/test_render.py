"""Block Kit and mrkdwn as the page shows them: formatting kept, everything else escaped."""

from __future__ import annotations

import json
import re
from html import unescape

from bot.simulators.playground.render import Directory, InputState, blocks_html, mrkdwn
from bot.simulators.sandbox_notice import with_sandbox_notice
from bot.slack.blocks.give_modal import RewardModalMetadata, reward_modal

NAMES = Directory(
    users={
        "UMARIA01": {"id": "UMARIA01", "name": "maria", "real_name": "Maria Garcia"},
        "UBOB0001": {"id": "UBOB0001", "name": "bob", "real_name": "Bob Brown"},
        "UGONE001": {"id": "UGONE001", "name": "gone", "real_name": "Gone", "deleted": True},
        "UBOT0001": {"id": "UBOT0001", "name": "helper", "real_name": "Helper", "is_bot": True},
    },
    channels={"C0GENERAL": "general"},
)


def chips(markup: str) -> list[str]:
    """The people a people picker shows as picked."""
    return re.findall(r'<span class="chip" data-value="([^"]+)"', markup)


def offered(markup: str) -> list[str]:
    """The people a people picker's search can find."""
    return re.findall(r'<li role="option" class="picker-option" data-value="([^"]+)"', markup)


def text_of(markup: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", markup.replace("<br>", "\n")))


def test_mrkdwn_formatting_mentions_and_links() -> None:
    html = mrkdwn(
        "*Sent!* _100 points_ to <@UMARIA01> in <#C0GENERAL> ~not~ `RZZ1` :tada:\n"
        ">quoted &amp; kept\n<https://example.com/x?a=1&amp;b=2|the link>",
        NAMES,
    )
    assert "<b>Sent!</b>" in html and "<i>100 points</i>" in html and "<s>not</s>" in html
    assert '<span class="mention">@Maria Garcia</span>' in html
    assert '<span class="mention">#general</span>' in html
    assert "<code>RZZ1</code>" in html and "🎉" in html
    assert '<span class="md-quote">quoted &amp; kept</span>' in html
    assert '<a href="https://example.com/x?a=1&amp;b=2"' in html and ">the link</a>" in html
    assert text_of(html).splitlines()[1] == "quoted & kept"


def test_mrkdwn_never_lets_markup_or_scripts_through() -> None:
    typed = "&lt;script&gt;alert(1)&lt;/script&gt; <javascript:alert(1)|click> <img src=x>"
    html = mrkdwn(typed, NAMES)
    assert "<script" not in html and "<img" not in html and "href" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "click" in html


def test_unknown_mentions_fall_back_to_their_label_or_id() -> None:
    html = mrkdwn("<@UNKNOWN1|someone> and <@UNKNOWN2> and <!here>", NAMES)
    assert text_of(html) == "@someone and @UNKNOWN2 and @here"


def test_message_blocks() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Reward to approve"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*600 points*"},
            "fields": [{"type": "mrkdwn", "text": "*From*\n<@UBOB0001>"}],
            "accessory": {
                "type": "image",
                "image_url": "https://img.example/x.png",
                "alt_text": "chart",
            },
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Reward `AB12`"}]},
        {"type": "divider"},
        {"type": "image", "image_url": "https://img.example/y.png", "alt_text": "weekly"},
        {
            "type": "actions",
            "block_id": "approval_actions:AB12",
            "elements": [
                {
                    "type": "button",
                    "action_id": "reward_approve",
                    "text": {"type": "plain_text", "text": "Approve"},
                    "value": "AB12",
                    "style": "primary",
                    "confirm": {
                        "title": {"type": "plain_text", "text": "Approve this reward?"},
                        "text": {"type": "mrkdwn", "text": "Sent *right away*."},
                        "confirm": {"type": "plain_text", "text": "Approve"},
                        "deny": {"type": "plain_text", "text": "Cancel"},
                    },
                }
            ],
        },
        {"type": "video", "title": {"type": "plain_text", "text": "x"}},
    ]
    html = blocks_html(blocks, NAMES)
    assert '<div class="b-header">Reward to approve</div>' in html
    assert '<div class="b-field"><b>From</b><br><span class="mention">@Bob Brown</span>' in html
    assert '<img class="el-image" src="https://img.example/x.png" alt="chart">' in html
    assert '<div class="b-context"><span>Reward <code>AB12</code></span></div>' in html
    assert '<hr class="b-divider">' in html
    assert 'src="https://img.example/y.png" alt="weekly"' in html
    button = re.search(r"<button[^>]*>Approve</button>", html)
    assert button is not None
    assert 'class="btn btn-primary"' in button.group(0)
    assert 'data-action-id="reward_approve"' in button.group(0)
    assert 'data-block-id="approval_actions:AB12"' in button.group(0)
    confirm = json.loads(unescape(re.search(r'data-confirm="([^"]*)"', html).group(1)))  # type: ignore[union-attr]
    assert confirm["title"] == "Approve this reward?"
    assert confirm["text"] == "Sent <b>right away</b>."
    assert "Unsupported block: video" in html


def test_the_reward_modal_as_a_form_with_errors_and_a_draft() -> None:
    view = with_sandbox_notice(
        reward_modal(
            metadata=RewardModalMetadata(source="command"),
            values=["teamwork", "ownership"],
            initial_users=["UMARIA01"],
            max_per_reward=5000,
            announce_in="C0GENERAL",
        )
    )  # as views.open sends it in sandbox mode
    fresh = blocks_html(view["blocks"], NAMES, InputState(me="UBOB0001"))
    assert chips(fresh) == ["UMARIA01"]
    assert 'role="combobox"' in fresh and 'placeholder="Pick one or more people"' in fresh
    assert offered(fresh) == ["UMARIA01"]  # not the one picking, not bots, not the deactivated
    assert "<textarea" in fresh and 'inputmode="decimal"' in fresh
    assert '<option value="teamwork">#teamwork</option>' in fresh
    assert re.search(r'value="announce"[^>]*checked', fresh)  # announce is on at first
    assert "Announce it in #general" in text_of(fresh)  # the checkbox's mrkdwn, as Slack shows
    assert "&lt;#C0GENERAL&gt;" not in fresh
    assert "(optional)" in fresh and "Sandbox: no real reward was sent." in fresh

    draft = {
        "recipients": {"recipients_select": ["UBOB0001"]},
        "amount": {"amount_input": "1500"},
        "citation": {"citation_input": "<b>line one</b>\nline two"},
        "values": {"values_select": "ownership"},
        "announce": {"announce_checkbox": []},
    }
    errors = {"amount": "That's over your allowance."}
    shown = blocks_html(view["blocks"], NAMES, InputState(draft=draft, errors=errors))
    assert chips(shown) == ["UBOB0001"]
    assert 'value="1500"' in shown
    assert "&lt;b&gt;line one&lt;/b&gt;\nline two</textarea>" in shown
    assert '<option value="ownership" selected>' in shown
    assert not re.search(r'value="announce"[^>]*checked', shown)
    amount = re.search(r'<div class="b-input has-error" data-input-block="amount">.*?</div>', shown)
    assert amount is not None
    assert '<div class="field-error" role="alert">That&#x27;s over your allowance.</div>' in shown


def test_an_external_select_is_a_search_box_the_page_fills_from_the_bot() -> None:
    search = {
        "type": "input",
        "block_id": "gift_product",
        "dispatch_action": True,
        "label": {"type": "plain_text", "text": "Gift card"},
        "element": {
            "type": "external_select",
            "action_id": "gift_product_select",
            "placeholder": {"type": "plain_text", "text": "Type to search"},
            "min_query_length": 0,
        },
    }
    fresh = blocks_html([search], NAMES)
    assert 'class="ext-select"' in fresh and "data-dispatch" in fresh
    assert 'data-min-query="0"' in fresh and 'data-value=""' in fresh
    assert 'role="combobox"' in fresh and 'placeholder="Type to search"' in fresh
    assert re.search(
        r'<ul id="in-gift_product-options" class="picker-list ext-list" '
        r'role="listbox"[^>]*hidden></ul>',
        fresh,
    )

    shown = {"text": {"type": "plain_text", "text": "<b>Card</b> & co"}, "value": "7"}
    draft = InputState(
        draft={"gift_product": {"gift_product_select": "7"}},
        offered={"gift_product_select": [shown]},
    )
    picked = blocks_html([search], NAMES, draft)
    assert 'data-value="7"' in picked
    assert 'value="&lt;b&gt;Card&lt;/b&gt; &amp; co"' in picked and "<b>Card" not in picked

    default = {**search, "element": {**search["element"], "min_query_length": None}}
    assert 'data-min-query="3"' in blocks_html([default], NAMES)  # Slack's default


def test_selects_in_an_actions_block_show_their_initial_option() -> None:
    any_country = {"text": {"type": "plain_text", "text": "Any country"}, "value": "*"}
    uk = {"text": {"type": "plain_text", "text": "United Kingdom"}, "value": "GB"}
    block = {
        "type": "actions",
        "block_id": "gift_filters",
        "elements": [
            {
                "type": "static_select",
                "action_id": "gift_filter:country",
                "options": [any_country, uk],
                "initial_option": uk,
            }
        ],
    }
    html = blocks_html([block], NAMES)
    assert '<option value="GB" selected>United Kingdom</option>' in html
    assert '<option value="*">Any country</option>' in html


def test_every_emoji_carries_its_name_for_machines_without_colour_emoji() -> None:
    shown = mrkdwn("🎉 :tada: *done* ✅ ↩️ 🔎 → next", NAMES)
    assert shown.count('<span class="emoji" data-name=":tada:">🎉</span>') == 2
    assert '<span class="emoji" data-name=":white_check_mark:">✅</span>' in shown
    assert 'data-name=":leftwards_arrow_with_hook:">↩️</span>' in shown  # asked as an emoji
    assert 'data-name=":right-pointing_magnifying_glass:">🔎</span>' in shown  # Unicode's name
    assert "→ next" in shown  # an arrow any font draws stays text
    assert text_of(shown) == "🎉 🎉 done ✅ ↩️ 🔎 → next"  # the text itself is unchanged

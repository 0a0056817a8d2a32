"""A modal submitted from the page: the state values Slack would send, and what Slack's own
client refuses before anything reaches the bot."""

from __future__ import annotations

from bot.simulators.playground.forms import (
    NOT_A_NUMBER,
    NOT_WHOLE,
    REQUIRED,
    client_errors,
    state_values,
)
from bot.slack.blocks.give_modal import RewardModalMetadata, reward_modal
from tests.e2e.modal_form import form

USERS = {"UMARIA01", "UCHEN001", "UBOB0001"}


def modal() -> dict:
    view = reward_modal(
        metadata=RewardModalMetadata(source="command"),
        values=["teamwork"],
        max_per_reward=5000,
        announce_in="C0GENERAL",
    )
    view["id"] = "V1"
    return view


def raw(**overrides: object) -> dict:
    fields = {
        "recipients": {"recipients_select": ["UMARIA01", "UCHEN001"]},
        "amount": {"amount_input": "100"},
        "citation": {"citation_input": "thanks for the demo"},
        "values": {"values_select": "teamwork"},
        "announce": {"announce_checkbox": ["announce"]},
    }
    fields.update(overrides)  # type: ignore[arg-type]
    return fields


def test_values_have_the_shape_the_bot_reads() -> None:
    values = state_values(modal(), raw(), users=USERS)
    expected = form(recipients=["UMARIA01", "UCHEN001"], value="teamwork")
    assert values["recipients"] == expected["recipients"]
    assert values["amount"] == expected["amount"]
    assert values["citation"] == expected["citation"]
    assert values["values"]["values_select"]["selected_option"]["value"] == "teamwork"
    assert values["announce"]["announce_checkbox"]["selected_options"] == [
        {
            "text": {"type": "mrkdwn", "text": "Announce it in <#C0GENERAL>"},
            "value": "announce",
        }
    ]
    assert client_errors(modal(), values) == {}


def test_empty_fields_are_sent_empty_as_slack_does() -> None:
    values = state_values(modal(), {}, users=USERS)
    assert values["amount"]["amount_input"] == {"type": "number_input", "value": None}
    assert values["recipients"]["recipients_select"]["selected_users"] == []
    assert values["values"]["values_select"]["selected_option"] is None
    assert values["announce"]["announce_checkbox"]["selected_options"] == []


def test_what_the_view_never_offered_is_dropped() -> None:
    values = state_values(
        modal(),
        raw(
            recipients={"recipients_select": ["UMARIA01", "UNOBODY1"]},
            values={"values_select": "made-up"},
            announce={"announce_checkbox": ["other"]},
        ),
        users=USERS,
    )
    assert values["recipients"]["recipients_select"]["selected_users"] == ["UMARIA01"]
    assert values["values"]["values_select"]["selected_option"] is None
    assert values["announce"]["announce_checkbox"]["selected_options"] == []


def test_slacks_client_checks() -> None:
    def errors(**overrides: object) -> dict[str, str]:
        return client_errors(modal(), state_values(modal(), raw(**overrides), users=USERS))

    assert errors(recipients={"recipients_select": []}) == {"recipients": REQUIRED}
    assert errors(amount={"amount_input": "  "}) == {"amount": REQUIRED}
    assert errors(citation={"citation_input": ""}) == {"citation": REQUIRED}
    assert errors(amount={"amount_input": "abc"}) == {"amount": NOT_A_NUMBER}
    assert errors(amount={"amount_input": "12.5"}) == {"amount": NOT_WHOLE}
    assert errors(amount={"amount_input": "0"}) == {"amount": "Please enter a number of 1 or more."}
    assert errors(amount={"amount_input": "5001"}) == {
        "amount": "Please enter a number of 5000 or less."
    }
    # optional fields may stay empty; over-allowance amounts are the bot's to refuse
    assert errors(values={"values_select": ""}, announce={"announce_checkbox": []}) == {}
    assert errors(amount={"amount_input": "1500"}) == {}


def option(text: str, value: str) -> dict:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def gift_form() -> dict:
    """The shape of the bot's gift form: a searched product, a radio, a person."""
    points, company = option("My points", "points"), option("The company account", "company")
    return {
        "id": "V2",
        "blocks": [
            {
                "type": "input",
                "block_id": "gift_product",
                "dispatch_action": True,
                "element": {
                    "type": "external_select",
                    "action_id": "gift_product_select",
                    "min_query_length": 0,
                },
            },
            {
                "type": "input",
                "block_id": "gift_pay",
                "element": {
                    "type": "radio_buttons",
                    "action_id": "gift_pay_select",
                    "options": [points, company],
                    "initial_option": points,
                },
            },
            {
                "type": "input",
                "block_id": "gift_recipient",
                "element": {"type": "users_select", "action_id": "gift_recipient_select"},
            },
        ],
    }


def test_an_external_select_holds_what_the_bot_offered() -> None:
    amazon = option("Amazon.com Gift Card", "10002")
    offered = {"gift_product_select": [option("Myntra", "1234"), amazon]}
    picked = {
        "gift_product": {"gift_product_select": "10002"},
        "gift_pay": {"gift_pay_select": "company"},
        "gift_recipient": {"gift_recipient_select": "UMARIA01"},
    }
    values = state_values(gift_form(), picked, users=USERS, offered=offered)
    assert values["gift_product"]["gift_product_select"] == {
        "type": "external_select",
        "selected_option": amazon,
    }
    assert values["gift_pay"]["gift_pay_select"]["selected_option"]["value"] == "company"
    assert values["gift_recipient"]["gift_recipient_select"]["selected_user"] == "UMARIA01"
    assert client_errors(gift_form(), values) == {}

    unknown = state_values(
        gift_form(),
        {**picked, "gift_product": {"gift_product_select": "99999"}},
        users=USERS,
        offered=offered,
    )
    assert unknown["gift_product"]["gift_product_select"]["selected_option"] is None
    assert client_errors(gift_form(), unknown) == {"gift_product": REQUIRED}
    nothing_offered = state_values(gift_form(), picked, users=USERS)
    assert nothing_offered["gift_product"]["gift_product_select"]["selected_option"] is None


def test_an_external_selects_initial_option_counts_as_offered() -> None:
    view = gift_form()
    chosen = option("Amazon.com Gift Card", "10002")
    view["blocks"][0]["element"]["initial_option"] = chosen
    values = state_values(view, {"gift_product": {"gift_product_select": "10002"}}, users=USERS)
    assert values["gift_product"]["gift_product_select"]["selected_option"] == chosen

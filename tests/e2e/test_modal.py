"""The reward modal end to end: `/reward` alone opens it; a submission goes through the same
rules and outbox as the command; problems come back inline on the field (`response_action:
errors`) and create nothing; a double submit gives once."""

from __future__ import annotations

import threading
import time

import pytest

from bot.slack.ids import BlockId
from bot.slack.listeners import give_modal
from storage.states import RewardSource, RewardStatus
from tests.e2e.harness import BOB, CHEN, GONE, HELPERBOT, MARIA, NOMAIL, BotHarness, message_text
from tests.e2e.modal_form import element, form, open_by_command, rewards, submit

RECIPIENTS = str(BlockId.RECIPIENTS)
AMOUNT = str(BlockId.AMOUNT)
CITATION = str(BlockId.CITATION)
VALUES = str(BlockId.VALUES)


def ephemeral_texts(bot: BotHarness, user_id: str, channel: str = "C0GENERAL") -> list[str]:
    return [
        message_text(m)
        for m in bot.fake.ephemerals(user_id, source="chat.postEphemeral")
        if m["channel"] == channel
    ]


def test_empty_command_opens_the_form_and_shows_nothing_else(bot: BotHarness) -> None:
    view = open_by_command(bot, BOB)
    ids = [b.get("block_id") for b in view["blocks"]]
    assert ids[:3] == [RECIPIENTS, AMOUNT, CITATION]
    assert str(BlockId.ANNOUNCE) in ids
    assert VALUES not in ids  # no REWARD_VALUES: values are #words in the citation
    assert element(view, RECIPIENTS)["type"] == "multi_users_select"
    amount = next(b for b in view["blocks"] if b.get("block_id") == AMOUNT)
    assert "1,000 points left to give this month" in amount["hint"]["text"]
    assert bot.replies_to(BOB) == []  # the ack was empty: no help text, no "one moment"
    assert [v["method"] for v in bot.fake.views] == ["views.open"]


def test_values_select_when_values_are_configured(make_bot) -> None:
    bot = make_bot(REWARD_VALUES="ownership,teamwork")
    view = open_by_command(bot, BOB)
    select = element(view, VALUES)
    assert select["type"] == "static_select"
    assert [o["value"] for o in select["options"]] == ["ownership", "teamwork"]


def test_submit_sends_the_reward_once_and_tells_the_giver(bot: BotHarness) -> None:
    view = open_by_command(bot, BOB)
    ack = submit(bot, BOB, view, recipients=[MARIA, CHEN], amount="100", citation="a & b <ok>")
    assert ack == {}  # closes the modal
    assert bot.fake.modal_stack(BOB) == []

    dm = bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "100 points" in t])
    assert "<@UBOB0001>" in dm[0]
    assert bot.wait(lambda: bot.dm_texts(CHEN))
    told = bot.wait(lambda: ephemeral_texts(bot, BOB))
    assert "Sending *100 points* each" in told[0]
    assert bot.wait(lambda: [t for t in bot.channel_texts("C0GENERAL") if "rewarded" in t])

    sends = bot.sends()
    assert len(sends) == 1
    variables = sends[0]["variables"]
    recipients = variables.get("recipients") or variables["recipients_data"]["recipients"]
    assert sorted(r["to_email"] for r in recipients) == ["chen@acme.test", "maria@acme.test"]
    [reward] = rewards(bot)
    assert reward.source == RewardSource.MODAL
    assert reward.channel_id == "C0GENERAL"
    assert reward.idempotency_key == f"view:{view['id']}"
    assert reward.citation == "a &amp; b &lt;ok&gt;"  # typed text stored as mrkdwn
    assert reward.public is True


def test_not_announced_when_unticked(bot: BotHarness) -> None:
    view = open_by_command(bot, BOB)
    submit(bot, BOB, view, recipients=[MARIA], announce=False)
    assert bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "Sent!" in t])
    assert not [t for t in bot.channel_texts("C0GENERAL") if "rewarded" in t]
    assert rewards(bot)[0].public is False


# (case, form fields, block with the error, words in it)
ERROR_CASES = [
    ("amount-abc", {"recipients": [MARIA], "amount": "abc"}, AMOUNT, "isn't a number of points"),
    ("amount-zero", {"recipients": [MARIA], "amount": "0"}, AMOUNT, "at least 1 point"),
    ("amount-negative", {"recipients": [MARIA], "amount": "-5"}, AMOUNT, "below zero"),
    ("amount-fraction", {"recipients": [MARIA], "amount": "2.5"}, AMOUNT, "whole numbers"),
    ("amount-empty", {"recipients": [MARIA], "amount": ""}, AMOUNT, "how many points"),
    ("over-max", {"recipients": [MARIA], "amount": "6000"}, AMOUNT, "most one person can get"),
    (
        "over-allowance",
        {"recipients": [MARIA, CHEN], "amount": "600"},
        AMOUNT,
        "Lower the amount to 500",
    ),
    ("no-recipients", {"recipients": []}, RECIPIENTS, "Pick at least one person"),
    ("self", {"recipients": [BOB]}, RECIPIENTS, "can't reward yourself"),
    ("bot", {"recipients": [HELPERBOT]}, RECIPIENTS, "@helperbot is a bot"),
    ("no-email", {"recipients": [NOMAIL]}, RECIPIENTS, "@nomail has no email address"),
    ("deactivated", {"recipients": [GONE]}, RECIPIENTS, "deactivated"),
    ("unknown-user", {"recipients": ["UNOBODY1"]}, RECIPIENTS, "can't find"),
    ("citation-501", {"recipients": [MARIA], "citation": "x" * 501}, CITATION, "501 characters"),
    ("citation-blank", {"recipients": [MARIA], "citation": "   "}, CITATION, "what it's for"),
]
# with REWARD_VALUES=ownership,teamwork
VALUE_CASES = [
    ("value-picked", {"recipients": [MARIA], "value": "synergy"}, VALUES, "#synergy isn't one"),
    (
        "value-typed",
        {"recipients": [MARIA], "citation": "great #synergy", "value": "ownership"},
        CITATION,
        "#synergy isn't one",
    ),
    ("value-typed-only", {"recipients": [MARIA], "citation": "wow #synergy"}, CITATION, "#synergy"),
]


def check_inline_errors(bot: BotHarness, cases: list) -> None:
    view = open_by_command(bot, BOB)  # refused submissions leave the same modal open
    for case, fields, block, words in cases:
        ack = submit(bot, BOB, view, **fields)
        assert ack.get("response_action") == "errors", case
        assert set(ack["errors"]) == {block}, (case, ack)
        message = ack["errors"][block]
        assert words.lower() in message.lower(), (case, message)
        assert "<@" not in message and "`" not in message, (case, message)
        [shown] = bot.fake.modal_stack(BOB)  # still open, the error on the field
        assert shown["errors"] == ack["errors"], case
    assert rewards(bot) == []
    assert bot.sends() == []
    assert bot.dm_texts(BOB) == []


def test_problems_come_back_inline_and_nothing_is_created(bot: BotHarness) -> None:
    check_inline_errors(bot, ERROR_CASES)


def test_value_problems_go_on_the_field_they_came_from(make_bot) -> None:
    check_inline_errors(make_bot(REWARD_VALUES="ownership,teamwork"), VALUE_CASES)


def test_every_problem_at_once(bot: BotHarness) -> None:
    view = open_by_command(bot, BOB)
    ack = submit(bot, BOB, view, recipients=[], amount="lots", citation="")
    assert set(ack["errors"]) == {RECIPIENTS, AMOUNT, CITATION}


def test_fixed_form_goes_through_from_the_same_modal(bot: BotHarness) -> None:
    view = open_by_command(bot, BOB)
    refused = submit(bot, BOB, view, recipients=[MARIA], amount="0")
    assert refused["response_action"] == "errors"
    assert submit(bot, BOB, view, recipients=[MARIA], amount="50") == {}
    assert bot.wait(lambda: bot.dm_texts(MARIA))
    assert [r.total_points for r in rewards(bot)] == [50]


def test_double_submit_gives_once(bot: BotHarness) -> None:
    view = open_by_command(bot, BOB)
    assert submit(bot, BOB, view, recipients=[MARIA]) == {}
    assert submit(bot, BOB, view, recipients=[MARIA]) == {}
    assert bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "Sent!" in t])
    assert len(rewards(bot)) == 1
    assert len(bot.sends()) == 1
    assert len(ephemeral_texts(bot, BOB)) == 1  # told once


def test_simultaneous_submits_give_once(bot: BotHarness) -> None:
    view = open_by_command(bot, BOB)
    values = form(recipients=[MARIA])
    codes: list[int] = []

    def click() -> None:
        codes.append(bot.driver.view_submission(user_id=BOB, view=view, values=values).status_code)

    threads = [threading.Thread(target=click) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200] * 5
    assert bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "Sent!" in t])
    assert len(rewards(bot)) == 1
    assert len(bot.sends()) == 1


def test_over_the_threshold_waits_for_approval(bot: BotHarness) -> None:
    view = open_by_command(bot, BOB)
    assert submit(bot, BOB, view, recipients=[MARIA], amount="500") == {}
    told = bot.wait(lambda: ephemeral_texts(bot, BOB))
    assert "needs approval" in told[0] and "<@UAPPR001>" in told[0]
    [reward] = rewards(bot)
    assert reward.status == RewardStatus.PENDING_APPROVAL
    assert bot.sends() == []


def test_giver_gets_a_dm_when_the_channel_refuses_ephemerals(bot: BotHarness) -> None:
    view = open_by_command(bot, BOB)
    bot.fake.fail_next("chat.postEphemeral", "channel_not_found")
    submit(bot, BOB, view, recipients=[MARIA])
    assert bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "Sending *100 points*" in t])


def slow_profiles(bot: BotHarness, monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Slack's users.info answering slowly (the profile cache is cold)."""
    people = bot.runtime.people
    real = people.profile

    def slow(user_id: str):
        time.sleep(seconds)
        return real(user_id)

    monkeypatch.setattr(people, "profile", slow)
    monkeypatch.setattr(give_modal, "SUBMIT_BUDGET_SECONDS", 0.2)


def test_slow_lookup_closes_the_form_and_answers_by_dm(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = open_by_command(bot, BOB)
    slow_profiles(bot, monkeypatch, 0.3)
    assert submit(bot, BOB, view, recipients=[MARIA]) == {}
    assert bot.fake.modal_stack(BOB) == []
    assert bot.wait(lambda: bot.dm_texts(MARIA))
    assert len(bot.sends()) == 1


def test_slow_lookup_refusal_arrives_by_dm(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = open_by_command(bot, BOB)
    slow_profiles(bot, monkeypatch, 0.3)
    assert submit(bot, BOB, view, recipients=[NOMAIL]) == {}
    told = bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "couldn't send the reward" in t])
    assert "no email address" in told[0]
    assert rewards(bot) == []


def test_slow_lookup_that_then_fails_is_told_by_dm_with_a_ref(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = open_by_command(bot, BOB)
    slow_profiles(bot, monkeypatch, 0.3)

    def broken(request: object) -> object:
        bot.runtime.people.profile(BOB)  # slow, so the form closes first
        raise RuntimeError("database on fire")

    monkeypatch.setattr(bot.runtime.rewards, "give", broken)
    assert submit(bot, BOB, view, recipients=[MARIA]) == {}
    told = bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "Something went wrong" in t])
    assert "ref `" in told[0] and "database on fire" not in told[0]
    assert rewards(bot) == [] and bot.sends() == []


def test_expired_trigger_is_explained(bot: BotHarness) -> None:
    bot.fake.fail_next("views.open", "expired_trigger_id")
    bot.driver.command("", user_id=BOB)
    told = bot.wait(lambda: [t for t in bot.replies_to(BOB) if "couldn't open the reward" in t])
    assert "/reward @maria 50" in told[0]
    assert bot.fake.modal_stack(BOB) == []


def test_an_approver_giving_is_told_who_really_was_asked(bot: BotHarness) -> None:
    approver = "UAPPR001"
    view = open_by_command(bot, approver)
    assert submit(bot, approver, view, recipients=[MARIA], amount="500") == {}
    told = bot.wait(lambda: ephemeral_texts(bot, approver))
    assert "needs approval" in told[0]
    assert "<@UADMIN01>" in told[0] and "<@UAPPR001>" not in told[0]
    assert bot.wait(lambda: bot.dm_texts("UADMIN01"))
    assert bot.dm_texts(approver) == []


def test_a_web_address_in_the_reason_is_a_link_wherever_the_reward_is_shown(
    bot: BotHarness,
) -> None:
    link = "https://acme.slack.com/archives/C0GENERAL/p1700000000000100?thread_ts=1&cid=C0"
    view = open_by_command(bot, BOB)
    citation = f"the demo ({link}) was great."
    assert submit(bot, BOB, view, recipients=[MARIA], citation=citation) == {}
    live = "<" + link.replace("&", "&amp;") + ">"
    dm = bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "demo" in t])
    announced = bot.wait(lambda: [t for t in bot.channel_texts("C0GENERAL") if "demo" in t])
    for text in (dm[0], announced[0]):
        assert f"({live}) was great" in text
    bot.driver.command("history", user_id=BOB)
    history = bot.wait(lambda: [t for t in bot.replies_to(BOB) if "demo" in t])
    assert live in history[0]

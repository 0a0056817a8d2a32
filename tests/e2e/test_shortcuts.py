"""The shortcuts and the App Home button open the reward modal: "Send a reward" empty, "Reward
this message" with the author and a link to the message already filled in."""

from __future__ import annotations

from typing import Any

from bot.slack.blocks.give_modal import decode_reward_modal_metadata
from bot.slack.ids import ActionId, BlockId, Shortcut
from storage.states import RewardSource
from tests.e2e.harness import BOB, HELPERBOT, MARIA, BotHarness, message_text
from tests.e2e.modal_form import element, modal_of, rewards, submit

CITATION = str(BlockId.CITATION)
RECIPIENTS = str(BlockId.RECIPIENTS)


def posted_by(bot: BotHarness, user_id: str, text: str, **extra: Any) -> dict[str, Any]:
    return bot.fake.workspace.post_message(channel="C0GENERAL", text=text, user=user_id, **extra)


def reward_message(bot: BotHarness, message: dict[str, Any], *, by: str = BOB) -> dict[str, Any]:
    response = bot.driver.message_shortcut(
        user_id=by, callback_id=Shortcut.REWARD_MESSAGE, channel_id="C0GENERAL", message=message
    )
    assert response.status_code == 200
    return modal_of(bot, by)


def test_global_shortcut_opens_an_empty_form_and_answers_by_dm(bot: BotHarness) -> None:
    response = bot.driver.shortcut(user_id=BOB, callback_id=Shortcut.SEND_REWARD)
    assert response.status_code == 200
    view = modal_of(bot, BOB)
    assert "initial_users" not in element(view, RECIPIENTS)
    assert submit(bot, BOB, view, recipients=[MARIA], citation="for the launch") == {}
    told = bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "Sending *100 points*" in t])
    assert "<@UMARIA01>" in told[0]  # no channel to answer in: a DM
    assert bot.wait(lambda: bot.dm_texts(MARIA))
    [reward] = rewards(bot)
    assert reward.source == RewardSource.SHORTCUT
    assert reward.channel_id is None
    assert len(bot.sends()) == 1


def test_message_shortcut_prefills_the_author_and_a_link(bot: BotHarness) -> None:
    message = posted_by(bot, MARIA, "Fixed the flaky deploy, see the runbook")
    view = reward_message(bot, message)
    assert element(view, RECIPIENTS)["initial_users"] == [MARIA]
    citation = element(view, CITATION)["initial_value"]
    stamp = message["ts"].replace(".", "")
    assert citation.startswith("Thanks for this message: ")
    assert citation.endswith(f"archives/C0GENERAL/p{stamp}")
    assert bot.fake.calls_to("chat.getPermalink")
    meta = decode_reward_modal_metadata(view["private_metadata"])
    assert meta.channel_id == "C0GENERAL" and meta.message is not None
    assert meta.message.ts == message["ts"]

    # sent as prefilled: the link travels with the points
    assert submit(bot, BOB, view, recipients=[MARIA], citation=citation) == {}
    dm = bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "100 points" in t])
    assert f"p{stamp}" in dm[0]
    told = bot.wait(
        lambda: [
            message_text(m)
            for m in bot.fake.ephemerals(BOB, source="chat.postEphemeral")
            if m["channel"] == "C0GENERAL"
        ]
    )
    assert "Sending *100 points*" in told[0]
    [reward] = rewards(bot)
    assert reward.source == RewardSource.SHORTCUT and reward.channel_id == "C0GENERAL"
    sent = bot.sends()[0]["variables"]
    recipients = sent.get("recipients") or sent["recipients_data"]["recipients"]
    assert f"p{stamp}" in recipients[0]["citation"]


def test_message_shortcut_builds_the_link_when_permalink_fails(bot: BotHarness) -> None:
    message = posted_by(bot, MARIA, "hello")
    bot.fake.fail_next("chat.getPermalink", "internal_error")
    view = reward_message(bot, message)
    citation = element(view, CITATION)["initial_value"]
    domain = bot.fake.workspace.team["domain"]
    stamp = message["ts"].replace(".", "")
    assert citation == (
        f"Thanks for this message: https://{domain}.slack.com/archives/C0GENERAL/p{stamp}"
    )
    assert element(view, RECIPIENTS)["initial_users"] == [MARIA]


def test_own_or_bot_message_prefills_nobody(bot: BotHarness) -> None:
    mine = posted_by(bot, BOB, "my own message")
    view = reward_message(bot, mine)
    assert "initial_users" not in element(view, RECIPIENTS)
    assert element(view, CITATION)["initial_value"].startswith("Thanks for this message")

    beep = posted_by(bot, HELPERBOT, "beep", bot_id="BBOT0001")
    view = reward_message(bot, beep, by=MARIA)
    assert "initial_users" not in element(view, RECIPIENTS)


def test_home_button_opens_the_form(bot: BotHarness) -> None:
    bot.driver.app_home_opened(user_id=BOB)
    home = bot.wait(lambda: bot.fake.home(BOB))
    response = bot.driver.block_action(
        user_id=BOB, action_id=ActionId.OPEN_REWARD_MODAL, value="home", view=home
    )
    assert response.status_code == 200
    view = modal_of(bot, BOB)
    assert decode_reward_modal_metadata(view["private_metadata"]).source == "modal"
    assert submit(bot, BOB, view, recipients=[MARIA]) == {}
    assert bot.wait(lambda: bot.dm_texts(MARIA))
    assert rewards(bot)[0].source == RewardSource.MODAL


def test_expired_trigger_on_a_shortcut_is_explained_by_dm(bot: BotHarness) -> None:
    bot.fake.fail_next("views.open", "expired_trigger_id")
    bot.driver.shortcut(user_id=BOB, callback_id=Shortcut.SEND_REWARD)
    assert bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "couldn't open the reward" in t])
    assert bot.fake.modal_stack(BOB) == []


def announce_box(view: dict[str, Any]) -> str | None:
    """The announce checkbox's label, or None when the form doesn't offer one."""
    for block in view["blocks"]:
        if block.get("block_id") == str(BlockId.ANNOUNCE):
            return block["element"]["options"][0]["text"]["text"]
    return None


def notes(view: dict[str, Any]) -> str:
    return " ".join(
        e.get("text", "") for b in view["blocks"] if b["type"] == "context" for e in b["elements"]
    )


def test_a_form_with_nowhere_to_announce_says_so_instead_of_offering_it(bot: BotHarness) -> None:
    bot.driver.shortcut(user_id=BOB, callback_id=Shortcut.SEND_REWARD)
    view = modal_of(bot, BOB)
    assert announce_box(view) is None
    assert "won't be announced in a channel from here" in notes(view)
    submit(bot, BOB, view, recipients=[MARIA], citation="for the launch")
    assert bot.wait(lambda: bot.dm_texts(MARIA))
    bot.settle()
    assert not [
        m
        for m in bot.fake.messages()
        if "for the launch" in message_text(m) and not m["channel"].startswith("D")
    ]


def test_the_form_names_the_channel_it_announces_in(make_bot) -> None:
    bot = make_bot(REWARD_ANNOUNCE_CHANNEL="C0KUDOS")
    bot.driver.app_home_opened(user_id=BOB)
    home = bot.wait(lambda: bot.fake.home(BOB))
    bot.driver.block_action(
        user_id=BOB, action_id=ActionId.OPEN_REWARD_MODAL, value="home", view=home
    )
    view = modal_of(bot, BOB)
    assert announce_box(view) == "Announce it in <#C0KUDOS>"
    submit(bot, BOB, view, recipients=[MARIA], citation="for the launch")
    assert bot.wait(lambda: [t for t in bot.channel_texts("C0KUDOS") if "for the launch" in t])
    told = bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "announced it in" in t])
    assert "<#C0KUDOS>" in told[0]


def test_a_form_opened_in_a_channel_announces_there(bot: BotHarness) -> None:
    bot.driver.command("", user_id=BOB, channel_id="C0GENERAL")
    assert announce_box(modal_of(bot, BOB)) == "Announce it in <#C0GENERAL>"

"""`/reward bulk` end to end: the admin opens the form, uploads a CSV into its file input, and
reads the answer in their DM: a file with mistakes is refused whole with its rows; a good one
is previewed, sent once however often Send is clicked, its progress shown in one message
updated in place, and the outcomes arrive as a CSV."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

from sqlmodel import col, select

from bot.slack.ids import ActionId, BlockId, CallbackId
from storage.models import BulkAward, Reward
from tests.e2e.harness import ADMIN, APPROVER, BOB, CHEN, MARIA, BotHarness, message_text

GOOD = (
    "recipient,points,reason,value\n"
    "maria@acme.test,50,Shipped the launch,\n"
    f"{BOB},25,Fixed the build <!channel>,\n"
    "chen@acme.test,10,Ran the offsite,\n"
).encode()


def open_form(bot: BotHarness, user_id: str = ADMIN) -> dict[str, Any]:
    response = bot.driver.command("bulk", user_id=user_id, channel_id="C0GENERAL")
    assert response.status_code == 200
    view = bot.wait(
        lambda: next(
            (
                v
                for v in bot.fake.modal_stack(user_id)[-1:]
                if v.get("callback_id") == CallbackId.BULK_MODAL
            ),
            None,
        )
    )
    [field] = [b for b in view["blocks"] if b.get("block_id") == BlockId.BULK_FILE]
    assert field["element"]["type"] == "file_input"
    assert field["element"]["filetypes"] == ["csv"] and field["element"]["max_files"] == 1
    return view


def submit_file(bot: BotHarness, content: bytes, name: str = "q4-awards.csv") -> dict[str, Any]:
    """Upload `content` into the form's file input and submit it; the ack's JSON."""
    view = open_form(bot)
    item = bot.fake.upload_from(ADMIN, name, content)
    values = {
        str(BlockId.BULK_FILE): {
            str(ActionId.BULK_FILE_INPUT): {"type": "file_input", "files": [item]}
        }
    }
    response = bot.driver.view_submission(user_id=ADMIN, view=view, values=values)
    assert response.status_code == 200
    return response.json() if response.content.strip() else {}


def admin_dm(bot: BotHarness, marker: str) -> dict[str, Any]:
    return bot.wait(
        lambda: next((m for m in bot.fake.dms_to(ADMIN) if marker in message_text(m)), None)
    )


def rewards(bot: BotHarness) -> list[Reward]:
    with bot.runtime.store.read_session() as session:
        return list(session.exec(select(Reward).order_by(col(Reward.id))).all())


def test_a_file_with_mistakes_is_refused_whole_with_its_rows(bot: BotHarness) -> None:
    bad = GOOD + b"nobody@acme.test,10,thanks,\nUMARIA01,-5,thanks,\nUMARIA01,2.5,again,\n"
    answer = submit_file(bot, bad)  # the form says it is checking; the answer comes by DM
    assert answer["response_action"] == "update"
    assert "Checking `q4-awards.csv`" in message_text(answer["view"])
    said = message_text(admin_dm(bot, "I didn't send anything"))
    assert "3 problems in its 6 rows" in said
    assert "Row 5: I can't find anyone in this workspace with the email `nobody@acme.test`" in said
    assert "Row 6: the points are `-5`" in said and "Row 7: the points are `2.5`" in said
    bot.settle()
    assert rewards(bot) == [] and bot.sends() == []


def test_a_member_cant_open_the_form(bot: BotHarness) -> None:
    bot.driver.command("bulk", user_id=MARIA, channel_id="C0GENERAL")
    said = bot.wait(lambda: bot.replies_to(MARIA))
    assert "Only admins can send awards from a file" in said[-1]
    assert bot.fake.modal_stack(MARIA) == []


def test_a_file_with_no_file_picked_says_so_beside_the_input(bot: BotHarness) -> None:
    view = open_form(bot)
    values = {str(BlockId.BULK_FILE): {str(ActionId.BULK_FILE_INPUT): {"type": "file_input"}}}
    response = bot.driver.view_submission(user_id=ADMIN, view=view, values=values)
    assert response.json() == {
        "response_action": "errors",
        "errors": {str(BlockId.BULK_FILE): "Pick one CSV file."},
    }


def test_a_good_file_is_previewed_sent_once_with_progress_and_outcomes(bot: BotHarness) -> None:
    submit_file(bot, GOOD)
    preview = admin_dm(bot, "is ready")
    said = message_text(preview)
    assert "`q4-awards.csv` is ready: *3* awards, *85 points* in all" in said
    assert f"<@{MARIA}>: 50 points for “Shipped the launch”" in said
    assert "Fixed the build &lt;!channel&gt;" in said  # text, never a mention
    assert "can't be recalled" in said
    assert "left at Xoxoday" in said  # what the account holds
    bot.settle()
    assert rewards(bot) == [] and bot.sends() == []  # nothing before Send

    for _ in range(2):  # a double click
        click = bot.driver.block_action(
            user_id=ADMIN, action_id=ActionId.BULK_SEND, value=_value(preview), message=preview
        )
        assert click.status_code == 200
    done = admin_dm(bot, "Done: file")
    assert done["ts"] == preview["ts"]  # the preview became the progress message, in place
    assert "3 awards: 3 sent" in message_text(done)
    bot.settle()

    sent = sorted(
        (r["to_email"], r["amount"])
        for call in bot.sends()
        for r in call["variables"].get("recipients")
        or call["variables"]["recipients_data"]["recipients"]
    )
    assert sent == [("bob@acme.test", "25"), ("chen@acme.test", "10"), ("maria@acme.test", "50")]
    assert [r.status for r in rewards(bot)] == ["sent"] * 3
    (upload,) = [f for f in bot.fake.files if f["filename"].endswith("-outcomes.csv")]
    assert upload["channel"] == bot.fake.workspace.im_of(ADMIN)
    rows = list(csv.DictReader(io.StringIO(upload["content"].decode())))
    assert [(r["row"], r["recipient"], r["points"], r["outcome"]) for r in rows] == [
        ("2", MARIA, "50", "sent"),
        ("3", BOB, "25", "sent"),
        ("4", CHEN, "10", "sent"),
    ]
    for person in (MARIA, BOB, CHEN):  # each recipient hears of their reward
        assert any("points" in t for t in bot.dm_texts(person))
    # the admin reads the file's progress, not one DM per row
    assert not [t for t in bot.dm_texts(ADMIN) if "Sent!" in t]
    with bot.runtime.store.read_session() as session:
        (award,) = session.exec(select(BulkAward)).all()
    assert award.status == "done"
    assert "<!channel>" not in " ".join(m.get("text", "") for m in bot.fake.messages())


def test_cancel_sends_nothing(bot: BotHarness) -> None:
    submit_file(bot, GOOD)
    preview = admin_dm(bot, "is ready")
    bot.driver.block_action(
        user_id=ADMIN, action_id=ActionId.BULK_CANCEL, value=_value(preview), message=preview
    )
    admin_dm(bot, "Cancelled: nothing from")
    bot.driver.block_action(
        user_id=ADMIN, action_id=ActionId.BULK_SEND, value=_value(preview), message=preview
    )
    said = bot.wait(lambda: [t for t in bot.replies_to(ADMIN) if "nothing was sent" in t])
    assert "You cancelled" in said[-1]
    bot.settle()
    assert rewards(bot) == [] and bot.sends() == []


def _value(message: dict[str, Any]) -> str:
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == ActionId.BULK_SEND:
                return str(element["value"])
    raise AssertionError("no Send button")


def test_over_the_threshold_an_approver_approves_and_the_file_is_sent(make_bot) -> None:
    bot: BotHarness = make_bot(REWARD_APPROVAL_THRESHOLD="80")
    submit_file(bot, GOOD)
    preview = admin_dm(bot, "is ready")
    assert "need an approver's OK" in message_text(preview)
    bot.driver.block_action(
        user_id=ADMIN, action_id=ActionId.BULK_SEND, value=_value(preview), message=preview
    )
    waiting = admin_dm(bot, "is waiting for approval")
    assert waiting["ts"] == preview["ts"] and f"<@{APPROVER}>" in message_text(waiting)
    question = bot.wait(
        lambda: next(
            (m for m in bot.fake.dms_to(APPROVER) if "needs your OK" in message_text(m)), None
        )
    )
    assert f"<@{ADMIN}> wants to send *3* awards, *85 points* in all" in message_text(question)
    bot.settle()
    assert rewards(bot) == [] and bot.sends() == []

    [short] = [
        e["value"]
        for b in question["blocks"]
        for e in b.get("elements") or []
        if e.get("action_id") == ActionId.BULK_APPROVE
    ]
    for _ in range(2):  # a double click
        bot.driver.block_action(
            user_id=APPROVER, action_id=ActionId.BULK_APPROVE, value=short, message=question
        )
    done = admin_dm(bot, "Done: file")
    assert done["ts"] == preview["ts"] and "3 sent" in message_text(done)
    bot.settle()
    assert len(bot.sends()) == 3 and [r.status for r in rewards(bot)] == ["sent"] * 3
    approved = [m for m in bot.fake.dms_to(APPROVER) if m["ts"] == question["ts"]]
    assert "approved file" in message_text(approved[0])


def test_a_5_mb_file_is_refused_beside_the_input_and_never_read(bot: BotHarness) -> None:
    view = open_form(bot)
    big = b"recipient,points,reason\n" + b"maria@acme.test,1,x\n" * 260_000  # ~5 MB
    item = bot.fake.upload_from(ADMIN, "huge.csv", big)
    values = {
        str(BlockId.BULK_FILE): {
            str(ActionId.BULK_FILE_INPUT): {"type": "file_input", "files": [item]}
        }
    }
    answer = bot.driver.view_submission(user_id=ADMIN, view=view, values=values).json()
    assert answer["response_action"] == "errors"
    assert "limit is 2.0 MB" in answer["errors"][str(BlockId.BULK_FILE)]
    bot.settle()
    assert bot.fake.calls_to("files.info") == [] and rewards(bot) == []


def test_a_file_bigger_than_slack_said_stops_at_the_cap(bot: BotHarness) -> None:
    """Slack's own size is trusted only to refuse early: the download stops past 2 MB."""
    view = open_form(bot)
    big = b"recipient,points,reason\n" + b"maria@acme.test,1,x\n" * 260_000
    item = {**bot.fake.upload_from(ADMIN, "sly.csv", big), "size": 100}
    values = {
        str(BlockId.BULK_FILE): {
            str(ActionId.BULK_FILE_INPUT): {"type": "file_input", "files": [item]}
        }
    }
    assert bot.driver.view_submission(user_id=ADMIN, view=view, values=values).status_code == 200
    said = message_text(admin_dm(bot, "limit is 2.0 MB"))
    assert "Nothing was sent" in said
    bot.settle()
    assert rewards(bot) == []


def test_empty_header_only_and_not_a_csv_say_what_to_do(bot: BotHarness) -> None:
    for content, said in (
        (b"", "That file is empty"),
        (b"recipient,points,reason\n", "has a header but no awards"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "Save it as *CSV UTF-8*"),
        (b"recipient,points,reason\n\x00\x00", "isn't a CSV file"),
    ):
        submit_file(bot, content)
        try:
            admin_dm(bot, said)
        except TimeoutError:
            raise AssertionError(bot.dm_texts(ADMIN)) from None
    bot.settle()
    assert rewards(bot) == []


def test_a_file_saved_by_excel_in_a_semicolon_locale_is_read(bot: BotHarness) -> None:
    excel = "\ufeffRecipient;Points;Reason;Value\r\nmaria@acme.test;7;Great talk, really;\r\n"
    submit_file(bot, excel.encode("utf-8"), name="Q4 (2).csv")
    said = message_text(admin_dm(bot, "is ready"))
    assert "`Q4 (2).csv` is ready: *1* award, *7 points* in all" in said
    assert "“Great talk, really”" in said


def test_with_xoxoday_slow_the_preview_comes_without_the_balance(bot: BotHarness) -> None:
    bot.sandbox.faults.set("getBalance", latency_ms=5_000)
    started = time.monotonic()
    submit_file(bot, GOOD)
    said = message_text(admin_dm(bot, "is ready"))
    assert time.monotonic() - started < 4.5  # not held for Xoxoday's 5 s
    assert "Xoxoday is slow to say what the account holds" in said

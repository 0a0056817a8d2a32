"""People's dates from a CSV an admin drops in the bot's DM (issue 22, celebrations), end to
end over signed HTTP: the fake Slack stores the file and delivers Slack's `message.im` event;
the bot reads the file (files.info, url_private) and answers in the DM as the CLI does."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import col, select

from bot.simulators.fakeslack import payloads
from storage.audit import AuditAction
from storage.models import AuditEvent, CelebrationPerson
from tests.e2e.harness import ADMIN, BOB, MARIA, BotHarness

GOOD = f"person,birthday,start_date\n{MARIA},03-14,2021-06-01\nbob@acme.test,1990-07-02,\n".encode()
BAD = (
    f"person,birthday,start_date\n{MARIA},02-30,2021-06-01\n<!channel>,03-14,\n{BOB},,2020-01-01\n"
).encode()


def people(bot: BotHarness) -> list[CelebrationPerson]:
    with bot.runtime.store.read_session() as session:
        return list(session.exec(select(CelebrationPerson).order_by(col(CelebrationPerson.id))))


def imports_audited(bot: BotHarness) -> list[AuditEvent]:
    with bot.runtime.store.read_session() as session:
        found = session.exec(
            select(AuditEvent).where(AuditEvent.action == AuditAction.PEOPLE_IMPORTED)
        )
        return list(found.all())


def from_bot(bot: BotHarness, user_id: str) -> list[str]:
    """What the bot said in `user_id`'s DM (not the file they dropped there)."""
    return [
        str(m.get("text") or "")
        for m in bot.fake.dms_to(user_id)
        if m.get("user") == bot.fake.workspace.bot_user_id
    ]


def test_an_admins_file_is_imported_and_answered_in_the_dm(bot: BotHarness) -> None:
    _, answer = bot.driver.drop_file_in_dm(user_id=ADMIN, filename="people.csv", content=GOOD)
    assert answer.status_code == 200
    said = bot.wait(lambda: [t for t in from_bot(bot, ADMIN) if "imported" in t])
    assert "imported 2 people from `people.csv`: 2 added, 0 updated, 0 unchanged" in said[0]
    stored = {(p.slack_user_id, p.email): p for p in people(bot)}
    maria = stored[(MARIA, None)]
    assert (maria.birth_month, maria.birth_day, maria.start_date) == (3, 14, date(2021, 6, 1))
    bob = stored[(None, "bob@acme.test")]
    assert (bob.birth_month, bob.birth_day, bob.start_date) == (7, 2, None)  # no year kept
    [audited] = imports_audited(bot)
    assert audited.actor == ADMIN
    assert audited.after == {"rows": 2, "added": 2, "updated": 0}

    bot.driver.drop_file_in_dm(user_id=ADMIN, filename="people.csv", content=GOOD)
    bot.wait(lambda: [t for t in from_bot(bot, ADMIN) if "0 added, 0 updated, 2 unchanged" in t])
    assert len(people(bot)) == 2


def test_a_file_with_mistakes_lists_its_rows_and_stores_nothing(bot: BotHarness) -> None:
    bot.driver.drop_file_in_dm(user_id=ADMIN, filename="people.csv", content=BAD)
    [said] = bot.wait(lambda: [m for m in bot.fake.dms_to(ADMIN) if "not imported" in str(m)])
    text = str(said["blocks"])
    assert "`people.csv` was not imported; nothing was changed" in text
    assert "row 2: the birthday '02-30' is not a day of the year" in text
    assert "row 3: '&lt;!channel&gt;' is neither a Slack user id" in text  # text, no mention
    assert "<!channel>" not in text
    assert "row 4" not in text  # a good row is not a problem
    assert "Fix those rows and import the file again." in text
    assert people(bot) == [] and imports_audited(bot) == []


def test_a_bulk_file_is_pointed_at_reward_bulk(bot: BotHarness) -> None:
    bulk = b"recipient,points,reason\nmaria@acme.test,50,Shipped the launch\n"
    bot.driver.drop_file_in_dm(user_id=ADMIN, filename="awards.csv", content=bulk)
    said = bot.wait(lambda: [t for t in from_bot(bot, ADMIN) if "bulk file" in t])
    assert "use `/reward bulk`" in said[0]
    assert people(bot) == [] and bot.sends() == []


def test_a_member_is_told_once_that_only_admins_import(bot: BotHarness) -> None:
    bot.driver.drop_file_in_dm(user_id=BOB, filename="people.csv", content=GOOD)
    bot.wait(lambda: from_bot(bot, BOB))
    bot.settle()
    [said] = from_bot(bot, BOB)
    assert said.startswith("Only admins can import people's dates.")
    assert people(bot) == [] and imports_audited(bot) == []
    # chatting with the bot, or sharing a picture, gets no answer
    bot.driver.say(user_id=BOB, channel_id=bot.fake.workspace.im_of(BOB) or "", text="hi there")
    bot.driver.drop_file_in_dm(user_id=BOB, filename="cat.png", content=b"\x89PNG\r\n")
    bot.settle()
    assert len(from_bot(bot, BOB)) == 1


def test_a_file_that_isnt_a_csv_is_ignored(bot: BotHarness) -> None:
    bot.driver.drop_file_in_dm(user_id=ADMIN, filename="team.png", content=b"\x89PNG\r\n\x1a\n")
    bot.driver.drop_file_in_dm(user_id=ADMIN, filename="notes.txt", content=GOOD)
    bot.settle()
    assert from_bot(bot, ADMIN) == []
    assert people(bot) == []


def test_slacks_retry_of_the_same_event_imports_once(bot: BotHarness) -> None:
    event, _ = bot.driver.drop_file_in_dm(
        user_id=ADMIN, filename="people.csv", content=GOOD, event_id="EvDM0001"
    )
    bot.driver.event(event, event_id="EvDM0001", retry_num=1)
    bot.driver.event(event, event_id="EvDM0001", retry_num=2)
    bot.wait(lambda: [t for t in from_bot(bot, ADMIN) if "imported" in t])
    bot.settle()
    assert len([t for t in from_bot(bot, ADMIN) if "imported" in t]) == 1
    assert len(imports_audited(bot)) == 1
    assert len(people(bot)) == 2


def test_a_file_over_the_cap_is_refused_unread(bot: BotHarness) -> None:
    big = b"person,birthday\n" + b"x" * 2_000_000
    bot.driver.drop_file_in_dm(user_id=ADMIN, filename="<!here> big.csv", content=big)
    [said] = bot.wait(lambda: [m for m in bot.fake.dms_to(ADMIN) if "not imported" in str(m)])
    text = str(said["blocks"])
    assert "`&lt;!here&gt; big.csv` was not imported" in text and "<!here>" not in text
    assert "the most I read is 2,000,000 bytes" in text and "split it" in text
    assert people(bot) == []


def test_a_file_journaled_before_a_kill_is_imported_once_on_resume(bot: BotHarness) -> None:
    """The event was recorded and acknowledged, then the process died before the import: the
    journal's resume imports it, and Slack's later retry of it imports nothing more."""
    ws = bot.fake.workspace
    im_id, _ = ws.open_im(ADMIN)
    item = ws.files.from_user(
        user=ADMIN, filename="people.csv", content=GOOD, url_root=bot.fake.root_url, channel=im_id
    )
    message = ws.post_message(channel=im_id, user=ADMIN, files=[item], subtype="file_share")
    event = payloads.file_shared_in_im(message, [item])
    envelope = payloads.event_callback(ws, event, event_id="EvKILLED1")
    bot.runtime.journal.record(
        key="event:EvKILLED1", kind="event:message", user_id=ADMIN, body=envelope
    )
    assert bot.runtime.requests.resume(bot.app, stale_after=timedelta(0)) == 1
    bot.wait(lambda: [t for t in from_bot(bot, ADMIN) if "2 added" in t])
    bot.driver.event(event, event_id="EvKILLED1", retry_num=1)
    bot.settle()
    assert len([t for t in from_bot(bot, ADMIN) if "imported" in t]) == 1
    assert len(imports_audited(bot)) == 1 and len(people(bot)) == 2

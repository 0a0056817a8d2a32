"""`rewardbot bulk FILE --as ADMIN [--send]`: the file checked as the form checks it, sent
with --send, delivered by the running bot (which DMs the admin the outcomes), never twice."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from storage.models import Reward
from tests.command_line import rewardbot
from tests.e2e.harness import ADMIN, BOT_TOKEN, SIGNING_SECRET, BotHarness, message_text

GOOD = b"recipient,points,reason\nmaria@acme.test,5,From the command line\nUBOB0001,3,Also\n"


def env_of(bot: BotHarness) -> dict[str, str]:
    settings = bot.settings
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": bot.fake.api_url,
        "PLUM_BASE_URL": bot.sandbox.base_url,
        "PLUM_CLIENT_ID": "sandbox",
        "PLUM_CLIENT_SECRET": "sandbox",
        "PLUM_SENDER_EMAIL": "people-ops@acme.test",
        "DATABASE_URL": settings.DATABASE_URL,
        "REWARD_ADMINS": ADMIN,
    }


def rewards(bot: BotHarness) -> list[Reward]:
    with bot.runtime.store.read_session() as session:
        return list(session.exec(select(Reward)).all())


def test_check_then_send_from_the_command_line(bot: BotHarness, tmp_path: Path) -> None:
    file = tmp_path / "awards.csv"
    file.write_bytes(GOOD)
    checked = rewardbot(["bulk", str(file), "--as", ADMIN], env_of(bot), tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "awards.csv: 2 awards, 8 points in all" in checked.stdout
    assert "Nothing was sent" in checked.stdout and rewards(bot) == []

    sent = rewardbot(["bulk", str(file), "--as", ADMIN, "--send"], env_of(bot), tmp_path)
    assert sent.returncode == 0, sent.stderr
    assert "Sent: 2 rewards queued" in sent.stdout
    bot.wait(lambda: len(bot.sends()) == 2, timeout=20)
    outcomes = bot.wait(
        lambda: [f for f in bot.fake.files if f["filename"].endswith("-outcomes.csv")], timeout=20
    )
    assert outcomes[0]["channel"] == bot.fake.workspace.im_of(ADMIN)

    again = rewardbot(["bulk", str(file), "--as", ADMIN, "--send"], env_of(bot), tmp_path)
    assert again.returncode == 1
    assert "These are the same awards as file" in again.stderr
    bot.settle()
    assert len(bot.sends()) == 2 and len(rewards(bot)) == 2


def test_a_bad_file_or_a_member_sends_nothing(bot: BotHarness, tmp_path: Path) -> None:
    file = tmp_path / "bad.csv"
    file.write_bytes(b"recipient,points,reason\nmaria@acme.test,-5,oops\n")
    bad = rewardbot(["bulk", str(file), "--as", ADMIN, "--send"], env_of(bot), tmp_path)
    assert bad.returncode == 1
    assert "Row 2: the points are `-5`" in bad.stderr
    file.write_bytes(GOOD)
    member = rewardbot(["bulk", str(file), "--as", "UMARIA01", "--send"], env_of(bot), tmp_path)
    assert member.returncode == 1 and "Only admins can send awards from a file" in member.stderr
    assert rewards(bot) == [] and not [
        m for m in bot.fake.dms_to(ADMIN) if "Sent" in message_text(m)
    ]

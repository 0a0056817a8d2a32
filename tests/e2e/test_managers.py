"""`/reward manager <@member> <@manager>` (or `none`) and `/reward managers`, end to end."""

from __future__ import annotations

from storage import audit
from storage.audit import AuditAction
from storage.models import AuditEvent
from tests.e2e.harness import ADMIN, APPROVER, BOB, CHEN, GONE, HELPERBOT, MARIA, BotHarness
from tests.e2e.test_approvals import told


def manager_events(bot: BotHarness, member: str) -> list[AuditEvent]:
    with bot.runtime.store.read_session() as session:
        events = audit.events_for(session, subject_type="member", subject_id=member)
    return [e for e in events if e.action == AuditAction.MEMBER_MANAGER_SET]


def managers_of(bot: BotHarness) -> str:
    before = len(bot.replies_to(ADMIN))
    bot.driver.command("managers", user_id=ADMIN)
    return bot.wait(lambda: bot.replies_to(ADMIN)[before:])[-1]


def test_admin_records_lists_and_removes_a_manager(bot: BotHarness) -> None:
    assert "No managers recorded yet" in managers_of(bot)

    bot.driver.command(f"manager <@{BOB}|bob> <@{CHEN}|chen>", user_id=ADMIN)
    reply = told(bot, ADMIN, "is now")
    assert f"<@{CHEN}> is now <@{BOB}>'s manager" in reply[-1]
    assert f"<@{BOB}> → <@{CHEN}>" in managers_of(bot)
    [event] = manager_events(bot, BOB)
    assert event.actor == ADMIN and event.after == {"manager": CHEN}

    bot.driver.command(f"manager <@{BOB}> <@{CHEN}>", user_id=ADMIN)
    assert told(bot, ADMIN, "was already")
    assert len(manager_events(bot, BOB)) == 1

    bot.driver.command(f"manager <@{BOB}> none", user_id=ADMIN)
    assert told(bot, ADMIN, "has no manager recorded any more")
    assert "No managers recorded yet" in managers_of(bot)
    assert len(manager_events(bot, BOB)) == 2


def test_only_admins(bot: BotHarness) -> None:
    for user in (BOB, APPROVER):
        bot.driver.command(f"manager <@{MARIA}> <@{user}>", user_id=user)
        assert told(bot, user, "Only admins can record managers")
        bot.driver.command("managers", user_id=user)
        assert told(bot, user, "Only admins can list managers")
    assert manager_events(bot, MARIA) == []


def test_bad_managers_are_refused(bot: BotHarness) -> None:
    bot.driver.command(f"manager <@{BOB}> <@{CHEN}>", user_id=ADMIN)
    told(bot, ADMIN, "is now")
    # a circle: Chen manages Bob, so Bob can't manage Chen
    bot.driver.command(f"manager <@{CHEN}> <@{BOB}>", user_id=ADMIN)
    assert told(bot, ADMIN, "circle of managers")
    bot.driver.command(f"manager <@{MARIA}> <@UNOSUCH01>", user_id=ADMIN)
    assert told(bot, ADMIN, "I can't find <@UNOSUCH01>")
    bot.driver.command(f"manager <@{MARIA}> <@{HELPERBOT}>", user_id=ADMIN)
    assert told(bot, ADMIN, "is a bot")
    bot.driver.command(f"manager <@{MARIA}> <@{GONE}>", user_id=ADMIN)
    assert told(bot, ADMIN, "is deactivated")
    bot.driver.command(f"manager <@{MARIA}> <@{MARIA}>", user_id=ADMIN)
    assert told(bot, ADMIN, "can't be their own manager")
    bot.driver.command(f"manager <@{MARIA}>", user_id=ADMIN)
    assert told(bot, ADMIN, "Mention the person and then their manager")
    assert manager_events(bot, CHEN) == [] and manager_events(bot, MARIA) == []
    assert f"<@{BOB}> → <@{CHEN}>" in managers_of(bot)

"""celebrations, through time, on the whole bot (fake Slack, Plum sandbox): a people file
imported, the clock moved to a birthday, the job run as the scheduler runs it. Each person at
09:00 in their own time zone, a Saturday birthday on the Friday, once per person, kind and
year across runs and a restart; the person's DM and the announcement; the points at Xoxoday,
paid by the company (nobody's allowance); opted-out people get nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import time_machine
from sqlmodel import select

from storage import members as member_repo
from storage import points as points_repo
from storage import queries
from storage import rewards as reward_repo
from storage.models import Celebration, Reward
from tests.e2e.harness import ADMIN, BOB, CHEN, MARIA, BotHarness
from tests.jobs.support import T0, run_job

JOB = "celebrations"
CHANNEL = "C0KUDOS"
SETTINGS = {
    "REWARD_BIRTHDAY_POINTS": "50",
    "REWARD_ANNIVERSARY_POINTS": "1=100,5=500",
    "REWARD_WELCOME_POINTS": "25",
    "REWARD_CELEBRATION_CHANNEL": CHANNEL,
    "REWARD_ALLOWANCE": "100",
}


def imported(bot: BotHarness, csv: str) -> None:
    done = bot.runtime.celebrations.import_file(csv.encode(), actor="cli:test")
    assert done.file.ok, done.file.report()


def paid(bot: BotHarness) -> list[tuple[str, str, int, int, str]]:
    """(who, kind, year, points, the reward's reason), as the ledger holds them."""
    with bot.runtime.store.read_session() as session:
        rows = session.exec(select(Celebration).order_by(Celebration.id)).all()
        out = []
        for row in rows:
            reward = session.get(Reward, row.reward_id)
            assert reward is not None and reward.source == "celebration"
            full = reward_repo.details_by_id(session, row.reward_id)
            (recipient,) = full.recipients
            out.append(
                (
                    recipient.member.slack_user_id,
                    row.kind,
                    row.year,
                    recipient.points,
                    reward.citation,
                )
            )
        return out


def announced(bot: BotHarness) -> list[str]:
    """The announcements' lines saying whose occasion it is, in order."""
    return [t.splitlines()[0] for t in bot.channel_texts(CHANNEL)]


def sent_to(bot: BotHarness) -> list[tuple[str, int]]:
    out = []
    for send in bot.sends():
        variables = send["variables"]
        recipients = variables.get("recipients") or variables["recipients_data"]["recipients"]
        out += [
            (r["to_email"], int(float(r.get("points") or r.get("amount") or 0))) for r in recipients
        ]
    return out


def test_each_person_at_nine_in_their_time_zone_once_across_runs_and_a_restart(
    clock: time_machine.Coordinates, make_bot: Callable[..., BotHarness]
) -> None:
    bot = make_bot(**SETTINGS)
    # T0 is Monday 2 March 2026, 08:00 UTC: 09:00 in Madrid, 17:00 in Tokyo, midnight in LA.
    imported(
        bot,
        "person,birthday,start_date\n"
        f"{MARIA},03-02,\n"
        "chen@acme.test,1985-03-02,\n"  # by email; the year is never kept
        f"{BOB},03-02,\n",
    )
    clock.move_to(T0 - timedelta(hours=9))  # 08:00 on the 2nd in Tokyo
    assert run_job(bot, JOB).detail == "0 celebration(s) sent"
    clock.move_to(T0 - timedelta(hours=8))  # 09:00 in Tokyo
    assert run_job(bot, JOB).detail == "1 celebration(s) sent (1 birthday)"
    bot.wait(lambda: bot.channel_texts(CHANNEL))
    clock.move_to(T0 - timedelta(minutes=15))  # 08:45 in Madrid
    assert run_job(bot, JOB).detail == "0 celebration(s) sent; 1 already sent"

    clock.move_to(T0)  # 09:00 in Madrid
    assert run_job(bot, JOB).detail == "1 celebration(s) sent (1 birthday); 1 already sent"
    bot.wait(lambda: len(bot.channel_texts(CHANNEL)) == 2)
    bot.settle()
    assert announced(bot) == [
        f"🎉 Happy birthday, <@{CHEN}>!",
        f"🎉 Happy birthday, <@{MARIA}>!",
    ]
    (dm,) = bot.dm_texts(MARIA)
    assert dm.startswith("🎉 Happy birthday! The company sent you 50 points.")
    assert "1985" not in " ".join(bot.dm_texts(CHEN) + bot.channel_texts(CHANNEL))
    assert bot.dm_texts(BOB) == []
    assert sorted(sent_to(bot)) == [("chen@acme.test", 50), ("maria@acme.test", 50)]

    assert run_job(bot, JOB).detail == "0 celebration(s) sent; 2 already sent"

    clock.move_to(T0 + timedelta(hours=9))  # 09:00 in Los Angeles
    assert run_job(bot, JOB).detail == "1 celebration(s) sent (1 birthday); 2 already sent"
    bot.wait(lambda: bot.dm_texts(BOB))

    restarted = make_bot(**SETTINGS)  # a new process on the same ledger
    clock.shift(timedelta(minutes=15))
    assert run_job(restarted, JOB).detail == "0 celebration(s) sent; 3 already sent"
    restarted.settle()
    assert sorted(p[:4] for p in paid(restarted)) == [
        (BOB, "birthday", 2026, 50),
        (CHEN, "birthday", 2026, 50),
        (MARIA, "birthday", 2026, 50),
    ]
    assert len(restarted.sends()) == 3
    assert len(restarted.channel_texts(CHANNEL)) == 3
    # the company paid: the bot's own user gave it, nobody's allowance counts it
    with restarted.runtime.store.read_session() as session:
        givers = {r.giver_id for r in session.exec(select(Reward)).all()}
    assert len(givers) == 1
    restarted.driver.command(f"<@{BOB}> 100 for the launch", user_id=MARIA)  # all her 100
    restarted.wait(lambda: any("Sent!" in t for t in restarted.dm_texts(MARIA)))
    with restarted.runtime.store.read_session() as session:  # the company is no top giver
        board = queries.leaderboard(
            session, since=T0 - timedelta(days=1), until=T0 + timedelta(days=1)
        )
        summary = queries.period_summary(
            session, since=T0 - timedelta(days=1), until=T0 + timedelta(days=1)
        )
    assert [g.member.slack_user_id for g in board.givers] == [MARIA]
    assert (summary.givers, summary.recipients, summary.rewards) == (1, 3, 4)
    assert sorted(r.member.slack_user_id for r in board.recipients) == [BOB, CHEN, MARIA]


def test_a_saturday_birthday_on_friday_and_the_anniversary_tier(
    clock: time_machine.Coordinates, make_bot: Callable[..., BotHarness]
) -> None:
    bot = make_bot(**SETTINGS)
    # Saturday 7 March 2026; Maria started on Saturday 7 March 2020 (6 years: the 5-year tier)
    imported(bot, f"person,birthday,start_date\n{MARIA},03-07,2020-03-07\n")
    friday_nine = datetime(2026, 3, 6, 8, 0, tzinfo=UTC)  # 09:00 in Madrid
    clock.move_to(friday_nine - timedelta(days=1))
    assert run_job(bot, JOB).detail == "0 celebration(s) sent"
    clock.move_to(friday_nine)
    assert run_job(bot, JOB).detail == "2 celebration(s) sent (1 anniversary, 1 birthday)"
    bot.wait(lambda: len(bot.dm_texts(MARIA)) == 2)
    bot.settle()
    assert sorted(announced(bot)) == [
        f"🎉 Happy 6-year work anniversary, <@{MARIA}>!",
        f"🎉 Happy birthday, <@{MARIA}>!",
    ]
    assert sorted(p[1:4] for p in paid(bot)) == [("anniversary", 2026, 500), ("birthday", 2026, 50)]
    clock.move_to(datetime(2026, 3, 7, 10, 0, tzinfo=UTC))  # the Saturday itself: nothing more
    assert run_job(bot, JOB).detail == "0 celebration(s) sent; 2 already sent"


def test_an_opted_out_person_gets_nothing_and_is_not_announced(
    clock: time_machine.Coordinates, make_bot: Callable[..., BotHarness]
) -> None:
    bot = make_bot(**SETTINGS)
    imported(bot, f"person,birthday\n{MARIA},03-02\n{CHEN},03-02\n")
    bot.driver.command("celebrations off", user_id=MARIA)
    bot.wait(lambda: any("celebrations are off for you" in t for t in bot.replies_to(MARIA)))
    bot.driver.command("celebrations", user_id=MARIA)
    bot.wait(lambda: any(t.startswith("Celebrations are off") for t in bot.replies_to(MARIA)))

    clock.move_to(T0)
    assert run_job(bot, JOB).detail == "1 celebration(s) sent (1 birthday); 1 opted out"
    bot.wait(lambda: bot.channel_texts(CHANNEL))
    bot.settle()
    assert announced(bot) == [f"🎉 Happy birthday, <@{CHEN}>!"]
    assert [t for t in bot.dm_texts(MARIA) if "birthday" in t] == []
    assert [p[0] for p in paid(bot)] == [CHEN]

    bot.driver.command("celebrations on", user_id=MARIA)
    bot.wait(lambda: any("celebrations are on for you" in t for t in bot.replies_to(MARIA)))
    clock.shift(timedelta(minutes=15))
    assert run_job(bot, JOB).detail == "1 celebration(s) sent (1 birthday); 1 already sent"


def test_admins_see_the_next_30_days_and_members_only_their_own_state(
    clock: time_machine.Coordinates, make_bot: Callable[..., BotHarness]
) -> None:
    bot = make_bot(**SETTINGS)
    imported(
        bot,
        "person,birthday,start_date\n"
        f"{MARIA},03-07,2025-03-20\n"
        "new@acme.test,,2026-03-16\n"
        f"{BOB},05-01,\n",
    )
    bot.driver.command("celebrations", user_id=ADMIN)
    (listing,) = bot.wait(lambda: [t for t in bot.replies_to(ADMIN) if "next 30 days" in t])
    assert listing.splitlines()[2:] == [
        f"• 6 March 2026 · <@{MARIA}> · birthday · 50 points",
        "• 16 March 2026 · new@acme.test (not matched yet) · welcome · 25 points",
        f"• 20 March 2026 · <@{MARIA}> · 1-year work anniversary · 100 points",
    ]
    bot.driver.command("celebrations", user_id=BOB)
    (mine,) = bot.wait(lambda: [t for t in bot.replies_to(BOB) if "Celebrations are" in t])
    assert mine.startswith("Celebrations are on for you. The company celebrates your birthday")
    assert "March" not in mine and MARIA not in mine
    bot.driver.command("celebrations maybe", user_id=BOB)
    bot.wait(lambda: any("Try `/reward celebrations off`" in t for t in bot.replies_to(BOB)))


def test_with_points_in_the_bot_a_celebration_credits_the_ledger_and_xoxoday_gets_nothing(
    clock: time_machine.Coordinates, make_bot: Callable[..., BotHarness]
) -> None:
    bot = make_bot(**SETTINGS, REWARD_POINT_SYSTEM="storefront", STOREFRONT_API_KEY="k")
    imported(bot, f"person,birthday\n{MARIA},03-02\n")
    clock.move_to(T0)
    assert run_job(bot, JOB).detail == "1 celebration(s) sent (1 birthday)"
    bot.wait(lambda: bot.dm_texts(MARIA))
    bot.settle()
    assert bot.sends() == []
    with bot.runtime.store.read_session() as session:
        member = member_repo.get_member_by_slack_id(session, slack_user_id=MARIA)
        assert member is not None and member.id is not None
        balance = points_repo.balance(session, member_id=member.id, today=T0.date())
    assert balance.available == 50 * points_repo.CENTS
    assert "Redeem" in bot.dm_texts(MARIA)[0]


def test_a_celebration_xoxoday_refuses_goes_to_the_admins_not_to_the_bot(
    clock: time_machine.Coordinates, make_bot: Callable[..., BotHarness]
) -> None:
    bot = make_bot(**SETTINGS)
    imported(bot, f"person,birthday\n{MARIA},03-02\n")
    bot.sandbox.faults.set("sendBalance", error="PLE10001", count=1)
    clock.move_to(T0)
    assert run_job(bot, JOB).detail == "1 celebration(s) sent (1 birthday)"
    (note,) = bot.wait(lambda: [t for t in bot.dm_texts(ADMIN) if "wasn't sent" in t])
    assert note.startswith(f"❌ The celebration for <@{MARIA}> (Happy birthday, 50 points)")
    assert "Give it by hand with `/reward`" in note
    bot.settle()
    assert bot.channel_texts(CHANNEL) == []
    assert [t for t in bot.dm_texts(MARIA) if "birthday" in t] == []
    assert bot.fake.dms_to("UREWARDB") == []
    clock.shift(timedelta(minutes=15))  # failed is paid as far as once goes: not again
    assert run_job(bot, JOB).detail == "0 celebration(s) sent; 1 already sent"


def test_dates_in_slack_profile_fields_are_read_daily_and_celebrated(
    clock: time_machine.Coordinates, make_bot: Callable[..., BotHarness]
) -> None:
    bot = make_bot(**SETTINGS, REWARD_CELEBRATION_PROFILE_FIELDS="birthday=Xf01BDAY")
    bot.fake.workspace.set_profile_fields(MARIA, {"Xf01BDAY": "1991-03-02", "Xf07TITLE": "CTO"})
    bot.fake.workspace.set_profile_fields(BOB, {"Xf01BDAY": "<b>soon</b>"})
    clock.move_to(T0 - timedelta(hours=3))  # 05:00 UTC: the daily read at 05:30 (UTC) is due
    detail = run_job(bot, "celebration-profiles").detail
    assert detail.endswith(
        "1 with dates: 1 added, 0 updated; 1 value(s) that aren't dates left as they were"
    )
    clock.move_to(T0)  # 09:00 in Madrid
    assert run_job(bot, JOB).detail == "1 celebration(s) sent (1 birthday)"
    bot.wait(lambda: announced(bot) == [f"🎉 Happy birthday, <@{MARIA}>!"])
    assert "1991" not in " ".join(bot.dm_texts(MARIA))
    read = [c["args"].get("user") for c in bot.fake.calls_to("users.profile.get")]
    assert MARIA in read and len(read) == len(set(read))  # once a person


def test_with_no_kind_on_members_hear_so_and_admins_what_turns_them_on(
    make_bot: Callable[..., BotHarness],
) -> None:
    bot = make_bot()
    bot.driver.command("celebrations", user_id=BOB)
    (said,) = bot.wait(lambda: [t for t in bot.replies_to(BOB) if "Celebrations are" in t])
    assert "doesn't celebrate birthdays or work anniversaries with points right now" in said
    bot.driver.command("celebrations", user_id=ADMIN)
    (told,) = bot.wait(lambda: [t for t in bot.replies_to(ADMIN) if "Celebrations are off" in t])
    assert "REWARD_BIRTHDAY_POINTS" in told
    assert run_job(bot, JOB).detail.startswith("no celebration has points")

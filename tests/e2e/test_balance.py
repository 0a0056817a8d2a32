"""`/reward balance` end to end: points from Xoxoday, allowance from the ledger, the admin's
account balance and low-balance warning, and plain words when Xoxoday can't be reached."""

from __future__ import annotations

from tests.e2e.harness import ADMIN, BOB, CHEN, MARIA, NOMAIL, BotHarness


def ask(bot: BotHarness, text: str, *, user: str, marker: str) -> str:
    """Run `/reward text` as `user` and return the first new reply containing `marker`."""
    before = len(bot.replies_to(user))
    response = bot.driver.command(text, user_id=user)
    assert response.status_code == 200
    found = bot.wait(lambda: [t for t in bot.replies_to(user)[before:] if marker in t])
    return found[0]


def give(bot: BotHarness, text: str, *, giver: str, recipient: str) -> None:
    before = len(bot.dm_texts(recipient))
    bot.driver.command(text, user_id=giver)
    bot.wait(lambda: len(bot.dm_texts(recipient)) > before)


def test_points_to_redeem_and_allowance_left(bot: BotHarness) -> None:
    give(bot, f"<@{MARIA}> 100 great demo", giver=BOB, recipient=MARIA)
    give(bot, f"<@{MARIA}> <@{CHEN}> 50 smooth launch", giver=BOB, recipient=CHEN)

    maria = ask(bot, "balance", user=MARIA, marker="to redeem")
    assert "You have *150 points* to redeem" in maria
    assert "You can still give *1,000 points* this month" in maria
    assert "Company account" not in maria  # members don't see the account

    bob = ask(bot, "balance", user=BOB, marker="this month")
    assert "no points to redeem yet" in bob
    assert "You can still give *800 points* this month (of 1,000; 200 given)" in bob
    assert "It resets on 1 " in bob

    bot.sandbox.state.redeem("maria@acme.test", 30)
    after = ask(bot, "balance", user=MARIA, marker="*120 points*")
    assert "You have *120 points* to redeem" in after


def test_the_ack_comes_first_and_the_answer_follows_once(bot: BotHarness) -> None:
    bot.sandbox.faults.set("user_balance", latency_ms=1000)
    response = bot.driver.command("balance", user_id=MARIA)
    assert response.status_code == 200 and response.text == ""
    assert not [t for t in bot.replies_to(MARIA) if "to redeem" in t]  # Xoxoday not done yet
    bot.wait(lambda: [t for t in bot.replies_to(MARIA) if "to redeem" in t])


def test_admin_sees_the_account_and_a_low_balance_warning(make_bot) -> None:
    bot = make_bot(REWARD_LOW_BALANCE="200000")
    text = ask(bot, "balance", user=ADMIN, marker="Company account")
    assert "*Company account:* 100,000.00 INR left at Xoxoday." in text
    assert "under the low-balance mark of 200,000.00 INR" in text
    assert "As an admin, you have no monthly limit on giving." in text


def test_admin_without_a_low_balance_mark_gets_no_warning(bot: BotHarness) -> None:
    text = ask(bot, "balance", user=ADMIN, marker="Company account")
    assert "100,000.00 INR" in text
    assert "low-balance" not in text


def test_no_allowance_means_no_limit(make_bot) -> None:
    bot = make_bot(REWARD_ALLOWANCE="0")
    text = ask(bot, "balance", user=BOB, marker="limit")
    assert "There's no monthly limit on what you give." in text


def test_xoxoday_unreachable_is_said_plainly(bot: BotHarness) -> None:
    bot.sandbox.faults.set("user_balance", error="PIPE10017")
    bot.sandbox.faults.set("getBalance", error="PIPE10017")
    member = ask(bot, "balance", user=MARIA, marker="couldn't")
    assert "I couldn't look up your points right now. Please try again in a minute." in member
    assert "You can still give *1,000 points* this month" in member  # the ledger still answers
    admin = ask(bot, "balance", user=ADMIN, marker="Company account")
    assert "I couldn't get the balance from Xoxoday right now." in admin
    for text in (member, admin):
        assert "Traceback" not in text and "PIPE10017" not in text and "ref `" not in text


def test_someone_without_an_email_is_told_why(bot: BotHarness) -> None:
    text = ask(bot, "balance", user=NOMAIL, marker="email")
    assert "no points to redeem yet" in text
    assert "Slack has no email address for you" in text
    assert not [r for r in bot.sandbox.requests if r["operation"] == "user_balance"]


def test_extra_words_are_refused_in_the_ack(bot: BotHarness) -> None:
    response = bot.driver.command("balance please", user_id=MARIA)
    assert "doesn't take anything after it" in response.text
    bot.settle()
    assert not [r for r in bot.sandbox.requests if r["operation"] == "user_balance"]


def test_in_sandbox_mode_the_answer_says_so(make_bot) -> None:
    bot = make_bot(PLUM_BASE_URL="sandbox")
    assert bot.settings.uses_sandbox
    text = ask(bot, "balance", user=ADMIN, marker="Company account")
    assert "🧪 Sandbox: no real reward was sent." in text


def test_a_slow_xoxoday_gets_an_answer_at_once_and_the_figure_after(make_bot) -> None:
    """Xoxoday takes 3 s: the answer does not wait for it. It shows what the ledger knows and
    says the figure follows; one more message brings it."""
    bot = make_bot(plum_timeout=10.0)
    give(bot, f"<@{MARIA}> 40 quick fix", giver=BOB, recipient=MARIA)
    bot.sandbox.faults.set("user_balance", latency_ms=3000)
    before = len(bot.replies_to(MARIA))
    bot.driver.command("balance", user_id=MARIA)
    first = bot.wait(lambda: bot.replies_to(MARIA)[before:])[0]
    assert "Xoxoday is slow to answer right now" in first
    assert "I'll send the figure here as soon as it does." in first
    assert "You can still give *1,000 points* this month" in first  # the ledger answers
    assert "to redeem" not in first
    later = bot.wait(lambda: bot.replies_to(MARIA)[before + 1 :])
    assert len(bot.replies_to(MARIA)[before:]) == 2
    assert "You have *40 points* to redeem" in later[0]
    assert "this month" not in later[0]  # only what Xoxoday answered


def test_a_slow_company_balance_follows_for_the_admin(make_bot) -> None:
    bot = make_bot(plum_timeout=10.0)
    bot.sandbox.faults.set("getBalance", latency_ms=3000)
    before = len(bot.replies_to(ADMIN))
    bot.driver.command("balance", user_id=ADMIN)
    first = bot.wait(lambda: bot.replies_to(ADMIN)[before:])[0]
    assert "*Company account:* Xoxoday is slow to answer right now" in first
    assert "As an admin, you have no monthly limit on giving." in first
    later = bot.wait(lambda: bot.replies_to(ADMIN)[before + 1 :])
    assert "*Company account:* 100,000.00 INR left at Xoxoday." in later[0]
    assert len(bot.replies_to(ADMIN)[before:]) == 2

"""`rewardbot check`: can the bot work? One line per check, as it goes, each saying what it
found, and on a failing line what to do; exit 1 when any fails.

In order: the settings serve needs, the keys and the public URL (what `serve` itself checks
before it starts, `bot.checks.offline`); the database and the intake journal, and whether the
keys fit them (`bot.checks.ledger`); Slack: the bot token, its scopes against manifest.yml's,
the app token in Socket Mode, the admins (`bot.checks.slack`); Xoxoday: a token, the balance
(as `rewardbot plum check`, which it runs), the sender email. It creates no database and no
key file; the one write is a heartbeat row in a ledger that is there, and, as `plum check`
does, a new Plum access token kept in the bot's database when it has one. Only its own lines
are printed (`rewardbot -v check` adds the logs); no secret ever is.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence

from bot.checks import Line, Status, fail, ok, warn
from bot.settings import ConfigError, Settings, load_settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "check",
        help="say, line by line, whether the bot can work (exit 1 if it can't)",
        description="Check, line by line, whether the bot can work: the settings, the keys, "
        "the public URL, the database and its journal, Slack (the bot token, its scopes, the "
        "app token in Socket Mode, the admins) and Xoxoday (a token, the balance, the sender "
        "email). Each failing line says what to do; the exit status is 1 when one fails.",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
    except ConfigError as err:  # nothing else can be checked with a setting that can't be read
        return _summary([_say(fail("Settings", str(err)))])
    from bot.commands.plum import quiet_logs

    with quiet_logs(unless=bool(getattr(args, "verbose", False))):
        return _summary([_say(line) for line in checks(settings)])


def checks(settings: Settings) -> Iterator[Line]:
    """Every check's lines, in order, each made when it is reached."""
    from bot.checks.ledger import database
    from bot.checks.offline import keys, public_url, reactions, settings_present
    from bot.checks.slack import slack

    yield settings_present(settings)
    yield keys(settings)
    url = public_url(settings)
    if url is not None:
        yield url
    emoji = reactions(settings)
    if emoji is not None:
        yield emoji
    yield from database(settings)
    yield from slack(settings)
    yield from xoxoday(settings)


def xoxoday(settings: Settings) -> list[Line]:
    """`rewardbot plum check`'s findings as lines, then who points are sent from."""
    from bot.commands.plum import check_plum

    report = Lines()
    try:
        check_plum(settings, report)
    except ConfigError as err:  # a setting it needs is missing (the Settings line says so too)
        report.lines.append(fail("Xoxoday", str(err)))
    return [*report.lines, sender(settings)]


def sender(settings: Settings) -> Line:
    """Who Xoxoday sends points from (no Xoxoday call checks it; the rule is
    `Settings.sender_email`)."""
    if settings.uses_sandbox and not settings.PLUM_SENDER_EMAIL:
        return ok(
            "Xoxoday",
            "points are sent as the sandbox's own sender (a real account needs PLUM_SENDER_EMAIL)",
        )
    try:
        email = settings.sender_email
    except ConfigError as err:
        return fail("Xoxoday", str(err))
    return ok(
        "Xoxoday",
        f"points are sent from {email} (PLUM_SENDER_EMAIL; no Xoxoday call checks it: it must "
        "be your account's super admin email)",
    )


class Lines:
    """A Plum check's report (`bot.commands.plum.Report`) as `Xoxoday` lines."""

    def __init__(self) -> None:
        self.lines: list[Line] = []

    def ok(self, text: str, *, label: str = "") -> None:
        self.lines.append(ok("Xoxoday", text))

    def warn(self, text: str) -> None:
        self.lines.append(warn("Xoxoday", text))

    def fail(self, lines: Sequence[str], *, label: str = "") -> None:
        self.lines.append(fail("Xoxoday", " ".join(lines)))


def _say(line: Line) -> Line:
    print(line, flush=True)
    return line


def _summary(lines: list[Line]) -> int:
    failures = sum(1 for line in lines if line.status is Status.FAIL)
    if failures:
        checks = "check fails" if failures == 1 else "checks fail"
        print(f"{failures} {checks}: do what the FAIL lines say, then run `rewardbot check` again.")
        return 1
    warnings = any(line.status is Status.WARN for line in lines)
    print("The bot can work" + (" (read the warn lines)." if warnings else "."))
    return 0

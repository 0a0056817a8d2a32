"""What `serve`, `clock` and `jobs run` check before anything starts, after the settings they
can't start without (`bot.settings.missing_for_serve`): the checks of `rewardbot check` that need
no network. They refuse with the first failing line (`bot.commands.running`)."""

from __future__ import annotations

from bot.checks.ledger import keys_for_the_ledger
from bot.checks.lines import Line
from bot.checks.offline import keys, public_url, reactions
from bot.settings import Settings


def at_start(settings: Settings) -> list[Line]:
    """The keys (usable; for a SQLite ledger written with keys, there), the public URL, the
    reward emoji."""
    lines = [
        keys(settings),
        public_url(settings),
        reactions(settings),
        keys_for_the_ledger(settings),
    ]
    return [line for line in lines if line is not None]

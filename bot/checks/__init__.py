"""Whether the bot can work, one check at a time, each said in a line a person acts on.

A check is a function returning `Line`s: `ok`, `warn` (it works, but read this), `FAIL` (it
won't work; the line says what to do) or `skip` (not checked, because something it needs
failed). `rewardbot check` runs them all (`bot.commands.check`); `serve`, `clock` and
`jobs run` run the ones that need no network before anything starts (`start.at_start`) and
refuse with the first failing line. No line ever holds a secret.

- `offline`: the settings serve needs, the keys, the public URL (no network, nothing opened);
- `ledger`: the database and the intake journal, and whether the keys fit them;
- `slack`: the bot token (workspace, bot user, scopes), the app token in Socket Mode, the
  admins.
Xoxoday is checked as `rewardbot plum check` does (`bot.commands.plum.check_plum`).
"""

from bot.checks.lines import Line, Status, fail, failed, ok, skip, warn

__all__ = ["Line", "Status", "fail", "failed", "ok", "skip", "warn"]

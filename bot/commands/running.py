"""Starting the bot for a command that runs it (`serve`, `clock`, `jobs run`).

What the command needs and is not set is refused in one line naming all of it, before anything
is opened (`bot.settings.missing_for_serve`); then the other checks that need no network
(`bot.checks.start.at_start`: the keys, the public URL, as `rewardbot check` says them), the
first that fails refused in one line. The embedded Plum sandbox is started only when
asked for by name (PLUM_BASE_URL=sandbox), with a warning that nothing real is paid; then the
bot is started through the one start-up (`bot.startup.start_bot`).
"""

from __future__ import annotations

from typing import Any

from bot.checks import failed
from bot.checks.start import at_start
from bot.settings import ConfigError, Settings, missing_for_serve, serve_refusal
from bot.startup import Bot, start_bot


def start_for(
    settings: Settings,
    *,
    command: str,
    slack_requests: bool,
    port: int | None = None,
    **options: Any,
) -> Bot:
    """Start the bot for `command`; `port`: where the web app will listen on this host (the
    embedded sandbox's store and webhooks call it there)."""
    missing = missing_for_serve(settings, slack_requests=slack_requests)
    if missing:
        raise ConfigError(serve_refusal(missing, command=command))
    refused = failed(at_start(settings))
    if refused:
        raise ConfigError(refused[0].text)
    if not settings.uses_sandbox:
        return start_bot(settings, slack_requests=slack_requests, **options)
    from bot.simulators.embedded import EmbeddedSandbox  # asked for by name

    sandbox = EmbeddedSandbox.start(settings)
    bot = start_bot(settings, addon=sandbox.addon(), slack_requests=slack_requests, **options)
    sandbox.connect(f"http://127.0.0.1:{port or settings.PORT}")
    return bot

"""The checks that need no network and open nothing: what `serve`, `clock` and `jobs run` run
before anything starts (`bot.checks.start`), and the first lines of `rewardbot check`.

- the settings serve can't start without (`bot.settings.missing_for_serve`, the one rule);
- AUDIT_KEY and ENCRYPTION_KEY: usable, or kept in a key file (`storage.keys.check_keys`);
- PUBLIC_URL in HTTP mode: the bot's own https address, since the single-use Redeem links it
  carries are bearer secrets (plain http only on this machine, for a trial);
- REWARD_REACTIONS: no emoji worth more than a reward may give (it would always be refused).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from pydantic import SecretStr

from bot.checks.lines import Line, fail, ok, warn
from bot.settings import Settings, missing_for_serve, serve_refusal
from storage.errors import KeyConfigError
from storage.keys import check_keys

MAKE_KEYS = "README: Configuration says how to make them"


def settings_present(settings: Settings, *, slack_requests: bool = True) -> Line:
    """Everything `serve` (`slack_requests=False`: `clock`, `jobs run`) can't start without."""
    missing = missing_for_serve(settings, slack_requests=slack_requests)
    if missing:
        return fail("Settings", serve_refusal(missing))
    if not slack_requests:
        return ok("Settings", "everything the bot needs is set")
    mode = "Socket Mode, SLACK_APP_TOKEN" if settings.socket_mode else "HTTP mode"
    return ok("Settings", f"everything serve needs is set ({mode})")


def keys(settings: Settings) -> Line:
    """AUDIT_KEY and ENCRYPTION_KEY: set and usable; or, on SQLite, kept in the key file beside
    the database (a warning: production sets both, and the file must be backed up)."""
    try:
        plan = check_keys(
            database_url=settings.DATABASE_URL,
            audit_key=secret_value(settings.AUDIT_KEY),
            encryption_key=secret_value(settings.ENCRYPTION_KEY),
        )
    except KeyConfigError as err:
        return fail("Keys", str(err))
    if not plan.unset:
        return ok("Keys", "AUDIT_KEY and ENCRYPTION_KEY are set and usable")
    names = " and ".join(plan.unset)
    key_file = plan.key_file.absolute() if plan.key_file is not None else None
    verb = "is" if len(plan.unset) == 1 else "are"
    if key_file is None:
        return warn(
            "Keys",
            f"{names} {verb} not set: an in-memory database gets throwaway keys, lost when the "
            "bot stops.",
        )
    if plan.exists:
        return warn(
            "Keys",
            f"{names} {verb} not set: the bot uses the ones generated in {key_file}. "
            "Back that file up apart from the database, or copy its values into the "
            "environment: without them the audit trail can't be verified.",
        )
    return warn(
        "Keys",
        f"{names} {verb} not set: serve generates them into {key_file} at its first "
        f"start. Set both before the first reward ({MAKE_KEYS}).",
    )


LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def public_url(settings: Settings) -> Line | None:
    """PUBLIC_URL, where Redeem buttons open single-use links (HTTP mode only); None: nothing
    to say (Socket Mode without one)."""
    value = settings.PUBLIC_URL
    if settings.socket_mode:
        if value:
            return warn(
                "Public URL",
                "PUBLIC_URL is not used in Socket Mode: Redeem buttons are answered with a "
                "fresh link instead.",
            )
        return None
    if not value:
        return ok(
            "Public URL",
            "PUBLIC_URL is not set: Redeem buttons are answered with a fresh link (set it to "
            "the bot's https address to put the link on the button)",
        )
    parts = urlsplit(value)
    if parts.username or parts.password or parts.query or parts.fragment:
        return fail(
            "Public URL",
            "PUBLIC_URL must be the bot's address alone, like https://rewards.example.com "
            "(no user:password@, ?query or #fragment).",
        )
    if parts.path.rstrip("/").endswith("/slack/events"):
        return fail(
            "Public URL",
            "PUBLIC_URL is the bot's root address, without /slack/events: "
            f"{value.removesuffix('/slack/events')}",
        )
    if parts.scheme == "https":
        return ok("Public URL", f"{value}: Redeem buttons open single-use links there")
    if _loopback(parts.hostname or ""):
        return warn(
            "Public URL",
            f"{value} is plain http on this machine: fine for a trial, but only this machine "
            "can open it.",
        )
    return fail(
        "Public URL",
        f"PUBLIC_URL must be https: the single-use Redeem links on it must not travel in "
        f"clear. Serve the bot behind a reverse proxy that terminates TLS (README: Go live) "
        f"and set PUBLIC_URL=https://{parts.netloc}{parts.path}",
    )


def reactions(settings: Settings) -> Line | None:
    """What each reward emoji gives (None: reactions give nothing). An emoji worth more than
    REWARD_MAX_PER_REWARD would be refused every time; one worth the approval threshold or
    more waits for an approver every time."""
    table = settings.REWARD_REACTIONS
    if not table:
        return None
    over = sorted(name for name, worth in table.items() if worth > settings.REWARD_MAX_PER_REWARD)
    if over:
        return fail(
            "Reactions",
            f"REWARD_REACTIONS gives more than REWARD_MAX_PER_REWARD "
            f"({settings.REWARD_MAX_PER_REWARD}) for {', '.join(over)}: every such reaction "
            "would be refused. Lower it or raise REWARD_MAX_PER_REWARD.",
        )
    listed = ", ".join(f":{name}: {worth}" for name, worth in table.items())
    waits = sorted(
        name for name, worth in table.items() if worth >= settings.REWARD_APPROVAL_THRESHOLD
    )
    if waits:
        return warn(
            "Reactions",
            f"{listed}; {', '.join(waits)} reach REWARD_APPROVAL_THRESHOLD: every such reaction "
            "waits for an approver.",
        )
    undo = settings.REWARD_UNDO_SECONDS
    held = f"held {undo} s before they are sent" if undo else "sent at once (no undo window)"
    return ok("Reactions", f"{listed}; {held}")


def _loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def secret_value(value: SecretStr | None) -> str | None:
    """A secret setting's value, to hand to what checks it (never to print)."""
    return value.get_secret_value() if value is not None else None

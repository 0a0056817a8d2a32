"""PLUM_BASE_URL=sandbox: the bot against a Plum sandbox in its own process, paying nobody.

Only asked for by name (the commands that run the bot start it when PLUM_BASE_URL is `sandbox`;
the playground always does). `EmbeddedSandbox.start(settings)` starts the sandbox on a loopback
port, with its state kept beside the ledger (so it survives restarts), and warns that nothing
real is paid. Its `addon()` is what the start-up (`bot.startup.AddOn`) is given:

- the settings the bot runs with: the sandbox's client id and secret, and what a real account
  would need set (the sender email, StoreFront's api_key, the webhook's key) filled in when
  unset; the ledger's settings log keeps PLUM_BASE_URL=sandbox as configured;
- the Plum client's base URL: the sandbox's;
- the sandbox notice on every message and view people see (`bot.simulators.sandbox_notice`):
  the Slack client, and Bolt's `ack`, `respond` and `client`;
- `"sandbox": true` in every /healthz report.

`connect(bot_url)` points the sandbox's store (points in the bot) and its delivery webhooks at
the bot's web app, once it is known where that is served.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import SecretStr

from bot.settings import Settings
from bot.simulators.plum_sandbox import SandboxServer
from bot.simulators.sandbox_notice import notice_middleware, noticing_client
from bot.startup import AddOn
from storage.urls import beside_database

log = logging.getLogger(__name__)

CLIENT_ID = "sandbox"
CLIENT_SECRET = "sandbox"
SENDER_EMAIL = "rewards-admin@sandbox.example"
STOREFRONT_API_KEY = "sandbox-storefront-api-key"
WEBHOOK_API_KEY = "sandbox-webhook-api-key"
WARNING = (
    "PLUM_BASE_URL=sandbox: rewards go to an embedded Plum sandbox at %s; nothing real is paid. "
    "Set PLUM_BASE_URL to Xoxoday's API to pay people."
)


def state_path(settings: Settings) -> Path:
    """Beside a SQLite ledger (`rewardbot.db` → `rewardbot.sandbox.json`), else here."""
    return beside_database(settings.DATABASE_URL, ".sandbox.json") or Path("rewardbot.sandbox.json")


def credentials(settings: Settings) -> tuple[str, str]:
    """The client id and secret the sandbox is started with (and the bot uses): PLUM_CLIENT_ID
    and PLUM_CLIENT_SECRET when set, else the sandbox's own."""
    secret = settings.PLUM_CLIENT_SECRET.get_secret_value() if settings.PLUM_CLIENT_SECRET else ""
    return settings.PLUM_CLIENT_ID or CLIENT_ID, secret or CLIENT_SECRET


def sandbox_settings(settings: Settings) -> Settings:
    """`settings` as the bot runs with the sandbox: its credentials, and the defaults."""
    client_id, client_secret = credentials(settings)
    update: dict[str, object] = {
        "PLUM_CLIENT_ID": client_id,
        "PLUM_CLIENT_SECRET": SecretStr(client_secret),
        "PLUM_ACCESS_TOKEN": None,
        "PLUM_REFRESH_TOKEN": None,
    }
    if not settings.PLUM_SENDER_EMAIL:
        update["PLUM_SENDER_EMAIL"] = SENDER_EMAIL
    if settings.STOREFRONT_API_KEY is None or not settings.STOREFRONT_API_KEY.get_secret_value():
        update["STOREFRONT_API_KEY"] = SecretStr(STOREFRONT_API_KEY)
    if settings.plum_webhook_api_key is None:
        update["PLUM_WEBHOOK_API_KEY"] = SecretStr(WEBHOOK_API_KEY)
    return settings.model_copy(update=update)


class EmbeddedSandbox:
    def __init__(self, server: SandboxServer, settings: Settings) -> None:
        self.server = server
        self._settings = sandbox_settings(settings)

    @classmethod
    def start(cls, settings: Settings) -> EmbeddedSandbox:
        client_id, client_secret = credentials(settings)
        server = SandboxServer(
            client_id=client_id, client_secret=client_secret, state_path=state_path(settings)
        )
        server.start()
        log.warning(WARNING, server.base_url)
        return cls(server, settings)

    @property
    def settings(self) -> Settings:
        """The settings the bot runs with (`sandbox_settings`)."""
        return self._settings

    def connect(self, bot_url: str) -> None:
        """The sandbox's store spends from, and its webhooks go to, the bot at `bot_url` (its
        web app's root, no trailing slash)."""
        settings = self._settings
        if settings.storefront:
            self.server.connect_storefront(f"{bot_url}/storefront", settings.storefront_api_key)
        key = settings.plum_webhook_api_key
        if key is not None:
            self.server.connect_webhook(f"{bot_url}/webhooks/plum", key)

    def addon(self) -> AddOn:
        """What the start-up is given."""
        return AddOn(
            settings=lambda _: self._settings,
            plum_base_url=self.server.base_url,
            slack=noticing_client,
            middleware=[notice_middleware],
            health={"sandbox": True},
            stop=self.server.stop,
        )

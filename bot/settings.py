"""Settings: one class that reads the environment and `.env`.

The variable names are a public contract (README, `.env.example`, deploy tooling): do not rename.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal
from urllib.parse import urlparse

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = [
    "ConfigError",
    "Missing",
    "Settings",
    "load_log_format",
    "load_settings",
    "missing_for_serve",
    "serve_refusal",
]

SLACK_DEFAULT_API_URL = "https://slack.com/api/"
# The addresses Xoxoday's store calls a company's point system from (its StoreFront guide).
XOXODAY_ADDRESSES = {
    "xoxoday-production": ["52.76.120.90", "52.74.39.101", "52.221.42.47", "46.137.196.217"],
    "xoxoday-staging": [
        "50.112.248.135",
        "54.184.56.156",
        "52.24.158.163",
        "34.217.113.26",
        "54.185.176.191",
    ],
}
SANDBOX = "sandbox"


class ConfigError(Exception):
    """A setting has a bad value. The message names the variable and is safe to print: the
    command line prints it as one line (as it does storage's `SetupError`)."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


EMOJI_NAME_MAX_CHARS = 100
_EMOJI_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-+'")


def parse_reactions(text: str) -> dict[str, int]:
    """REWARD_REACTIONS (`taco=5,star=10`, colons around a name allowed) as {emoji: points}."""
    out: dict[str, int] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, sep, amount = part.partition("=")
        name = name.strip().strip(":").lower()
        if not sep or not name:
            raise ValueError(f"{part!r} is not emoji=points (like taco=5,star=10)")
        if len(name) > EMOJI_NAME_MAX_CHARS or not set(name) <= _EMOJI_CHARS or "::" in name:
            raise ValueError(f"{name!r} is not an emoji name (like taco, without colons)")
        amount = amount.strip()
        if not amount.isascii() or not amount.isdigit() or len(amount) > 9 or int(amount) < 1:
            raise ValueError(f"{name}: points must be a whole number of 1 or more, like {name}=5")
        if name in out:
            raise ValueError(f"{name} is listed twice")
        out[name] = int(amount)
    return out


def _check_url(name: str, value: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(
            f"{name} must be an http(s) URL such as https://example.com/, got {value!r}"
        )
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=True,
        validate_default=True,
        env_ignore_empty=True,
    )

    # Slack
    SLACK_BOT_TOKEN: SecretStr | None = None
    SLACK_SIGNING_SECRET: SecretStr | None = None
    SLACK_APP_TOKEN: SecretStr | None = None
    SLACK_API_URL: str = SLACK_DEFAULT_API_URL

    # Xoxoday Plum: its API (no default: a bot that pays nobody must be asked for by name,
    # PLUM_BASE_URL=sandbox, the embedded stand-in started by the commands that run the bot)
    PLUM_BASE_URL: str | None = None
    PLUM_CLIENT_ID: str | None = None
    PLUM_CLIENT_SECRET: SecretStr | None = None
    PLUM_ACCESS_TOKEN: SecretStr | None = None
    PLUM_REFRESH_TOKEN: SecretStr | None = None
    PLUM_SENDER_EMAIL: str | None = None
    # The root of Xoxoday's hosted store (StoreFront sign-ins); unset: follows PLUM_BASE_URL.
    STOREFRONT_STORE_URL: str | None = None
    # The `x-api-key` Xoxoday sends with its delivery webhook (POST /webhooks/plum), as set in
    # its dashboard; unset: the route is not served (404).
    PLUM_WEBHOOK_API_KEY: SecretStr | None = None

    # Where recipients' points live: "plum" (at Xoxoday, sent with sendBalance) or
    # "storefront" (in the bot's ledger, which Xoxoday's store reads and debits; seed 002).
    REWARD_POINT_SYSTEM: Literal["plum", "storefront"] = "plum"
    # StoreFront: GetProfile's api_key (given to Xoxoday's team), the addresses Xoxoday calls
    # from (empty: any; "xoxoday-production" and "xoxoday-staging" name Xoxoday's lists), and
    # how long an auth token minted for a store visit lives.
    STOREFRONT_API_KEY: SecretStr | None = None
    STOREFRONT_ALLOWED_IPS: Annotated[list[str], NoDecode] = []
    STOREFRONT_TOKEN_HOURS: float = Field(default=24, gt=0, le=24 * 30)
    # The bot's public address (https://rewards.example.com): Redeem buttons open a
    # short-lived link there. Unset (or in Socket Mode), a click is answered with a fresh link.
    PUBLIC_URL: str | None = None

    # Storage and web
    DATABASE_URL: str = "sqlite:///rewardbot.db"
    PORT: int = Field(default=3000, ge=1, le=65535)
    AUDIT_KEY: SecretStr | None = None
    AUDIT_ANCHOR_FILE: str | None = None  # audit checkpoints, outside the database
    # New audit events are anchored in that file within this many seconds (and at most once
    # per this many seconds per process).
    AUDIT_ANCHOR_SECONDS: float = Field(default=60, ge=0, le=3600)
    ENCRYPTION_KEY: SecretStr | None = None
    # GET /metrics: unset, open to whoever reaches the port; set, it needs
    # `Authorization: Bearer <METRICS_TOKEN>`.
    METRICS_TOKEN: SecretStr | None = None
    # The log's lines: text, or json (one object per line).
    LOG_FORMAT: Literal["text", "json"] = "text"

    # Rules
    REWARD_ADMINS: Annotated[list[str], NoDecode] = []
    REWARD_APPROVERS: Annotated[list[str], NoDecode] = []
    REWARD_APPROVAL_THRESHOLD: int = Field(default=500, ge=1)
    REWARD_MAX_PER_REWARD: int = Field(default=5000, ge=1)
    REWARD_ALLOWANCE: int = Field(default=1000, ge=0)
    REWARD_ALLOWANCE_CARRYOVER_MAX: int = Field(default=0, ge=0)
    REWARD_EXPIRY_MONTHS: int = Field(default=12, ge=1, le=120)
    REWARD_VALUES: Annotated[list[str], NoDecode] = []
    REWARD_ANNOUNCE_CHANNEL: str | None = None
    # Emoji that give when someone reacts with one to a person's message, and how many points
    # each gives its author: `taco=5,star=10` (names without colons). Empty: reactions give
    # nothing. Such a reward waits REWARD_UNDO_SECONDS before it is sent (removing the reaction
    # meanwhile takes it back).
    REWARD_REACTIONS: Annotated[dict[str, int], NoDecode] = {}
    REWARD_UNDO_SECONDS: int = Field(default=60, ge=0, le=3600)
    # `/reward` and the form are held the same window, with "Undo" on the giver's
    # confirmation. false: they are sent at once (only reactions and messages wait).
    REWARD_UNDO_COMMANDS: bool = True
    # Where a reaction's reward is announced: in the thread of the message reacted to, in the
    # channel (REWARD_ANNOUNCE_CHANNEL, else the message's), or nowhere (the DMs only).
    REWARD_ANNOUNCE: Literal["thread", "channel", "off"] = "thread"
    # `@maria ++ 20 for the release` in a channel the bot is in gives as `/reward` does (held
    # REWARD_UNDO_SECONDS: deleting the message meanwhile takes it back). false: never.
    REWARD_MESSAGE_GIVING: bool = True
    REWARD_LOW_BALANCE: Decimal | None = Field(default=None, ge=0)
    REWARD_TIMEZONE: str = "UTC"
    # Deliveries that never reached Xoxoday (unreachable, rate-limited) are retried this long.
    REWARD_DELIVERY_RETRY_HOURS: float = Field(default=24, gt=0, le=24 * 30)
    # Recipients per sendBalance call: rewards waiting for delivery go out together, up to
    # this many recipients a call (Xoxoday publishes no limit: see bot/rewards/batching.py);
    # 1 sends one reward per call.
    PLUM_SEND_BATCH_MAX: int = Field(default=50, ge=1, le=500)
    # Admins hear that Xoxoday can't be reached once it lasts this long.
    REWARD_PLUM_OUTAGE_ALERT_MINUTES: float = Field(default=5, gt=0, le=24 * 60)
    # A reward in doubt is settled from Xoxoday's payment report this long before the admins
    # are asked; 0 asks them at once (and the bot settles nothing by itself).
    REWARD_IN_DOUBT_ADMIN_MINUTES: float = Field(default=30, ge=0, le=7 * 24 * 60)

    # Gift cards and donations (placeOrder): who besides the admins may send them from the
    # company account, what each may spend a month (in the account's currency), and whether
    # Xoxoday also emails the code to the recipient.
    REWARD_GIFT_SENDERS: Annotated[list[str], NoDecode] = []
    REWARD_GIFT_MONTHLY_CAP: Decimal = Field(default=Decimal(5000), ge=0)
    REWARD_GIFT_NOTIFY_EMAIL: bool = False

    # Flags (bot/rewards/flags.py): patterns an admin hears about in one daily DM. Nothing is
    # held unless the rule is listed in REWARD_FLAG_HOLD (or an admin pressed "Hold future ones").
    REWARD_FLAG_RING_DAYS: int = Field(default=30, ge=1, le=366)
    REWARD_FLAG_RING_SHARE: float = Field(default=0.8, gt=0, le=1)
    REWARD_FLAG_RING_MIN_REWARDS: int = Field(default=3, ge=1)
    REWARD_FLAG_REPEAT_COUNT: int = Field(default=3, ge=2)
    REWARD_FLAG_REPEAT_DAYS: int = Field(default=30, ge=1, le=366)
    REWARD_FLAG_ALLOWANCE_MONTHS: int = Field(default=2, ge=1, le=24)
    REWARD_FLAG_BURST_COUNT: int = Field(default=3, ge=2)
    REWARD_FLAG_BURST_DAYS: int = Field(default=7, ge=1, le=366)
    REWARD_FLAG_BURST_NEAR: float = Field(default=0.8, gt=0, lt=1)
    REWARD_FLAG_HOLD: Annotated[list[str], NoDecode] = []
    REWARD_FLAG_CRON: str = "0 9 * * *"  # the admins' daily DM of new flags

    # Celebrations (bot/rewards/celebrations.py): points the company pays on birthdays, work
    # anniversaries (by years of service: "1=100,5=500,10=1000", the highest tier at or below
    # the years served) and a new hire's start date; 0 or unset turns a kind off. Announced in
    # REWARD_CELEBRATION_CHANNEL (unset: only the person's DM).
    REWARD_BIRTHDAY_POINTS: int = Field(default=0, ge=0, le=100_000)
    REWARD_WELCOME_POINTS: int = Field(default=0, ge=0, le=100_000)
    REWARD_ANNIVERSARY_POINTS: Annotated[dict[int, int], NoDecode] = {}
    REWARD_CELEBRATION_CHANNEL: str | None = None
    # Custom Slack profile fields holding dates, read daily: "birthday=Xf01ABC,start_date=Xf02DEF"
    REWARD_CELEBRATION_PROFILE_FIELDS: Annotated[dict[str, str], NoDecode] = {}

    # Scheduled jobs
    REWARD_SUMMARY_CRON: str = "0 9 * * mon"  # minute hour day month day-of-week
    REWARD_SUMMARY_CHANNEL: str | None = None
    REWARD_EXPIRY_REMIND_DAYS: Annotated[list[int], NoDecode] = [30, 7, 1]
    REWARD_APPROVAL_REMIND_HOURS: int = Field(default=24, ge=1)
    REWARD_APPROVAL_ESCALATE_HOURS: int = Field(default=72, ge=1)
    REWARD_APPROVAL_EXPIRE_DAYS: int = Field(default=14, ge=1)

    @field_validator("REWARD_ADMINS", "REWARD_APPROVERS", "REWARD_GIFT_SENDERS", mode="before")
    @classmethod
    def _user_ids(cls, value: object) -> object:
        ids = _split_csv(value)
        for uid in ids if isinstance(ids, list) else []:
            if uid[:1] not in ("U", "W") or not uid.isalnum():
                raise ValueError(f"{uid!r} is not a Slack user id (like U012ABCDEF)")
        return ids

    @field_validator("STOREFRONT_ALLOWED_IPS", mode="before")
    @classmethod
    def _addresses(cls, value: object) -> object:
        import ipaddress

        entries = _split_csv(value)
        out: list[str] = []
        for entry in entries if isinstance(entries, list) else []:
            named = XOXODAY_ADDRESSES.get(entry.lower())
            if named is not None:
                out += named
                continue
            try:
                out.append(str(ipaddress.ip_network(entry, strict=False)))
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an address, a network (like 52.76.120.0/24), "
                    "xoxoday-production or xoxoday-staging"
                ) from None
        return out if isinstance(entries, list) else entries

    @field_validator("PUBLIC_URL")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        return None if value is None else _check_url("PUBLIC_URL", value).rstrip("/")

    @field_validator("REWARD_FLAG_HOLD", mode="before")
    @classmethod
    def _flag_rules(cls, value: object) -> object:
        rules = _split_csv(value)
        known = ("ring", "repeat", "allowance", "burst")
        for rule in rules if isinstance(rules, list) else []:
            if rule.lower() not in known:
                raise ValueError(f"{rule!r} is not a flag rule ({', '.join(known)})")
        return [r.lower() for r in rules] if isinstance(rules, list) else rules

    @field_validator("REWARD_REACTIONS", mode="before")
    @classmethod
    def _reactions(cls, value: object) -> object:
        return parse_reactions(value) if isinstance(value, str) else value

    @field_validator("REWARD_VALUES", mode="before")
    @classmethod
    def _values(cls, value: object) -> object:
        values = _split_csv(value)
        if isinstance(values, list):
            return [v.lstrip("#").lower() for v in values]
        return values

    @field_validator("REWARD_EXPIRY_REMIND_DAYS", mode="before")
    @classmethod
    def _remind_days(cls, value: object) -> object:
        days = _split_csv(value) if isinstance(value, str) else value
        if isinstance(days, list):
            try:
                parsed = sorted({int(d) for d in days}, reverse=True)
            except (TypeError, ValueError):
                raise ValueError("must be whole numbers of days, like 30,7,1") from None
            if any(d < 1 for d in parsed):
                raise ValueError("days must be 1 or more, like 30,7,1")
            return parsed
        return days

    @field_validator("REWARD_ANNIVERSARY_POINTS", mode="before")
    @classmethod
    def _tiers(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        tiers: dict[int, int] = {}
        for part in value.split(","):
            if not part.strip():
                continue
            years, sep, points = str(part).partition("=")
            try:
                tier, amount = int(years), int(points)
            except ValueError:
                raise ValueError("must be years=points pairs, like 1=100,5=500,10=1000") from None
            if not sep or tier < 1 or amount < 0 or amount > 100_000:
                raise ValueError(
                    "must be years=points pairs with years 1 or more and points 0 to 100000, "
                    "like 1=100,5=500,10=1000"
                )
            if tier in tiers:
                raise ValueError(f"{tier} years is given twice")
            tiers[tier] = amount
        return tiers

    @field_validator("REWARD_CELEBRATION_PROFILE_FIELDS", mode="before")
    @classmethod
    def _profile_fields(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        fields: dict[str, str] = {}
        for part in value.split(","):
            if not part.strip():
                continue
            name, _, field_id = (p.strip() for p in part.partition("="))
            if name not in ("birthday", "start_date") or not re.fullmatch(
                r"Xf[A-Z0-9]{4,20}", field_id
            ):
                raise ValueError(
                    "must name the profile fields' ids, like birthday=Xf01ABCDEF,"
                    "start_date=Xf02GHIJKL (Slack's admin page for profile fields shows them)"
                )
            if name in fields:
                raise ValueError(f"{name} is given twice")
            fields[name] = field_id
        return fields

    @field_validator("REWARD_CELEBRATION_CHANNEL")
    @classmethod
    def _celebration_channel(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if value[:1] not in ("C", "G") or not value.isalnum():
            raise ValueError(f"{value!r} is not a channel id (like C012ABCDEF)")
        return value

    @field_validator("REWARD_SUMMARY_CRON", "REWARD_FLAG_CRON")
    @classmethod
    def _cron(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value)
        except ValueError as err:
            raise ValueError(
                f"must be a crontab line like '0 9 * * mon' (minute hour day month weekday): {err}"
            ) from None
        return value

    @field_validator("SLACK_API_URL")
    @classmethod
    def _slack_url(cls, value: str) -> str:
        value = _check_url("SLACK_API_URL", value)
        return value if value.endswith("/") else value + "/"

    @field_validator("PLUM_BASE_URL")
    @classmethod
    def _plum_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.strip().lower() == SANDBOX:
            return SANDBOX
        return _check_url("PLUM_BASE_URL", value.strip()).rstrip("/")

    @field_validator("STOREFRONT_STORE_URL")
    @classmethod
    def _store_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return _check_url("STOREFRONT_STORE_URL", value.strip()).rstrip("/")

    @field_validator("PLUM_SENDER_EMAIL")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value and ("@" not in value or value.startswith("@") or value.endswith("@")):
            raise ValueError(f"must be an email address, got {value!r}")
        return value

    @field_validator("DATABASE_URL")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql")):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @field_validator("REWARD_TIMEZONE")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use a name like Europe/Berlin)"
            ) from None
        return value

    # Derived views, kept here so callers never re-derive them differently.
    @property
    def uses_sandbox(self) -> bool:
        return self.PLUM_BASE_URL == SANDBOX

    @property
    def socket_mode(self) -> bool:
        return self.SLACK_APP_TOKEN is not None and bool(self.SLACK_APP_TOKEN.get_secret_value())

    @property
    def signing_secret(self) -> str:
        """The secret that verifies Slack's HTTP requests ("" when unset: nothing verifies)."""
        secret = self.SLACK_SIGNING_SECRET
        return secret.get_secret_value() if secret is not None else ""

    @property
    def storefront(self) -> bool:
        """Points live in the bot's ledger (REWARD_POINT_SYSTEM=storefront)."""
        return self.REWARD_POINT_SYSTEM == "storefront"

    @property
    def is_postgres(self) -> bool:
        return self.DATABASE_URL.startswith("postgresql")

    # What the bot needs, with the rule that says when (`missing_for_serve` lists them all).
    @property
    def sender_email(self) -> str:
        """The super admin email points are sent from."""
        if not self.PLUM_SENDER_EMAIL:
            raise ConfigError(
                "PLUM_SENDER_EMAIL: is required with a real Xoxoday account "
                "(the super admin email points are sent from)"
            )
        return self.PLUM_SENDER_EMAIL

    @property
    def storefront_api_key(self) -> str:
        """GetProfile's api_key, with REWARD_POINT_SYSTEM=storefront."""
        key = self.STOREFRONT_API_KEY
        if key is None or not key.get_secret_value():
            raise ConfigError(
                "STOREFRONT_API_KEY: is required with REWARD_POINT_SYSTEM=storefront (the key "
                "Xoxoday's store sends to GetProfile)"
            )
        return key.get_secret_value()

    @property
    def metrics_token(self) -> str | None:
        """The bearer token GET /metrics asks for; None: it asks for none."""
        token = self.METRICS_TOKEN
        return token.get_secret_value() if token is not None and token.get_secret_value() else None

    @property
    def plum_webhook_api_key(self) -> str | None:
        """The x-api-key of POST /webhooks/plum; None: the route is not served."""
        key = self.PLUM_WEBHOOK_API_KEY
        return key.get_secret_value() if key is not None and key.get_secret_value() else None


def _first_error_line(err: ValidationError) -> str:
    first = err.errors()[0]
    name = ".".join(str(p) for p in first.get("loc", ())) or "settings"
    msg = str(first.get("msg", "invalid value"))
    msg = msg.removeprefix("Value error, ")
    return f"{name}: {msg}"


def load_settings(**overrides: object) -> Settings:
    """Read settings; raise ConfigError with one line naming the bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as err:
        raise ConfigError(_first_error_line(err)) from None


class _LogSettings(BaseSettings):
    """LOG_FORMAT alone, read as `Settings` reads it, for the command line to set up logging
    before anything else (whatever else the settings hold, right or wrong)."""

    model_config = Settings.model_config
    LOG_FORMAT: Literal["text", "json"] = "text"


def load_log_format() -> Literal["text", "json"]:
    """LOG_FORMAT; a bad value raises ConfigError in one line."""
    try:
        return _LogSettings().LOG_FORMAT
    except ValidationError as err:
        raise ConfigError(_first_error_line(err)) from None


# --- what `rewardbot serve` refuses to start without ----------------------------------------


@dataclass(frozen=True, slots=True)
class Missing:
    """A variable that is not set and that `serve` needs: `why` says when, `instead` what
    would do in its place."""

    name: str
    why: str = ""
    instead: str = ""

    def __str__(self) -> str:
        return self.name + (f" (or {self.instead})" if self.instead else "")


def _is_set(value: SecretStr | str | None) -> bool:
    if isinstance(value, SecretStr):
        return bool(value.get_secret_value())
    return bool(value)


PLUM_URLS = (
    "to pay through Xoxoday: https://accounts.xoxoday.com/chef (production), "
    "https://stagingstores.xoxoday.com/chef (staging)"
)


ADMINS_WHY = "so that someone settles rewards in doubt and hears of problems"


def missing_for_serve(settings: Settings, *, slack_requests: bool = True) -> list[Missing]:
    """Every unset variable `serve` would refuse to start without, in the settings' order
    (`slack_requests=False`: `clock` and `jobs run`, which answer no Slack request).

    `serve` checks this before anything else, so one line names them all. The Slack rules and
    the admins are its own; the others are the rules of the places that would stop it one at a
    time later:
    `bot.plum.builder.build_client` (the Plum credentials), `Settings.sender_email` and
    `storage.keys.resolve_keys` (the keys with PostgreSQL). A test holds them together.
    """
    out: list[Missing] = []
    if not _is_set(settings.SLACK_BOT_TOKEN):
        out.append(Missing("SLACK_BOT_TOKEN"))
    if slack_requests and not settings.socket_mode and not _is_set(settings.SLACK_SIGNING_SECRET):
        out.append(
            Missing("SLACK_SIGNING_SECRET", "in HTTP mode", "SLACK_APP_TOKEN for Socket Mode")
        )
    if settings.PLUM_BASE_URL is None:
        out.append(Missing("PLUM_BASE_URL", PLUM_URLS, "sandbox, to try the bot paying nobody"))
    elif not settings.uses_sandbox:
        has_id = _is_set(settings.PLUM_CLIENT_ID)
        has_secret = _is_set(settings.PLUM_CLIENT_SECRET)
        why = ""
        if _is_set(settings.PLUM_REFRESH_TOKEN):
            why = "to refresh PLUM_REFRESH_TOKEN"
        elif not (has_id and has_secret) and not _is_set(settings.PLUM_ACCESS_TOKEN):
            why = "with a real Xoxoday account"
        if why:
            out += [
                Missing(n, why)
                for n, ok in (("PLUM_CLIENT_ID", has_id), ("PLUM_CLIENT_SECRET", has_secret))
                if not ok
            ]
        if not _is_set(settings.PLUM_SENDER_EMAIL):
            out.append(Missing("PLUM_SENDER_EMAIL", "with a real Xoxoday account"))
    if (
        settings.storefront
        and not settings.uses_sandbox
        and not _is_set(settings.STOREFRONT_API_KEY)
    ):
        out.append(Missing("STOREFRONT_API_KEY", "with REWARD_POINT_SYSTEM=storefront"))
    if settings.is_postgres:
        for name in ("AUDIT_KEY", "ENCRYPTION_KEY"):
            if not _is_set(getattr(settings, name)):
                out.append(Missing(name, "with PostgreSQL"))
    if not settings.REWARD_ADMINS:
        out.append(Missing("REWARD_ADMINS", ADMINS_WHY))
    return out


def serve_refusal(missing: list[Missing], *, command: str = "serve") -> str:
    """One line naming every missing variable (`rewardbot config` says why each is needed)."""
    names = [str(item) for item in missing]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    them = "it" if len(names) == 1 else "them"
    return (
        f"{command} can't start without {listed}; set {them} in .env or the environment "
        "(`rewardbot config` shows why)"
    )

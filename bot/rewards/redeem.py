"""Redeem: one click from Slack to Xoxoday's store, when points live in the bot.

To send a person to the store the bot mints an auth token for them (random, stored hashed,
bound to them, alive STOREFRONT_TOKEN_HOURS), asks Xoxoday for an ssoToken with it (the store
then calls the bot's endpoints with that token) and sends them to the store's SSO address.

Slack link buttons are static, so with a public address (PUBLIC_URL, HTTP mode) a Redeem button
opens a short-lived, single-use link on the bot's own host (`open_link`), which does the above
when it is opened; without one (Socket Mode) the click itself is answered with a fresh link
(`store_link`). A click on a button whose link can no longer be used (opened before, expired)
is answered with a fresh link too (`link_is_live`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from bot.rewards.refusal import Refusal
from storage import clock
from storage import members as member_repo
from storage import storefront_secrets as secrets_repo
from storage.db import Store
from storage.models import Member, StoreFrontSecret
from storage.states import SecretKind

log = logging.getLogger(__name__)

LINK_LIFETIME = timedelta(hours=1)
# A button whose link was opened this recently was opened by the click being handled.
JUST_OPENED = timedelta(seconds=60)
LINK_PATH = "/storefront/go/"


class StoreSso(Protocol):
    @property
    def url(self) -> str: ...


class SsoClient(Protocol):
    """The part of the Plum client Redeem needs (`PlumClient.store_sso`)."""

    def store_sso(
        self, *, email: str, auth_token: str, unique_id: str, name: str | None = None
    ) -> StoreSso: ...


@dataclass(frozen=True, slots=True)
class RedeemButton:
    """What a Redeem button holds: the link it opens (None: the click is answered instead)
    and the id of that link (not the secret), so a click can tell whether it is still good."""

    url: str | None = None
    link_id: int | None = None


STORE_DOWN = Refusal(
    "Xoxoday's store can't be reached right now, so I couldn't open it. Please try again in a "
    "minute.",
    code="store_unreachable",
)


class RedeemService:
    def __init__(
        self,
        *,
        store: Store,
        plum: SsoClient,
        public_url: str | None,
        token_lifetime: timedelta,
    ) -> None:
        self._store = store
        self._plum = plum
        self._public_url = public_url
        self._token_lifetime = token_lifetime

    @property
    def links_on_buttons(self) -> bool:
        return self._public_url is not None

    def button(self, user_id: str) -> RedeemButton:
        """A Redeem button for this person (a fresh single-use link when the bot has a public
        address)."""
        if self._public_url is None:
            return RedeemButton()
        with self._store.session() as session:
            member = member_repo.get_member_by_slack_id(session, slack_user_id=user_id)
            if member is None or member.id is None:
                return RedeemButton()
            minted = secrets_repo.mint(
                session, member_id=member.id, kind=SecretKind.REDEEM_LINK, lifetime=LINK_LIFETIME
            )
        return RedeemButton(url=f"{self._public_url}{LINK_PATH}{minted.raw}", link_id=minted.id)

    def link_is_live(self, link_id: int | None, *, user_id: str) -> bool:
        """The button's link will open (or has just been opened by this click): nothing more
        to do. False: answer the click with a fresh link."""
        if link_id is None:
            return False
        with self._store.read_session() as session:
            row = session.get(StoreFrontSecret, link_id)
            member = member_repo.get_member_by_slack_id(session, slack_user_id=user_id)
        if row is None or member is None or row.member_id != member.id:
            return False
        now = clock.now()
        if row.revoked_at is not None:
            return False
        if row.used_at is not None:
            return now - row.used_at < JUST_OPENED
        return row.expires_at > now

    def store_link(self, user_id: str) -> str | Refusal:
        """The store's SSO address for this person, minted now."""
        with self._store.read_session() as session:
            member = member_repo.get_member_by_slack_id(session, slack_user_id=user_id)
        if member is None:
            return Refusal("I don't know you yet: give or get a reward first.", code="unknown")
        return self._sso(member)

    def open_link(self, raw: str) -> str | Refusal:
        """A Redeem button's link was opened: spend it and give the store's address. A link
        the store could not be opened for is given back, so reloading the page tries again."""
        with self._store.session() as session:
            row = secrets_repo.use_once(session, raw=raw, kind=SecretKind.REDEEM_LINK)
            member = (
                member_repo.get_member(session, member_id=row.member_id)
                if row is not None
                else None
            )
        if row is None or member is None or row.id is None:
            return Refusal(
                "This Redeem link has been used already or is more than an hour old. Go back "
                "to Slack and press Redeem again: it opens the store with a fresh link.",
                code="link_used",
            )
        outcome = self._sso(member)
        if isinstance(outcome, Refusal):
            with self._store.session() as session:
                secrets_repo.give_back(session, secret_id=row.id)
        return outcome

    def _sso(self, member: Member) -> str | Refusal:
        if not member.email:
            return Refusal(
                "Your Slack profile has no email address, and Xoxoday's store signs you in with "
                "it. Ask an admin to add one.",
                code="no_email",
            )
        if not member.active or member.id is None:
            return Refusal("This account is deactivated.", code="inactive")
        with self._store.session() as session:
            token = secrets_repo.mint(
                session,
                member_id=member.id,
                kind=SecretKind.AUTH_TOKEN,
                lifetime=self._token_lifetime,
            )
        try:
            sso = self._plum.store_sso(
                email=member.email,
                auth_token=token.raw,
                unique_id=member.slack_user_id,
                name=member.real_name or member.display_name or None,
            )
        except Exception as err:  # PlumError, or anything the client let through
            log.warning("storefront SSO failed for a member (%s)", type(err).__name__)
            return STORE_DOWN
        return sso.url

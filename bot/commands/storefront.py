"""`rewardbot storefront revoke`: end the store access the bot has handed out (points in the bot).

Every auth token Xoxoday's store holds for a person, and every Redeem link not yet opened, stops
working at once: the store's next call for them is refused (401) until they press Redeem again.
Use it when a person leaves, or when a token may have leaked (`--everyone`). Audited, and the
audit chain anchored outside the database as it ends.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.commands import state_dir

if TYPE_CHECKING:
    from bot.settings import Settings
    from storage.db import Store


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "storefront",
        help="StoreFront (points in the bot): revoke store access",
        description="Manage the store access the bot hands out when points live in the bot.",
    )
    sub = parser.add_subparsers(dest="storefront_command", metavar="ACTION", required=True)
    revoke = sub.add_parser(
        "revoke",
        help="end a person's (or everyone's) store sessions and unopened Redeem links",
        description="Revoke the auth tokens Xoxoday's store holds and the Redeem links not yet "
        "opened, for one person (their Slack user id) or for everyone.",
    )
    who = revoke.add_mutually_exclusive_group(required=True)
    who.add_argument("user_id", nargs="?", metavar="USER_ID", help="a Slack user id, like U012AB")
    who.add_argument("--everyone", action="store_true", help="everyone's")
    state_dir.add_flag(revoke)
    revoke.set_defaults(func=run_revoke)


def run_revoke(args: argparse.Namespace) -> int:
    from storage import members as member_repo
    from storage import storefront_secrets as secrets_repo
    from storage.db import store_from_settings
    from storage.migrations import ensure_current

    settings = state_dir.settings_for(args)
    store = store_from_settings(settings)
    try:
        ensure_current(store.engine)
        with store.session() as session:
            member_id = None
            if not args.everyone:
                member = member_repo.get_member_by_slack_id(session, slack_user_id=args.user_id)
                if member is None:
                    print(
                        f"{args.user_id} is not known to the bot, so it holds no store access "
                        "for them (user ids look like U012ABCDEF)",
                        file=sys.stderr,
                    )
                    return 1
                member_id = member.id
            count = secrets_repo.revoke(session, member_id=member_id, actor="cli")
        _anchor(store, settings)  # the revocation's audit events, outside the database now
    finally:
        store.dispose()
    whose = "everyone's" if args.everyone else f"{args.user_id}'s"
    print(f"revoked {count} of {whose} store tokens and Redeem links")
    return 0


def _anchor(store: Store, settings: Settings) -> None:
    """A checkpoint of the audit chain, as a running bot writes within AUDIT_ANCHOR_SECONDS of
    its own events; a problem is said, never fatal (the revocation stands)."""
    from storage.audit_anchors import AnchorConflict, anchor, anchor_file_for

    path = anchor_file_for(
        database_url=settings.DATABASE_URL, configured=settings.AUDIT_ANCHOR_FILE
    )
    try:
        anchor(store, path=path)
    except AnchorConflict as err:
        print(f"rewardbot: {err}", file=sys.stderr)
    except OSError as err:
        print(
            f"rewardbot: could not write the audit anchor file {path}: {err.strerror or err}",
            file=sys.stderr,
        )

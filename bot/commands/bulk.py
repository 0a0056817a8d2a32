"""`rewardbot bulk FILE --as ADMIN [--send]`: `/reward bulk` from the command line.

The file is read and checked as the form's is (every row, before anything is sent; the rows
at fault and nothing sent, or a preview). With `--send` a file that passes is sent at once, as
the admin's Send would (a total that needs an OK waits for an approver, asked by DM). The
running bot delivers the rows and DMs the admin the outcomes CSV. Keyed on the admin and the
file's bytes: running it again with the same file sends nothing twice.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bulk",
        help="many awards from a CSV file, as an admin (checked whole; --send to send)",
        description="Check a CSV file of awards (recipient, points, reason, optional value) "
        "as /reward bulk does, and with --send, send it.",
    )
    parser.add_argument("file", metavar="FILE", help="the CSV file")
    parser.add_argument(
        "--as",
        dest="admin",
        required=True,
        metavar="ADMIN_ID",
        help="the Slack user id of the admin sending it (one of REWARD_ADMINS)",
    )
    parser.add_argument(
        "--send", action="store_true", help="send it (without: check it and show the preview)"
    )
    parser.set_defaults(func=run)


def _read(path: Path, cap: int) -> bytes | None:
    with path.open("rb") as f:
        data = f.read(cap + 1)
    return data if len(data) <= cap else None


def run(args: argparse.Namespace) -> int:
    from bot.commands.running import start_for
    from bot.rewards.bulk import MAX_BYTES, problem_lines, too_big
    from bot.rewards.bulk_service import BulkPreview, BulkRejected
    from bot.rewards.refusal import Refusal
    from bot.settings import load_settings
    from storage.errors import DatabaseNotReady

    path = Path(args.file)
    try:
        data = _read(path, MAX_BYTES)
    except OSError as err:
        print(f"rewardbot: can't read {path}: {err.strerror}", file=sys.stderr)
        return 2
    if data is None:
        print(too_big(path.stat().st_size).text, file=sys.stderr)
        return 1
    settings = load_settings()
    try:
        bot = start_for(
            settings,
            command="bulk",
            slack_requests=False,
            worker=False,
            anchor=False,
            watch_audit=True,  # what it appends is anchored as it stops
        )
    except DatabaseNotReady as err:
        print(f"rewardbot: {err}", file=sys.stderr)
        return 2
    runtime = bot.runtime
    try:
        team_id = str(runtime.slack.auth_test().get("team_id") or "")
        key = f"cli:{args.admin}:{hashlib.sha256(data).hexdigest()}"
        found = runtime.bulk.check(
            admin_id=args.admin, team_id=team_id, data=data, filename=path.name, request_key=key
        )
        if isinstance(found, Refusal):
            print(found.text, file=sys.stderr)
            return 1
        if isinstance(found, BulkRejected):
            print(
                f"Nothing was sent: {len(found.problems):,} problems in {found.rows:,} rows.",
                file=sys.stderr,
            )
            for line in problem_lines(found.problems):
                print(f"  {line}", file=sys.stderr)
            return 1
        assert isinstance(found, BulkPreview)
        card = found.bulk
        print(f"{path.name}: {card.rows:,} awards, {card.total:,} points in all")
        print(f"(file {card.short_id})")
        for award in found.sample:
            print(f"  row {award.line}: {award.user_id} {award.points:,} for {award.reason}")
        if not args.send:
            print("Nothing was sent. Sent points can't be recalled; add --send to send it.")
            return 0
        started = runtime.bulk.send(
            admin_id=args.admin, team_id=team_id, short_id=card.short_id, message=None
        )
        if isinstance(started, Refusal):
            print(started.text, file=sys.stderr)
            return 1
        if started.again:
            print(f"File {card.short_id} was sent before: nothing was sent again.")
        elif started.waiting_for:
            print(f"Waiting for approval: asked {', '.join(started.waiting_for)} by DM.")
        else:
            print(
                f"Sent: {card.rows:,} rewards queued. The running bot delivers them and DMs "
                f"{args.admin} the outcomes."
            )
        return 0
    finally:
        bot.stop()

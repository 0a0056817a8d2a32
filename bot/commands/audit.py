"""`rewardbot audit verify` and `rewardbot audit export`: the audit trail for auditors.

`verify` walks the chain, then compares it with the signed checkpoints kept outside the database
(the anchor file, and lines given with `--anchor`), which is what shows deleted newest events.
Both only read: a ledger that is not there is named in one line (exit 1), never created, and
no key file is ever made (`storage.existing`).
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import ExitStack
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.commands import state_dir

if TYPE_CHECKING:
    from storage.audit_anchors import Anchors


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2025-01-31") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="verify or export the audit trail",
        description="Verify the hash chain of the audit trail, or export it for auditors.",
    )
    sub = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = sub.add_parser(
        "verify",
        help="check every event against the HMAC chain and the checkpoints (exit 1 if broken)",
        description="Walk the audit chain, then compare it with the signed checkpoints in the "
        "anchor file (AUDIT_ANCHOR_FILE) and any given with --anchor: exit 1 at the first "
        "broken event, or when events a checkpoint recorded are gone.",
    )
    verify.add_argument(
        "--anchor",
        action="append",
        default=[],
        metavar="LINE",
        help="a checkpoint line kept elsewhere (e.g. from the admins' weekly DM); repeatable",
    )
    state_dir.add_flag(verify)
    verify.set_defaults(func=run_verify)
    export = sub.add_parser(
        "export", help="write the events of a period (UTC days, both inclusive) as CSV or JSONL"
    )
    export.add_argument("--since", type=_day, help="first day, YYYY-MM-DD (UTC)")
    export.add_argument("--until", type=_day, help="last day, YYYY-MM-DD (UTC), inclusive")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv", dest="fmt")
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    state_dir.add_flag(export)
    export.set_defaults(func=run_export)


def run_verify(args: argparse.Namespace) -> int:
    from sqlmodel import select

    from storage.audit import verify_chain
    from storage.audit_anchors import anchor_file_for
    from storage.audit_checkpoints import check_checkpoints
    from storage.db import read_session
    from storage.existing import NoLedger, existing_ledger
    from storage.keys import audit_key_for_verification
    from storage.models import AuditEvent

    settings = state_dir.settings_for(args)
    path = anchor_file_for(
        database_url=settings.DATABASE_URL, configured=settings.AUDIT_ANCHOR_FILE
    )
    pasted = [(f"--anchor {n}", line) for n, line in enumerate(args.anchor, start=1)]
    try:
        with existing_ledger(settings.DATABASE_URL) as engine, read_session(engine) as session:
            empty = session.exec(select(AuditEvent.id).limit(1)).first() is None
            if empty and not pasted and not _has_content(path):
                print("verified 0 events (the audit trail is empty)")
                return 0
            key = audit_key_for_verification(
                database_url=settings.DATABASE_URL,
                audit_key=settings.AUDIT_KEY.get_secret_value() if settings.AUDIT_KEY else None,
            )
            anchors = _anchors(path, pasted, audit_key=key)
            if anchors is None:
                return 2
            result = verify_chain(session, audit_key=key)
            contradiction = (
                check_checkpoints(session, anchors.valid, chain=result) if result.ok else None
            )
    except NoLedger as err:
        print(f"rewardbot: {err}", file=sys.stderr)
        return 1
    for rejected in anchors.rejected:
        print(
            f"ignored a checkpoint that doesn't verify ({rejected.where}): {rejected.problem}",
            file=sys.stderr,
        )
    if result.broken is not None:
        print(
            f"audit trail BROKEN at {result.broken} ({result.count} events before it verified)",
            file=sys.stderr,
        )
        return 1
    if contradiction is not None:
        checkpoint = contradiction.checkpoint
        print(
            "audit trail BROKEN: events were deleted or rewritten after the checkpoint of "
            f"{checkpoint.when} ({anchors.where(checkpoint)}): {contradiction}. (A database "
            "restored from an older backup looks the same.)",
            file=sys.stderr,
        )
        return 1
    if result.count == 0:
        print("verified 0 events (the audit trail is empty)")
        return 0
    print(f"verified {result.count} events (last: event {result.last_id}, {result.last_hash})")
    print(_vouched(anchors, total=result.count, path=path))
    return 0


def _has_content(path: Path | None) -> bool:
    try:
        return path is not None and path.stat().st_size > 0
    except OSError:
        return False


def _anchors(
    path: Path | None, pasted: list[tuple[str, str]], *, audit_key: bytes
) -> Anchors | None:
    """The anchor file's checkpoints and the pasted ones; None (said why) if the file can't be
    read."""
    from storage.audit_anchors import Anchors, parse_lines, read_anchor_file

    try:
        kept = read_anchor_file(path, audit_key=audit_key) if path is not None else Anchors()
    except OSError as err:
        print(
            f"rewardbot: cannot read the anchor file {path}: {err.strerror or err}",
            file=sys.stderr,
        )
        return None
    return kept + parse_lines(pasted, audit_key=audit_key)


def _vouched(anchors: Anchors, *, total: int, path: Path | None) -> str:
    """How far the latest valid checkpoint vouches for a chain of `total` verified events."""
    latest = anchors.latest
    if latest is None:
        where = f"none in {path}" if path is not None else "this database has no anchor file"
        return (
            f"no checkpoint yet ({where}), so this vouches only for the chain's inner "
            "consistency: deleting the newest events would not show"
        )
    after = total - latest.event_id
    reach = f"the first {latest.count:,} (up to #{latest.event_id})"
    if after == 0:
        reach = f"all {latest.count:,} events (up to #{latest.event_id})"
    elif after == 1:
        reach += "; the 1 event after it is chained but not yet anchored"
    else:
        reach += f"; the {after:,} events after it are chained but not yet anchored"
    return f"the checkpoint of {latest.when} ({anchors.where(latest)}) vouches for {reach}"


def run_export(args: argparse.Namespace) -> int:
    from storage.audit import export_events
    from storage.db import read_session
    from storage.existing import NoLedger, existing_ledger

    if args.since and args.until and args.until < args.since:
        print("rewardbot: --until is before --since", file=sys.stderr)
        return 2
    since = datetime.combine(args.since, time(), tzinfo=UTC) if args.since else None
    until = (
        datetime.combine(args.until + timedelta(days=1), time(), tzinfo=UTC) if args.until else None
    )
    settings = state_dir.settings_for(args)
    try:
        with ExitStack() as stack:
            engine = stack.enter_context(existing_ledger(settings.DATABASE_URL))
            session = stack.enter_context(read_session(engine))
            out = (  # opened once the ledger is found: no empty file is left otherwise
                stack.enter_context(open(args.output, "w", encoding="utf-8", newline=""))
                if args.output
                else sys.stdout
            )
            try:
                count = export_events(session, since=since, until=until, fmt=args.fmt, out=out)
            except BrokenPipeError:  # e.g. piped into `head`: the reader has what it wanted
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115
                return 0
    except NoLedger as err:
        print(f"rewardbot: {err}", file=sys.stderr)
        return 1
    where = args.output or "standard output"
    print(f"exported {count} events to {where}", file=sys.stderr)
    return 0

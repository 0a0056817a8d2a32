"""`rewardbot audit verify` and `rewardbot audit export`: the audit trail for auditors."""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import ExitStack
from datetime import UTC, date, datetime, time, timedelta

from bot.settings import load_settings


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
        help="check every event against the HMAC chain (exit 1 at the first broken one)",
    )
    verify.set_defaults(func=run_verify)
    export = sub.add_parser(
        "export", help="write the events of a period (UTC days, both inclusive) as CSV or JSONL"
    )
    export.add_argument("--since", type=_day, help="first day, YYYY-MM-DD (UTC)")
    export.add_argument("--until", type=_day, help="last day, YYYY-MM-DD (UTC), inclusive")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv", dest="fmt")
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    export.set_defaults(func=run_export)


def _ready_engine(database_url: str):  # type: ignore[no-untyped-def]
    from storage.db import make_engine
    from storage.errors import DatabaseNotReady
    from storage.migrations import BEHIND_MESSAGE, current_state

    engine = make_engine(database_url)
    state = current_state(engine)
    if not state.is_current:
        engine.dispose()
        raise DatabaseNotReady(BEHIND_MESSAGE)
    return engine


def run_verify(args: argparse.Namespace) -> int:
    from sqlmodel import select

    from storage.audit import verify_chain
    from storage.db import read_session
    from storage.keys import audit_key_for_verification
    from storage.models import AuditEvent

    settings = load_settings()
    engine = _ready_engine(settings.DATABASE_URL)
    try:
        with read_session(engine) as session:
            if session.exec(select(AuditEvent.id).limit(1)).first() is None:
                print("verified 0 events (the audit trail is empty)")
                return 0
            key = audit_key_for_verification(
                database_url=settings.DATABASE_URL,
                audit_key=settings.AUDIT_KEY.get_secret_value() if settings.AUDIT_KEY else None,
            )
            result = verify_chain(session, audit_key=key)
    finally:
        engine.dispose()
    if result.broken is not None:
        print(
            f"audit trail BROKEN at {result.broken} ({result.count} events before it verified)",
            file=sys.stderr,
        )
        return 1
    print(f"verified {result.count} events (last: event {result.last_id}, {result.last_hash})")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from storage.audit import export_events
    from storage.db import read_session

    if args.since and args.until and args.until < args.since:
        print("rewardbot: --until is before --since", file=sys.stderr)
        return 2
    since = datetime.combine(args.since, time(), tzinfo=UTC) if args.since else None
    until = (
        datetime.combine(args.until + timedelta(days=1), time(), tzinfo=UTC) if args.until else None
    )
    settings = load_settings()
    engine = _ready_engine(settings.DATABASE_URL)
    try:
        with ExitStack() as stack:
            out = (
                stack.enter_context(open(args.output, "w", encoding="utf-8", newline=""))
                if args.output
                else sys.stdout
            )
            session = stack.enter_context(read_session(engine))
            try:
                count = export_events(session, since=since, until=until, fmt=args.fmt, out=out)
            except BrokenPipeError:  # e.g. piped into `head`: the reader has what it wanted
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115
                return 0
    finally:
        engine.dispose()
    where = args.output or "standard output"
    print(f"exported {count} events to {where}", file=sys.stderr)
    return 0

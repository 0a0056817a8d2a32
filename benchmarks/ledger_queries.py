"""Benchmark the ledger's report queries on a large database (SQLite and PostgreSQL).

    .venv/bin/python benchmarks/ledger_queries.py [--rewards 1000000] [--backends sqlite,postgresql]

Loads N rewards (about 2 recipients each, two years of history, realistic statuses) into a
temporary SQLite file and into a dedicated PostgreSQL schema, both created by the Alembic
migrations (so with exactly the production indexes), then times each query of
`storage.queries` (plus the outbox claim) and prints median and worst times against the
500 ms target. Everything is dropped afterwards. PostgreSQL comes from TEST_DATABASE_URL
(default postgresql+psycopg://postgres@127.0.0.1:5432/test) and is skipped when unreachable.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named storage.py: keep its own directory off the import path so that
# `import storage` finds the package, not this script.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import sqlite3  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from storage import queries, rewards  # noqa: E402
from storage.db import Store, make_engine  # noqa: E402
from storage.keys import Keys  # noqa: E402
from storage.migrations import upgrade  # noqa: E402
from storage.rewards import SHORT_ID_ALPHABET, add_months  # noqa: E402

TARGET_MS = 500.0
TZ = "Europe/Berlin"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOW = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
HISTORY_DAYS = 730
CHUNK = 20_000
VALUES = ["teamwork", "ownership", "craft", "customer", "courage", "learning", "kindness", "fun"]

REWARD_COLUMNS = (
    "id", "short_id", "idempotency_key", "giver_id", "channel_id", "source", "citation",
    "public", "status", "total_points", "expiry_months", "created_at", "decided_at",
    "queued_at", "sending_at", "sent_at", "failed_at", "in_doubt_at", "cancelled_at",
    "expired_at", "updated_at",
)  # fmt: skip
RECIPIENT_COLUMNS = (
    "id", "reward_id", "member_id", "giver_id", "channel_id", "points", "outcome",
    "plum_unique_id", "sent_at", "expires_on", "updated_at",
)  # fmt: skip
MEMBER_COLUMNS = (
    "id", "team_id", "slack_user_id", "email", "display_name", "real_name", "tz", "role",
    "is_bot", "active", "created_at", "updated_at",
)  # fmt: skip


# ----------------------------------------------------------------------------- the data


def short_id(n: int) -> str:
    chars = []
    for _ in range(6):
        n, digit = divmod(n, len(SHORT_ID_ALPHABET))
        chars.append(SHORT_ID_ALPHABET[digit])
    return "".join(chars)


def pick_status(rng: random.Random, created: datetime) -> str:
    age = NOW - created
    roll = rng.random()
    if age < timedelta(days=30) and roll < 0.002:
        return "pending_approval"
    if roll < 0.0005:
        return "in_doubt"
    if roll < 0.02:
        return "failed"
    if roll < 0.04:
        return "cancelled"
    if roll < 0.055:
        return "rejected"
    if roll < 0.0575:
        return "expired"
    return "sent"


OUTCOME = {
    "sent": "sent",
    "cancelled": "cancelled",
    "failed": "failed",
    "in_doubt": "in_doubt",
    "pending_approval": "pending",
    "queued": "pending",
    "rejected": "not_sent",
    "expired": "not_sent",
}


@dataclass
class Batch:
    rewards: list[tuple[Any, ...]]
    recipients: list[tuple[Any, ...]]
    values: list[tuple[int, str]]


def generate(n_rewards: int, n_members: int, seed: int = 42) -> Iterator[Batch]:
    rng = random.Random(seed)
    start = NOW - timedelta(days=HISTORY_DAYS)
    span = HISTORY_DAYS * 86400
    recipient_id = 0
    offsets = sorted(rng.random() * span for _ in range(n_rewards))
    batch = Batch([], [], [])
    for i, offset in enumerate(offsets, start=1):
        created = start + timedelta(seconds=offset)
        status = "queued" if i > n_rewards - 20 else pick_status(rng, created)
        giver = rng.randint(1, n_members)
        channel = f"C{rng.randint(1, 50):03d}"
        count = rng.choices((1, 2, 3), weights=(30, 40, 30))[0]
        people: set[int] = set()
        while len(people) < count:
            who = rng.randint(1, n_members)
            if who != giver:
                people.add(who)
        points = [rng.choice((10, 25, 50, 100, 200)) for _ in people]
        t = {k: None for k in ("decided", "queued", "sending", "sent", "failed", "doubt")}
        t.update(cancelled=None, expired=None)
        if status not in ("pending_approval", "rejected", "expired"):
            t["queued"] = created
        if status in ("sent", "cancelled", "failed", "in_doubt"):
            t["sending"] = created + timedelta(seconds=1)
        if status in ("sent", "cancelled"):
            t["sent"] = created + timedelta(seconds=2)
        if status == "cancelled":
            t["cancelled"] = created + timedelta(days=2)
        if status == "failed":
            t["failed"] = created + timedelta(seconds=2)
        if status == "in_doubt":
            t["doubt"] = created + timedelta(seconds=30)
        if status == "rejected":
            t["decided"] = created + timedelta(hours=5)
        if status == "expired":
            t["expired"] = created + timedelta(days=14)
        batch.rewards.append(
            (
                i, short_id(i), f"bench-{i}", giver, channel, "command",
                "thanks for the great work", True, status, sum(points), 12, created,
                t["decided"], t["queued"], t["sending"], t["sent"], t["failed"], t["doubt"],
                t["cancelled"], t["expired"], created,
            )
        )  # fmt: skip
        outcome = OUTCOME[status]
        expires = add_months(t["sent"].date(), 12) if status == "sent" else None
        for who, pts in zip(sorted(people), points, strict=True):
            recipient_id += 1
            batch.recipients.append(
                (
                    recipient_id, i, who, giver, channel, pts, outcome,
                    f"u{recipient_id}" if t["sent"] else None, t["sent"], expires, created,
                )
            )  # fmt: skip
        for value in rng.sample(VALUES, rng.choices((0, 1, 2), weights=(20, 60, 20))[0]):
            batch.values.append((i, value))
        if len(batch.rewards) >= CHUNK:
            yield batch
            batch = Batch([], [], [])
    if batch.rewards:
        yield batch


def member_rows(n_members: int) -> list[tuple[Any, ...]]:
    created = NOW - timedelta(days=HISTORY_DAYS + 1)
    return [
        (
            i, "T1", f"U{i:08d}", f"user{i}@example.com", f"user {i}", f"User {i}",
            "Europe/Berlin", "member", False, True, created, created,
        )
        for i in range(1, n_members + 1)
    ]  # fmt: skip


# ----------------------------------------------------------------------------- loaders


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def load_sqlite(path: Path, n_rewards: int, n_members: int) -> None:
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA foreign_keys=OFF")  # rows are consistent by construction
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-400000")
        db.execute("BEGIN")
        rows = [tuple(map(_sqlite_value, r)) for r in member_rows(n_members)]
        db.executemany(_insert_sql("members", MEMBER_COLUMNS), rows)
        for batch in generate(n_rewards, n_members):
            db.executemany(
                _insert_sql("rewards", REWARD_COLUMNS),
                (tuple(map(_sqlite_value, r)) for r in batch.rewards),
            )
            db.executemany(
                _insert_sql("reward_recipients", RECIPIENT_COLUMNS),
                (tuple(map(_sqlite_value, r)) for r in batch.recipients),
            )
            db.executemany(
                "INSERT INTO reward_values (reward_id, value) VALUES (?, ?)", batch.values
            )
        db.execute("COMMIT")
        db.execute("ANALYZE")
    finally:
        db.close()


def load_postgres(url: str, schema: str, n_rewards: int, n_members: int) -> None:
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, options=f"-csearch_path={schema}") as db, db.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # skip FK triggers while loading

        def copy(table: str, columns: tuple[str, ...], rows: Any) -> None:
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as target:
                for row in rows:
                    target.write_row(row)

        copy("members", MEMBER_COLUMNS, member_rows(n_members))
        for batch in generate(n_rewards, n_members):
            copy("rewards", REWARD_COLUMNS, batch.rewards)
            copy("reward_recipients", RECIPIENT_COLUMNS, batch.recipients)
            copy("reward_values", ("reward_id", "value"), batch.values)
        for table in ("members", "rewards", "reward_recipients"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        db.commit()
        db.autocommit = True
        cur.execute("VACUUM ANALYZE")


# ----------------------------------------------------------------------------- timing


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float, float, Any]:
    """(first, median, worst) milliseconds over `runs` runs, and the last result."""
    times = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return times[0], statistics.median(times), max(times), result


def size_of(result: Any) -> str:
    if isinstance(result, list):
        return f"{len(result)} rows"
    if isinstance(result, queries.Leaderboard):
        return f"{len(result.recipients)}+{len(result.givers)} rows"
    if isinstance(result, queries.RecentRewards):
        return f"{len(result.given)}+{len(result.received)} rewards"
    if isinstance(result, queries.PeriodSummary):
        return f"{result.points:,} points"
    if isinstance(result, int):
        return f"{result:,} points"
    return "none" if result is None else "1 reward"


def query_suite(store: Store) -> list[tuple[str, Callable[[], Any]]]:
    month = (NOW - timedelta(days=30), NOW)
    week = (NOW - timedelta(days=7), NOW)

    def read(fn: Callable[..., Any], **kw: Any) -> Callable[[], Any]:
        def run() -> Any:
            with store.read_session() as s:
                return fn(s, **kw)

        return run

    def claim() -> Any:
        with store.session() as s:  # rolled back: the same row is claimed every run
            found = rewards.claim_next_queued(s, claimed_by="bench")
            s.rollback()
            return found

    m = {"since": month[0], "until": month[1]}
    w = {"since": week[0], "until": week[1]}
    d = NOW.date()
    return [
        ("totals_by_recipient, 30 days", read(queries.totals_by_recipient, **m)),
        ("totals_by_giver, 30 days", read(queries.totals_by_giver, **m)),
        ("totals_by_value, 30 days", read(queries.totals_by_value, **m)),
        ("totals_by_channel, 30 days", read(queries.totals_by_channel, **m)),
        ("leaderboard top 10, 7 days", read(queries.leaderboard, **w)),
        ("leaderboard top 10, 30 days", read(queries.leaderboard, **m)),
        ("period_summary, 7 days", read(queries.period_summary, **w)),
        ("given_this_month (Berlin)", read(queries.given_this_month, giver=17, tz=TZ, now=NOW)),
        ("pending approvals > 24 h", read(queries.pending_approvals_older_than, hours=24, now=NOW)),
        ("points expiring <= 30 d (page)", read(queries.expiring_points, within_days=30, today=d)),
        ("points expiring <= 7 d (page)", read(queries.expiring_points, within_days=7, today=d)),
        ("rewards in doubt", read(queries.rewards_in_doubt)),
        ("last 10 given + received", read(queries.recent_rewards, member=17)),
        ("reward by short id", read(rewards.get_reward_by_short_id, short_id=short_id(4242))),
        ("claim_next_queued (rolled back)", claim),
    ]  # fmt: skip


def run_suite(store: Store, runs: int) -> dict[str, tuple[float, float, float, str]]:
    figures = {}
    for name, fn in query_suite(store):
        first, median, worst, result = timed(fn, runs)
        figures[name] = (first, median, worst, size_of(result))
    return figures


# ----------------------------------------------------------------------------- backends


def bench_keys() -> Keys:
    return Keys(
        audit_key=b"benchmark-audit-key-0123456789",
        encryption_keys=(Fernet.generate_key().decode(),),
        source="benchmark",
    )


def bench_sqlite(n: int, members: int, runs: int) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="rewardbot-bench-"))
    try:
        path = workdir / "bench.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        engine.dispose()
        start = time.perf_counter()
        load_sqlite(path, n, members)
        load_s = time.perf_counter() - start
        engine = make_engine(f"sqlite:///{path}")
        try:
            figures = run_suite(Store(engine=engine, keys=bench_keys()), runs)
        finally:
            engine.dispose()
        size_mb = path.stat().st_size / 1e6
        return {"load_s": load_s, "size": f"{size_mb:.0f} MB file", "figures": figures}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def bench_postgres(url: str, n: int, members: int, runs: int) -> dict[str, Any] | None:
    schema = f"rbt_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as c:
            c.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as err:
        print(f"PostgreSQL skipped: {str(err).splitlines()[0]}", file=sys.stderr)
        return None
    try:
        engine = make_engine(url, schema=schema)
        try:
            upgrade(engine)
            start = time.perf_counter()
            load_postgres(url, schema, n, members)
            load_s = time.perf_counter() - start
            figures = run_suite(Store(engine=engine, keys=bench_keys()), runs)
            with engine.connect() as c:
                size = c.execute(
                    text("SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c"
                         " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :s"
                         " AND c.relkind = 'r'"),
                    {"s": schema},
                ).scalar()  # fmt: skip
        finally:
            engine.dispose()
        return {"load_s": load_s, "size": f"{size} (tables + indexes)", "figures": figures}
    finally:
        with admin.connect() as c:
            c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


def report(results: dict[str, dict[str, Any]], n: int) -> bool:
    backends = list(results)
    names = list(next(iter(results.values()))["figures"])
    header = f"{'query':32} {'result':>14}" + "".join(
        f" | {b:>10} median  worst  first" for b in backends
    )
    print(header)
    print("-" * len(header))
    ok = True
    for name in names:
        size = results[backends[0]]["figures"][name][3]
        line = f"{name:32} {size:>14}"
        for backend in backends:
            first, median, worst, _ = results[backend]["figures"][name]
            ok &= worst < TARGET_MS
            line += f" | {median:14.1f} {worst:6.1f} {first:6.1f}"
        print(line)
    print("(milliseconds)")
    print()
    for backend, info in results.items():
        print(f"{backend}: loaded {n:,} rewards in {info['load_s']:.0f} s, {info['size']}")
    print(f"target: every query under {TARGET_MS:.0f} ms -> {'met' if ok else 'NOT met'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rewards", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=7, help="timed runs per query")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get("TEST_DATABASE_URL", DEFAULT_PG))
    args = parser.parse_args()

    results: dict[str, dict[str, Any]] = {}
    for backend in args.backends.split(","):
        print(f"loading {args.rewards:,} rewards into {backend}...", file=sys.stderr, flush=True)
        if backend == "sqlite":
            results[backend] = bench_sqlite(args.rewards, args.members, args.runs)
        elif backend == "postgresql":
            found = bench_postgres(args.pg_url, args.rewards, args.members, args.runs)
            if found is not None:
                results[backend] = found
        else:
            parser.error(f"unknown backend {backend!r}")
    if not results:
        return 1
    return 0 if report(results, args.rewards) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Database URL helpers: the engine factory, and every file kept beside a SQLite database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url


def normalize_url(url: str) -> str:
    """`postgres://` and `postgresql://` become `postgresql+psycopg://` (psycopg 3)."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_postgres_url(url: str) -> bool:
    return normalize_url(url).startswith("postgresql")


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL; None for an in-memory database or another backend."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        return None
    if database.startswith("file:") and parsed.query.get("uri") == "true":
        database = database.removeprefix("file:")  # a SQLite URI filename (`?uri=true`)
    return Path(database)


def beside_database(url: str, suffix: str, *, keep_extension: bool = False) -> Path | None:
    """A file next to the SQLite database of `url`, named after it: `rewardbot.db` with
    `.intake.db` gives `rewardbot.intake.db`; with `keep_extension`, `.keys` gives
    `rewardbot.db.keys`. None when the database has no file (in memory, PostgreSQL)."""
    path = sqlite_path(url)
    if path is None:
        return None
    return path.with_name((path.name if keep_extension else path.stem) + suffix)

"""How the bot's log lines look: text (the default) or, with LOG_FORMAT=json, one JSON object
per line.

A JSON line holds `time` (UTC, ISO 8601), `level`, `logger`, `message`, `exception` when there
is one, and, where they exist, what ties the line to something a person or an operator can name:
`ref` (the reference a person was shown with "Something went wrong"), `reward_id` (the reward's
short id), `send_batch` (the sendBalance call it went out in with others), `po_number` (a gift
card's or donation's poNumber) and `job` (the scheduled job).
Code names them for a stretch of work with `bound(...)` (a context variable: every line that
stretch logs in its thread carries them, whoever logs it) or for one line with `extra=`.

What a line says is what the text format says: the same messages, so the same care that keeps
secrets out of them (`bot.slack.log_privacy` cuts Slack's request bodies at DEBUG).
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from types import MappingProxyType, TracebackType
from typing import Literal

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The fields that tie a line to something; `bound` and `extra=` take only these.
FIELDS = ("ref", "reward_id", "send_batch", "po_number", "job")

_bound: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "rewardbot_log_fields", default=MappingProxyType({})
)


@contextmanager
def bound(**fields: str | None) -> Iterator[None]:
    """Every line logged in this thread inside the block carries `fields` (None: left out)."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"not a log field: {', '.join(sorted(unknown))}")
    merged = {**_bound.get(), **{k: str(v) for k, v in fields.items() if v is not None}}
    token = _bound.set(merged)
    try:
        yield
    finally:
        _bound.reset(token)


class BoundFields(logging.Filter):
    """Puts the fields `bound` holds on each record (a field given with `extra=` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _bound.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = str(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(*, fmt: Literal["text", "json"] = "text", verbose: bool = False) -> None:
    """The root logger's one handler, on stderr, in `fmt`. In JSON, warnings and exceptions
    nobody caught (in any thread) are logged too, so that every line is JSON."""
    handler = logging.StreamHandler()
    handler.addFilter(BoundFields())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    if fmt == "json":
        logging.captureWarnings(True)
        sys.excepthook = _log_uncaught
        threading.excepthook = _log_uncaught_in_thread


def _log_uncaught(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, trace)
        return
    logging.getLogger("bot").critical("uncaught exception", exc_info=(kind, error, trace))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    logging.getLogger("bot").error(
        "uncaught exception in thread %s",
        name,
        exc_info=(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback),
    )

"""A check's finding, as one line: "ok   Slack: workspace Acme (T0001), bot @rewardbot (…)"."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"  # it works, but someone should read this
    FAIL = "FAIL"  # it won't work: the line says what to do
    SKIP = "skip"  # not checked: something it needs failed (said on its own line)


@dataclass(frozen=True, slots=True)
class Line:
    """`text` says what was found (without a secret); on a FAIL line, what to do. An ok or
    skip line reads as a phrase (a final full stop is left out)."""

    status: Status
    topic: str  # "Slack", "Xoxoday", "Database", …
    text: str

    def __str__(self) -> str:
        text = self.text.rstrip()
        if self.status in (Status.OK, Status.SKIP):
            text = text.removesuffix(".")
        return f"{self.status.value:<5}{self.topic}: {text}"


def ok(topic: str, text: str) -> Line:
    return Line(Status.OK, topic, text)


def warn(topic: str, text: str) -> Line:
    return Line(Status.WARN, topic, text)


def fail(topic: str, text: str) -> Line:
    return Line(Status.FAIL, topic, text)


def skip(topic: str, text: str) -> Line:
    return Line(Status.SKIP, topic, text)


def failed(lines: Iterable[Line]) -> list[Line]:
    return [line for line in lines if line.status is Status.FAIL]

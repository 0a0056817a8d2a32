"""The sandbox's faults, as the page offers them: a few bad days at Xoxoday, by name.

Each preset is a `FaultSpec` of the sandbox's own fault injection (`plum_sandbox.faults`), set on
the calls it is for (sending points, or every call) for the next call, the next few, or until
cleared; except "unreachable", the whole sandbox refusing connections until cleared (an outage
that proves nothing reached Xoxoday, beside "outage", a 503 that proves nothing either way).
`describe` reads the sandbox's faults back in the same words, whoever set them (the page,
`/_sandbox/faults`, `rewardbot sandbox --fault`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from bot.simulators.plum_sandbox import Faults, FaultSpec
from bot.simulators.plum_sandbox.faults import OPERATIONS

EVERY_CALL = "*"
SEND = "sendBalance"
SLOW_MS = 5000
RATE_LIMIT_SECONDS = 30
UNREACHABLE = "unreachable"
UNREACHABLE_WHAT = "unreachable (connections refused)"


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    label: str  # what the page offers
    spec: FaultSpec | None  # without a count: the page adds it (None: the sandbox unreachable)


PRESETS: tuple[Preset, ...] = (
    Preset(
        "lost",
        "A lost answer: the points go, the answer never comes back",
        FaultSpec(drop_after_apply=True),
    ),
    Preset(
        "refuse",
        "A refusal: Xoxoday says no (PLE10001, invalid request)",
        FaultSpec(error="PLE10001"),
    ),
    Preset(
        "slow", f"Slow: each answer takes {SLOW_MS // 1000} s longer", FaultSpec(latency_ms=SLOW_MS)
    ),
    Preset("outage", "An outage: 503 Service Unavailable", FaultSpec(error="503")),
    Preset(
        UNREACHABLE,
        "Unreachable: every connection refused, until cleared (whatever the target)",
        None,
    ),
    Preset(
        "rate_limit",
        f"Rate limit: 429, try again in {RATE_LIMIT_SECONDS} s",
        FaultSpec(error=f"rate_limit:{RATE_LIMIT_SECONDS}"),
    ),
    Preset("ip", "IP not allow-listed (PIPE10017)", FaultSpec(error="PIPE10017")),
)
BY_NAME: Mapping[str, Preset] = {p.name: p for p in PRESETS}

# What the page calls the operations the bot uses (the rest go by their own name).
CALLS: Mapping[str, str] = {
    SEND: "Sending points",
    "getBalance": "The account balance",
    "user_balance": "A person's points",
    "cancelBalance": "Withdrawing points",
    "token": "Getting a token",
    "validateToken": "Checking the token",
    "generateLink": "Reward links",
    "generateLinkEmail": "Reward links by email",
    "campaignList": "Campaigns",
    "storeSso": "Opening the store",
}
TARGETS: Mapping[str, str] = {SEND: "Sending points", EVERY_CALL: "Every call"}
TIMES: Mapping[str, str] = {"1": "The next call", "3": "The next 3 calls", "": "Until cleared"}


class ControlError(ValueError):
    """A fault the page can't set (an unknown preset, target or count): the message says so."""


def apply(faults: Faults, *, preset: str, target: str, times: str) -> None:
    """Set `preset` on `target` (SEND or EVERY_CALL) for `times` calls ("" = until cleared)."""
    found = BY_NAME.get(preset)
    if found is None:
        raise ControlError(f"there is no fault called {preset!r}")
    if target not in TARGETS:
        raise ControlError("pick sending points or every call")
    if times not in TIMES:
        raise ControlError("pick the next call, the next 3 or until cleared")
    if found.spec is None:  # the whole sandbox, until cleared
        faults.unreachable = True
        return
    spec = replace(found.spec, count=int(times) if times else None)
    for operation in sorted(OPERATIONS) if target == EVERY_CALL else [target]:
        faults.set(operation, spec)


def clear(faults: Faults, operations: Sequence[str] | None = None) -> None:
    """Clear the faults of `operations` (EVERY_CALL among them: every one, and the added
    latency), or everything when None."""
    if operations is None:
        faults.clear()
        return
    unknown = [op for op in operations if op != EVERY_CALL and op not in OPERATIONS]
    if unknown:
        raise ControlError(f"there is no call named {unknown[0]!r}")
    if EVERY_CALL in operations:
        faults.latency_ms = 0
        faults.unreachable = False
        operations = sorted(OPERATIONS)
    for operation in operations:
        faults.clear(operation)


@dataclass(frozen=True, slots=True)
class ActiveFault:
    operations: tuple[str, ...]  # the operations it is set on (EVERY_CALL: all, and latency)
    calls: str  # "Sending points", "Every call", "14 kinds of call"
    what: str  # "a lost answer"
    until: str  # "the next call", "the next 3 calls", "until cleared"


def what_it_does(spec: FaultSpec) -> str:
    """The fault in a few words, the presets' words where it is one of them."""
    parts = []
    if spec.drop_after_apply:
        parts.append("a lost answer")
    if spec.hang:
        parts.append("no answer at all")
    error = spec.error or ""
    if error.startswith("rate_limit") or error == "429":
        parts.append("rate limit (429)")
    elif error == "PIPE10017":
        parts.append("IP not allow-listed")
    elif error.isdigit() and int(error) >= 500:
        parts.append(f"an outage ({error})")
    elif error:
        parts.append(f"a refusal ({error})")
    if spec.latency_ms:
        parts.append(f"slow (+{spec.latency_ms / 1000:g} s)")
    text = ", ".join(parts) or "nothing"
    if spec.rate < 1.0:
        text += f", {spec.rate:.0%} of the time"
    return text


def _until(spec: FaultSpec) -> str:
    if spec.count is None:
        return "until cleared"
    return "the next call" if spec.count == 1 else f"the next {spec.count} calls"


def _calls(operations: Sequence[str]) -> str:
    if len(operations) == len(OPERATIONS):
        return "Every call"
    missing = sorted(OPERATIONS - set(operations), key=lambda o: (o != SEND, o))
    if len(operations) > 3 and len(missing) <= 3:
        return "Every call but " + ", ".join(CALLS.get(op, op).lower() for op in missing)
    if len(operations) > 3:
        return f"{len(operations)} kinds of call"
    return ", ".join(CALLS.get(op, op) for op in operations)


def describe(faults: Faults) -> list[ActiveFault]:
    """The sandbox's faults now, one entry per fault with the calls it is set on."""
    groups: dict[FaultSpec, list[str]] = {}
    for op in sorted(OPERATIONS, key=lambda o: (o != SEND, o)):
        spec = faults.get(op)
        if spec is not None:
            groups.setdefault(spec, []).append(op)
    found = [
        ActiveFault(tuple(ops), _calls(ops), what_it_does(spec), _until(spec))
        for spec, ops in groups.items()
    ]
    if faults.latency_ms:
        slow = f"slow (+{faults.latency_ms / 1000:g} s)"
        found.append(ActiveFault((EVERY_CALL,), "Every call", slow, "until cleared"))
    if faults.unreachable:
        found.insert(0, ActiveFault((EVERY_CALL,), "Every call", UNREACHABLE_WHAT, "until cleared"))
    return found

"""How the bot writes things people read: points, money, people, reward ids, statuses and
dates in Slack mrkdwn, user text made safe to repeat (no broadcasts, no disguised links), and
truncation that never breaks a character or a mention.

Pure: no Slack client, HTTP or database. Lengths are counted in UTF-16 code units (what Slack
counts), never less than the number of characters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.rewards.mrkdwn import link_address, special_mention_text

ELLIPSIS = "…"

# status → (emoji, what to call it)
STATUS_LABELS: Mapping[str, tuple[str, str]] = {
    "pending_approval": ("⏳", "waiting for approval"),
    "queued": ("🕓", "about to be sent"),
    "sending": ("📤", "sending"),
    "sent": ("✅", "sent"),
    "failed": ("❌", "not sent"),
    "in_doubt": ("🔎", "being checked"),
    "cancelled": ("↩️", "withdrawn"),
    "rejected": ("🚫", "rejected"),
    "expired": ("⌛", "expired before approval"),
}


# ── lengths and truncation ───────────────────────────────────────────────────────────────


def text_len(text: str) -> int:
    """Length as Slack's limits count it, conservatively: UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


_ENTITY_TAIL = re.compile(r"&#?[A-Za-z0-9]{0,8}$")


def _joins_previous(char: str) -> bool:
    """True for characters that belong to the one before (accents, ZWJ, variation selectors,
    skin tones), so a cut never lands between them."""
    code = ord(char)
    return (
        bool(unicodedata.combining(char))
        or char in "\u200d\ufe0e\ufe0f"
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
    )


def clip(text: str, limit: int, *, mrkdwn: bool = True) -> str:
    """`text` cut to at most `limit` (UTF-16 units) with an ellipsis, never inside a `<…>`
    mention or link, an `&amp;` entity or an emoji sequence. Text that fits is returned as is."""
    if text_len(text) <= limit:
        return text
    budget = max(limit - text_len(ELLIPSIS), 0)
    used = 0
    cut = 0
    for i, char in enumerate(text):
        width = 2 if ord(char) > 0xFFFF else 1
        if used + width > budget:
            break
        used += width
        cut = i + 1
    while 0 < cut < len(text) and (_joins_previous(text[cut]) or text[cut - 1] == "\u200d"):
        cut -= 1
    head = text[:cut]
    if mrkdwn:
        opened, closed = head.rfind("<"), head.rfind(">")
        if opened > closed:
            head = head[:opened]
        entity = _ENTITY_TAIL.search(head)
        if entity:
            head = head[: entity.start()]
    return head.rstrip() + ELLIPSIS


def one_line(text: str) -> str:
    """Newlines and runs of spaces folded to single spaces (for list rows)."""
    return " ".join(text.split())


def escape_mrkdwn(raw: str) -> str:
    """Raw text (as typed in a modal) made safe for mrkdwn: `&`, `<`, `>` escaped."""
    return raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_SLACK_ENTITY = re.compile(
    r"<(?:[@][UWB][A-Z0-9]+|#[CG][A-Z0-9]+|![A-Za-z0-9^]+|(?:https?|mailto):[^<>\s|]+)"
    r"(?:\|[^<>]*)?>"
)
_BARE_AMP = re.compile(r"&(?!(?:amp|lt|gt|#\d{1,7});)")


def safe_mrkdwn(text: str) -> str:
    """Text from a person or from Xoxoday made safe to show as mrkdwn, whether it arrived
    escaped (slash commands) or raw (modals, API errors): person mentions `<@U…>` and channel
    links `<#C…>` stay live; broadcasts and user groups (`<!here>`, `<!subteam^S1|@devs>`)
    become plain words that ping nobody (`@here`, `@devs`); links show their real address,
    never a label (`<https://a.test|b>` → `<https://a.test>`), and a bare web address becomes
    a link as Slack makes it one (`see https://a.test.` → `see <https://a.test>.`); entities are
    kept, and any other `&`, `<`, `>` is escaped. Applying it twice changes nothing."""
    out: list[str] = []
    last = 0
    for match in _SLACK_ENTITY.finditer(text):
        out.append(_linked(text[last : match.start()]))
        out.append(_defused(match.group(0)))
        last = match.end()
    out.append(_linked(text[last:]))
    return "".join(out)


# A bare web address in text, up to a space, a `<`, `>` or `|`, or an escaped `<` / `>`.
_BARE_URL = re.compile(r"\bhttps?://(?:(?!&lt;|&gt;)[^\s<>|])+")
_URL_TAIL = ".,;:!?'\"*_~"  # punctuation that ends a sentence, not the address


def _linked(text: str) -> str:
    """`_escape_loose(text)`, with each bare web address made a link (`<https://…>`)."""
    out: list[str] = []
    last = 0
    for match in _BARE_URL.finditer(text):
        url = match.group(0)
        while url and (
            url[-1] in _URL_TAIL or (url[-1] == ")" and url.count("(") < url.count(")"))
        ):
            url = url[:-1]
        if len(url) <= len("https://"):
            continue
        out.append(_escape_loose(text[last : match.start()]))
        out.append(f"<{_BARE_AMP.sub('&amp;', url)}>")
        last = match.start() + len(url)
    out.append(_escape_loose(text[last:]))
    return "".join(out)


def _defused(entity: str) -> str:
    """One of Slack's `<…>` as it may be repeated from someone's text."""
    inner = entity[1:-1]
    if inner.startswith("!"):
        return _escape_loose(special_mention_text(inner))
    if inner.startswith(("@", "#")):
        return _BARE_AMP.sub("&amp;", entity)
    return f"<{_BARE_AMP.sub('&amp;', link_address(inner))}>"


def _escape_loose(text: str) -> str:
    return _BARE_AMP.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")


# "(RemoteProtocolError)", "(ReadTimeout)": a program's name for a failure, not words for people
_EXCEPTION_NAME = re.compile(r"\s*\((?:[a-z_.]+\.)?[A-Z][A-Za-z]*(?:Error|Exception|Timeout)\)")


def plain_reason(text: str | None) -> str:
    """Why something failed, as one clause to put inside a sentence: on one line, without
    exception class names, without its closing full stop (`"Xoxoday's answer was lost
    (RemoteProtocolError)."` → `"Xoxoday's answer was lost"`)."""
    return one_line(_EXCEPTION_NAME.sub("", text or "")).rstrip(" .")


def quote(text: str) -> str:
    """A mrkdwn block quote of every line of `text`."""
    return "\n".join(f">{line}" if line else ">" for line in text.splitlines() or [""])


# ── people, points, money ────────────────────────────────────────────────────────────────


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def channel_link(channel_id: str) -> str:
    return f"<#{channel_id}>"


def _join(names: Sequence[str], hidden: int) -> str:
    if hidden:
        return ", ".join(names) + (f" and {hidden} others" if hidden > 1 else " and 1 other")
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def people(user_ids: Sequence[str], *, limit: int = 1000) -> str:
    """`<@A>`, `<@A> and <@B>`, `<@A>, <@B> and <@C>`; when that is longer than `limit`
    characters, the rest are counted: `<@A>, <@B> and 12 others`."""
    names = [mention(u) for u in dict.fromkeys(user_ids)]
    if not names:
        return "nobody"
    for count in range(len(names), 0, -1):
        text = _join(names[:count], len(names) - count)
        if count == 1 or text_len(text) <= limit:
            return text
    return names[0]  # pragma: no cover - the loop always returns


def points(n: int | Decimal) -> str:
    return f"{n:,} point" if n == 1 else f"{n:,} points"


def money(value: Decimal, currency: str | None) -> str:
    amount = f"{value:,.2f}"
    return f"{amount} {currency}" if currency else amount


def short_id(value: str) -> str:
    return f"`{value}`"


def values_text(values: Iterable[str]) -> str:
    return safe_mrkdwn(" ".join(f"#{v}" for v in values))


def status_text(status: str) -> str:
    emoji, label = STATUS_LABELS.get(status, ("•", status.replace("_", " ")))
    return f"{emoji} {label}"


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, ("•", status.replace("_", " ")))[1]


def status_emoji(status: str) -> str:
    return STATUS_LABELS.get(status, ("•", ""))[0]


# ── time ─────────────────────────────────────────────────────────────────────────────────


def zone(tz: str | None) -> ZoneInfo:
    """The member's time zone; UTC when it is missing or unknown."""
    if tz:
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC")


def local(when: datetime, tz: str | None) -> datetime:
    """`when` in `tz` (a naive datetime is taken as UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo("UTC"))
    return when.astimezone(zone(tz))


def format_date(value: date | datetime, tz: str | None = None) -> str:
    """`5 March 2026`, the one way every message writes a date (list rows too); a datetime is
    first moved into `tz`."""
    day = local(value, tz).date() if isinstance(value, datetime) else value
    return f"{day.day} {day:%B %Y}"


def zone_name(tz: str | None, when: datetime) -> str:
    """What a time in `tz` is labelled with at `when` (`CET`, `CEST`, `UTC`): the one name
    each person reads for their time zone, in every message."""
    return local(when, tz).tzname() or "UTC"


def format_datetime(when: datetime, tz: str | None) -> str:
    """`5 March 2026 at 14:05 CET` in `tz`."""
    return f"{format_date(when, tz)} at {local(when, tz):%H:%M} {zone_name(tz, when)}"

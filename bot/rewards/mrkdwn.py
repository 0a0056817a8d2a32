"""Reading Slack mrkdwn as typed in `/reward`: its words, mentions, channel links and `#words`,
and what a person sees of it (`to_plain_text`).

Pure: no Slack, HTTP or database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# A word: a run of non-space characters in which a `<…>` segment (which may hold spaces,
# e.g. `<@U1|maria lopez>`) counts as one piece.
TOKEN = re.compile(r"(?:<[^<>]*>|\S)+")
USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")
MENTIONS_ONLY = re.compile(r"(?:<@[UW][A-Z0-9]+(?:\|[^<>]*)?>[,;:]*)+")
BROADCAST = re.compile(r"<!(channel|here|everyone|group)(?:\|[^<>]*)?>")
BROADCAST_WORDS = frozenset({"channel", "here", "everyone", "group"})
SUBTEAM = re.compile(r"<!subteam\^[A-Z0-9]+(?:\|([^<>]*))?>")
SUBTEAM_ID = re.compile(r"<!subteam\^([A-Z0-9]{1,20})(?:\|([^<>]*))?>")  # (id, handle)
CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^<>]*))?>")
_SPECIAL = re.compile(r"<([^<>]*)>")
_HASHTAG = re.compile(r"(?<![^\s(\[{\"'])#(\w[\w-]*)")


def mentioned_user_ids(text: str) -> list[str]:
    """The user ids of the `<@U…>` mentions in Slack mrkdwn, in order, without repeats."""
    return list(dict.fromkeys(USER_MENTION.findall(text)))


def special_mention_text(special: str) -> str:
    """What a `<!…>` special mention (given without its `<>`) reads as, in words that ping
    nobody: `!here|here` → `@here` (a broadcast by its own name, whatever its label says),
    `!subteam^S1|@devs` → `@devs` (a user group by its handle, else its id), anything else by
    its label (`!date^…|5 March`)."""
    target, _, label = special.removeprefix("!").partition("|")
    word, _, ref = target.partition("^")
    if word in BROADCAST_WORDS:
        return "@" + word
    if word == "subteam":
        return "@" + (label.removeprefix("@") or ref.partition("^")[0] or "user-group")
    return label or "@" + word


def link_address(link: str) -> str:
    """A link's real address (given without its `<>`), never its label: Slack shows the label
    instead of the address, so `<https://evil.example|https://xoxoday.com>` would disguise
    where it goes."""
    return link.partition("|")[0]


def to_plain_text(mrkdwn: str, *, names: Mapping[str, str] | None = None) -> str:
    """What a person sees: `<@U1|maria>` → `@maria`, `<#C1|general>` → `#general`,
    `<https://x|label>` → `https://x` (links by their address), `<!here>` → `@here`,
    `&amp;` → `&`. `names` (user id → name) fills in bare `<@U1>` mentions; the citation's
    length is measured on this text."""
    names = names or {}

    def one(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            uid = target[1:]
            return "@" + (names.get(uid) or label or uid)
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            return special_mention_text(inner)
        return link_address(inner).removeprefix("mailto:")

    text = _SPECIAL.sub(one, mrkdwn)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def hashtags(citation: str) -> tuple[str, ...]:
    """`#words` in a citation (outside `<…>` links), lowercased, deduplicated, order kept.
    All-digit tags (`#1`) are not values."""
    bare = _SPECIAL.sub(" ", citation)
    found: list[str] = []
    for match in _HASHTAG.finditer(bare):
        tag = match.group(1).rstrip("-_").lower()
        if tag and not tag.isdigit() and tag not in found:
            found.append(tag)
    return tuple(found)


def channel_tags(citation: str) -> tuple[str, ...]:
    """Names of the `<#C…|name>` channel links in a citation, lowercased, deduplicated, order
    kept (Slack makes `#kudos` such a link when a channel of that name exists)."""
    found: list[str] = []
    for match in CHANNEL.finditer(citation):
        name = (match.group(2) or "").lower()
        if name and name not in found:
            found.append(name)
    return tuple(found)

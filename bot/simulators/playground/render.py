"""Block Kit and mrkdwn to HTML, the way Slack's client shows them (closely enough to read).

Everything that comes from a message, a view or a person is escaped here; the only markup in
the output is what these functions write. Interactive elements carry `data-*` attributes the
page's script reads (`data-action-id`, `data-block-id`, `data-value`, `data-confirm`); the
message or view they sit in is named by its container (see `pages`).

Input blocks (modals) are rendered from `InputState`: what the person typed last (a draft kept
by the page between a refused submission and the next) or else the element's initial values,
with the inline error for the block underneath.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Element = Mapping[str, Any]

EMOJI = {
    "tada": "🎉",
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "x": "❌",
    "warning": "⚠️",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳",
    "gift": "🎁",
    "trophy": "🏆",
    "star": "⭐",
    "taco": "🌮",
    "sparkles": "✨",
    "clap": "👏",
    "raised_hands": "🙌",
    "wave": "👋",
    "thumbsup": "👍",
    "+1": "👍",
    "moneybag": "💰",
    "email": "📧",
    "link": "🔗",
    "lock": "🔒",
    "bell": "🔔",
    "mag": "🔍",
    "memo": "📝",
    "calendar": "📅",
    "chart_with_upwards_trend": "📈",
    "test_tube": "🧪",
    "no_entry_sign": "🚫",
    "information_source": "ℹ️",
    "heart": "❤️",
    "fire": "🔥",
    "rocket": "🚀",
}
SAFE_SCHEMES = ("http://", "https://", "mailto:")


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def attr_json(value: object) -> str:
    return esc(json.dumps(value, separators=(",", ":")))


@dataclass(frozen=True)
class Directory:
    """Names for people and channels, as the workspace has them."""

    users: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    channels: Mapping[str, str] = field(default_factory=dict)  # id -> name

    @classmethod
    def from_lists(
        cls, users: Sequence[Mapping[str, Any]], channels: Sequence[Mapping[str, Any]]
    ) -> Directory:
        return cls(
            users={u["id"]: u for u in users},
            channels={c["id"]: str(c.get("name") or c["id"]) for c in channels if c.get("name")},
        )

    def name(self, user_id: str) -> str:
        found = self.users.get(user_id)
        if not found:
            return user_id
        return str(found.get("real_name") or found.get("name") or user_id)

    def handle(self, user_id: str) -> str:
        found = self.users.get(user_id)
        return str(found.get("name") or user_id) if found else user_id

    def people(self, *, besides: str = "") -> list[tuple[str, str]]:
        """(id, name) of the people a people picker offers, by name: active humans, not
        `besides` (the person picking) and not bots."""
        return [
            (uid, name)
            for uid, name in self.selectable()
            if uid != besides and not self.users[uid].get("is_bot")
        ]

    def selectable(self) -> list[tuple[str, str]]:
        """(id, name) of the people a user select offers: everyone not deactivated, people
        before bots, by name."""
        found = [
            (bool(user.get("is_bot")), self.name(uid), uid)
            for uid, user in self.users.items()
            if not user.get("deleted") and uid != "USLACKBOT"
        ]
        return [(uid, name) for _, name, uid in sorted(found)]


# ── mrkdwn ───────────────────────────────────────────────────────────────────────────────

_HOLD = re.compile("\ue000(\\d+)\ue001")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])")
_EMOJI = re.compile(r":([a-z0-9_+\-]+):")


def unslack(text: str) -> str:
    """Slack's three entities back to characters."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# An emoji as the page shows it: the character, with its :name: for machines that have no colour
# emoji font (the page's script then shows the name instead, as Slack shows an emoji it lacks).
_BMP_EMOJI = "".join(sorted({c[0] for c in EMOJI.values() if c[0] < "\U00010000"}))
_PICTURE = re.compile(
    "(?:[\U0001f1e6-\U0001f1ff]{2}"  # flags
    "|(?:[\U0001f300-\U0001faff" + _BMP_EMOJI + "]\ufe0f?|[\u2190-\u2bff]\ufe0f)"
    "(?:\u200d[\U0001f300-\U0001faff\u2600-\u27bf]\ufe0f?)*)"
)  # pictographs, the page's known emoji, and any symbol asked to show as an emoji (FE0F)
_NAMES = {char: name for name, char in reversed(EMOJI.items())}


def emoji_name(char: str) -> str:
    """`:tada:` for 🎉: Slack's name where the page knows it, else Unicode's."""
    known = _NAMES.get(char) or _NAMES.get(char + "\ufe0f") or _NAMES.get(char.rstrip("\ufe0f"))
    if known:
        return f":{known}:"
    try:
        return ":" + unicodedata.name(char[0]).lower().replace(" ", "_") + ":"
    except ValueError:
        return ""


def emoji(text: str) -> str:
    """:names: as their emoji, and every emoji marked (`<span class="emoji">`) with its name."""
    text = _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)

    def mark(found: re.Match[str]) -> str:
        name = emoji_name(found.group(0))
        if not name:
            return found.group(0)
        return f'<span class="emoji" data-name="{esc(name)}">{found.group(0)}</span>'

    return _PICTURE.sub(mark, text)


def _link(url: str, label: str) -> str:
    url = unslack(url)
    if not url.lower().startswith(SAFE_SCHEMES):
        return esc(label or url)
    return f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{esc(label or url)}</a>'


def _angle(inner: str, names: Directory) -> str:
    target, _, label = inner.partition("|")
    label = unslack(label)
    if target.startswith("@"):
        uid = target[1:]
        shown = names.name(uid) if uid in names.users else (label or uid)
        return f'<span class="mention">@{esc(shown)}</span>'
    if target.startswith("#"):
        cid = target[1:]
        shown = names.channels.get(cid) or label or cid
        return f'<span class="mention">#{esc(shown)}</span>'
    if target.startswith("!"):
        command = target[1:]
        if command in ("here", "channel", "everyone"):
            return f'<span class="mention">@{command}</span>'
        if label:
            return esc(label.lstrip("@") if command.startswith("subteam") else label)
        return esc(command)
    return _link(target, label)


def mrkdwn(text: str, names: Directory) -> str:
    """Slack mrkdwn as HTML: *bold*, _italic_, ~strike~, `code`, ```blocks```, > quotes,
    <links|labels>, <@mentions>, <#channels>, :emoji: and line breaks."""
    held: list[str] = []

    def hold(markup: str) -> str:
        held.append(markup)
        return f"\ue000{len(held) - 1}\ue001"

    text = text.replace("\ue000", "").replace("\ue001", "")
    text = re.sub(
        r"```\n?(.*?)```",
        lambda m: hold(f'<pre class="md-pre">{esc(unslack(m.group(1)))}</pre>'),
        text,
        flags=re.S,
    )
    text = re.sub(r"`([^`\n]+)`", lambda m: hold(f"<code>{esc(unslack(m.group(1)))}</code>"), text)
    text = re.sub(r"<([^<>\n]+)>", lambda m: hold(_angle(m.group(1), names)), text)
    lines = []
    for line in text.split("\n"):
        quoted = line.startswith(("&gt;", ">"))
        if quoted:
            line = line.removeprefix("&gt;").removeprefix(">").removeprefix(" ")
        shown = esc(unslack(line))
        shown = _BOLD.sub(r"<b>\1</b>", shown)
        shown = _ITALIC.sub(r"<i>\1</i>", shown)
        shown = _STRIKE.sub(r"<s>\1</s>", shown)
        shown = emoji(shown)
        lines.append(f'<span class="md-quote">{shown}</span>' if quoted else shown)
    out = "<br>".join(lines)
    while _HOLD.search(out):
        out = _HOLD.sub(lambda m: held[int(m.group(1))], out)
    return out


def plain(obj: Any) -> str:
    """A plain_text object (or a string) as escaped HTML."""
    text = obj.get("text", "") if isinstance(obj, Mapping) else str(obj or "")
    return emoji(esc(text)).replace("\n", "<br>")


def text_html(obj: Any, names: Directory) -> str:
    """A text object of either type."""
    if isinstance(obj, Mapping) and obj.get("type") == "mrkdwn":
        return mrkdwn(str(obj.get("text", "")), names)
    return plain(obj)


def option_text(option: Mapping[str, Any]) -> str:
    text = option.get("text")
    return str(text.get("text", "")) if isinstance(text, Mapping) else str(text or "")


# ── elements in messages and views ───────────────────────────────────────────────────────


def _ids(element: Element, block_id: str) -> str:
    return f'data-action-id="{esc(element.get("action_id", ""))}" data-block-id="{esc(block_id)}"'


def button(element: Element, block_id: str, names: Directory) -> str:
    style = element.get("style")
    classes = "btn" + (f" btn-{style}" if style in ("primary", "danger") else "")
    extra = ""
    if isinstance(element.get("confirm"), Mapping):
        confirm = element["confirm"]
        dialog = {
            "title": option_text({"text": confirm.get("title")}) or "Are you sure?",
            "text": text_html(confirm.get("text"), names),
            "confirm": option_text({"text": confirm.get("confirm")}) or "Yes",
            "deny": option_text({"text": confirm.get("deny")}) or "Cancel",
            "style": confirm.get("style") or "",
        }
        extra += f' data-confirm="{attr_json(dialog)}"'
    if element.get("url"):
        extra += f' data-url="{esc(element["url"])}"'
    return (
        f'<button type="button" class="{classes}" data-kind="button" {_ids(element, block_id)} '
        f'data-value="{esc(element.get("value", ""))}"{extra}>{plain(element.get("text"))}</button>'
    )


def _options(element: Element) -> list[Mapping[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += list(group.get("options") or [])
    return options


def action_select(element: Element, block_id: str, names: Directory) -> str:
    """A select in a message or the App Home: picking sends block_actions at once."""
    kind = str(element.get("type"))
    placeholder = option_text({"text": element.get("placeholder")}) or "Select…"
    if kind == "overflow":
        placeholder = "⋯"
    choices: list[tuple[str, str]]
    if kind in ("users_select", "multi_users_select"):
        choices = names.selectable()
    elif kind in ("conversations_select", "channels_select"):
        choices = [(cid, f"#{name}") for cid, name in names.channels.items()]
    else:
        choices = [(str(o.get("value", "")), option_text(o)) for o in _options(element)]
    chosen = "" if kind == "overflow" else str(_initial(element) or "")
    if kind == "external_select" and chosen:
        choices = [(chosen, option_text(element["initial_option"]))]
    rows = [f'<option value="">{esc(placeholder)}</option>']
    rows += [
        f'<option value="{esc(v)}"{" selected" if v == chosen else ""}>{esc(label)}</option>'
        for v, label in choices
    ]
    return (
        f'<select class="action-select" data-kind="{esc(kind)}" {_ids(element, block_id)}>'
        f"{''.join(rows)}</select>"
    )


def element_html(element: Element, block_id: str, names: Directory) -> str:
    kind = element.get("type")
    if kind == "button":
        return button(element, block_id, names)
    if kind == "image":
        return (
            f'<img class="el-image" src="{esc(element.get("image_url", ""))}" '
            f'alt="{esc(element.get("alt_text", ""))}">'
        )
    if kind in ("plain_text", "mrkdwn"):
        return f"<span>{text_html(element, names)}</span>"
    if kind in (
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "overflow",
    ):
        return action_select(element, block_id, names)
    return f'<span class="unsupported">[{esc(kind)}]</span>'


# ── blocks ───────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class InputState:
    """What a modal's inputs show: the person's draft (raw values by block and action id) or
    the initial values, and the inline errors by block id."""

    draft: Mapping[str, Mapping[str, Any]] | None = None
    errors: Mapping[str, str] = field(default_factory=dict)
    me: str = ""  # the visitor: a people picker doesn't offer them
    # What the bot offered in this view's external selects (by action id), to name a pick.
    offered: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)


def block_html(block: Mapping[str, Any], names: Directory, inputs: InputState | None = None) -> str:
    kind = block.get("type")
    block_id = str(block.get("block_id", ""))
    if kind == "header":
        return f'<div class="b-header">{plain(block.get("text"))}</div>'
    if kind == "divider":
        return '<hr class="b-divider">'
    if kind == "section":
        parts = []
        if block.get("text"):
            parts.append(f'<div class="b-text">{text_html(block["text"], names)}</div>')
        if block.get("fields"):
            cells = "".join(
                f'<div class="b-field">{text_html(f, names)}</div>' for f in block["fields"]
            )
            parts.append(f'<div class="b-fields">{cells}</div>')
        accessory = ""
        if isinstance(block.get("accessory"), Mapping):
            accessory = (
                f'<div class="b-accessory">{element_html(block["accessory"], block_id, names)}'
                "</div>"
            )
        return f'<div class="b-section"><div class="b-main">{"".join(parts)}</div>{accessory}</div>'
    if kind == "context":
        items = []
        for element in block.get("elements") or []:
            if element.get("type") == "image":
                items.append(
                    f'<img class="ctx-image" src="{esc(element.get("image_url", ""))}" '
                    f'alt="{esc(element.get("alt_text", ""))}">'
                )
            else:
                items.append(f"<span>{text_html(element, names)}</span>")
        return f'<div class="b-context">{"".join(items)}</div>'
    if kind == "actions":
        items = [element_html(e, block_id, names) for e in block.get("elements") or []]
        return f'<div class="b-actions">{"".join(items)}</div>'
    if kind == "image":
        title = (
            f'<div class="b-image-title">{plain(block["title"])}</div>'
            if block.get("title")
            else ""
        )
        url = block.get("image_url") or (block.get("slack_file") or {}).get("url") or ""
        return (
            f'<figure class="b-image">{title}<img src="{esc(url)}" '
            f'alt="{esc(block.get("alt_text", ""))}"></figure>'
        )
    if kind == "input":
        return input_html(block, names, inputs or InputState())
    if kind == "markdown":
        return f'<div class="b-text">{mrkdwn(str(block.get("text", "")), names)}</div>'
    if kind == "rich_text":
        return f'<div class="b-text">{esc(_rich_text(block))}</div>'
    return f'<div class="unsupported">Unsupported block: {esc(kind)}</div>'


def _rich_text(node: Any) -> str:
    if isinstance(node, Mapping):
        if isinstance(node.get("text"), str):
            return str(node["text"])
        return "".join(_rich_text(e) for e in node.get("elements") or [])
    if isinstance(node, list):
        return "".join(_rich_text(e) for e in node)
    return ""


def blocks_html(
    blocks: Sequence[Mapping[str, Any]], names: Directory, inputs: InputState | None = None
) -> str:
    return "".join(block_html(b, names, inputs) for b in blocks if isinstance(b, Mapping))


# ── inputs (modals) ──────────────────────────────────────────────────────────────────────


def _initial(element: Element) -> Any:
    """The element's initial value in the page's raw form: a string or a list of strings."""
    kind = element.get("type")
    if kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
        return str(element.get("initial_value") or "")
    if kind in ("static_select", "external_select", "radio_buttons"):
        found = element.get("initial_option")
        return str(found.get("value", "")) if isinstance(found, Mapping) else ""
    if kind in ("checkboxes", "multi_static_select"):
        return [str(o.get("value", "")) for o in element.get("initial_options") or []]
    if kind == "users_select":
        return str(element.get("initial_user") or "")
    if kind == "multi_users_select":
        return [str(u) for u in element.get("initial_users") or []]
    if kind in ("conversations_select", "channels_select"):
        return str(element.get("initial_conversation") or element.get("initial_channel") or "")
    if kind == "datepicker":
        return str(element.get("initial_date") or "")
    return ""


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)] if value else []


def _select(
    attrs: str, placeholder: str, choices: Sequence[tuple[str, str]], chosen: str, field_id: str
) -> str:
    rows = [f'<option value="">{esc(placeholder or "Select an item")}</option>']
    for value, label in choices:
        selected = " selected" if value == chosen else ""
        rows.append(f'<option value="{esc(value)}"{selected}>{esc(label)}</option>')
    return f'<select id="{field_id}" class="field" {attrs}>{"".join(rows)}</select>'


def _ticks(
    attrs: str, choices: Sequence[tuple[str, str]], chosen: Sequence[str], *, radio: bool = False
) -> str:
    """Checkboxes or radio buttons; `choices` are (value, the label as HTML)."""
    kind = "radio" if radio else "checkbox"
    rows = []
    for value, label in choices:
        checked = " checked" if value in chosen else ""
        rows.append(
            f'<label class="tick"><input type="{kind}" value="{esc(value)}" {attrs}'
            f"{checked}> {label}</label>"
        )
    return f'<div class="ticks">{"".join(rows)}</div>'


def _people_picker(
    attrs: str, field_id: str, label: str, names: Directory, chosen: Sequence[str], me: str
) -> str:
    """A multi_users_select as Slack draws it: the people picked as chips, and a search box
    whose matches drop down below it (the page's script does the searching)."""
    chips = "".join(
        f'<span class="chip" data-value="{esc(uid)}">{esc(names.name(uid))}'
        f'<button type="button" class="chip-x" aria-label="Remove {esc(names.name(uid))}">×'
        "</button></span>"
        for uid in dict.fromkeys(chosen)
    )
    options = "".join(
        f'<li role="option" class="picker-option" data-value="{esc(uid)}" '
        f'data-search="{esc((name + " " + names.handle(uid)).lower())}" aria-selected="false">'
        f'<span class="picker-name">{esc(name)}</span> '
        f'<span class="muted">@{esc(names.handle(uid))}</span></li>'
        for uid, name in names.people(besides=me)
    )
    list_id = f"{field_id}-options"
    return (
        f'<div class="picker" {attrs}>'
        f'<div class="field picker-box">{chips}<input id="{field_id}" class="picker-search" '
        f'type="text" role="combobox" autocomplete="off" aria-autocomplete="list" '
        f'aria-expanded="false" aria-controls="{list_id}" data-placeholder="{esc(label)}" '
        f'placeholder="{"" if chips else esc(label)}"></div>'
        f'<ul id="{list_id}" class="picker-list" role="listbox" hidden>{options}'
        '<li class="picker-none muted" hidden>No one matches that</li></ul></div>'
    )


def _external_select(
    attrs: str, field_id: str, element: Element, value: str, label: str, placeholder: str
) -> str:
    """An external_select as Slack draws it: a search box whose options the page's script asks
    the bot for (block_suggestion) as the person types, from `min_query_length` characters
    (Slack's default is 3); the pick shows in the box. `label` is the picked option's text."""
    shown = label if value else ""
    least = element.get("min_query_length")
    least = least if isinstance(least, int) and not isinstance(least, bool) else 3
    list_id = f"{field_id}-options"
    return (
        f'<div class="ext-select" {attrs} data-value="{esc(value if shown else "")}" '
        f'data-label="{esc(shown)}" data-min-query="{max(0, least)}">'
        f'<input id="{field_id}" class="field ext-search" type="text" role="combobox" '
        f'autocomplete="off" aria-autocomplete="list" aria-expanded="false" '
        f'aria-controls="{list_id}" data-placeholder="{esc(placeholder or "Select an item")}" '
        f'placeholder="{esc(placeholder or "Select an item")}" value="{esc(shown)}">'
        f'<ul id="{list_id}" class="picker-list ext-list" role="listbox" aria-busy="false" '
        "hidden></ul></div>"
    )


def _picked_label(element: Element, value: str, offered: Sequence[Mapping[str, Any]]) -> str:
    candidates = [element.get("initial_option"), *offered]
    for found in candidates:
        if isinstance(found, Mapping) and str(found.get("value", "")) == value:
            return option_text(found)
    return ""


def input_html(block: Mapping[str, Any], names: Directory, inputs: InputState) -> str:
    block_id = str(block.get("block_id", ""))
    element: Element = block.get("element") or {}
    action_id = str(element.get("action_id", ""))
    kind = str(element.get("type", ""))
    field_id = esc(f"in-{block_id}")
    draft = (inputs.draft or {}).get(block_id, {})
    value = draft[action_id] if action_id in draft else _initial(element)
    attrs = (
        f'data-input="{esc(kind)}" data-block-id="{esc(block_id)}" '
        f'data-action-id="{esc(action_id)}" name="{esc(block_id)}"'
    )
    if block.get("dispatch_action"):
        attrs += " data-dispatch"
    placeholder = option_text({"text": element.get("placeholder")})
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        shown = esc(value if isinstance(value, str) else "")
        hint = f' placeholder="{esc(placeholder)}"' if placeholder else ""
        if element.get("multiline"):
            control = (
                f'<textarea id="{field_id}" class="field" rows="4" {attrs}{hint}>{shown}</textarea>'
            )
        else:
            mode = ' inputmode="decimal"' if kind == "number_input" else ""
            control = (
                f'<input id="{field_id}" class="field" type="text" {attrs}{hint}{mode} '
                f'value="{shown}">'
            )
    elif kind == "external_select":
        chosen = str(value or "")
        label = _picked_label(element, chosen, inputs.offered.get(action_id, ()))
        control = _external_select(attrs, field_id, element, chosen, label, placeholder)
    elif kind == "static_select":
        choices = [(str(o.get("value", "")), option_text(o)) for o in _options(element)]
        control = _select(attrs, placeholder, choices, str(value or ""), field_id)
    elif kind == "users_select":
        control = _select(attrs, placeholder, names.selectable(), str(value or ""), field_id)
    elif kind in ("conversations_select", "channels_select"):
        choices = [(cid, f"#{name}") for cid, name in names.channels.items()]
        control = _select(attrs, placeholder, choices, str(value or ""), field_id)
    elif kind == "multi_users_select":
        control = _people_picker(
            attrs, field_id, placeholder or "Search people", names, _as_list(value), inputs.me
        )
    elif kind in ("checkboxes", "multi_static_select", "radio_buttons"):
        # a checkbox's or radio button's text may be mrkdwn (`<#C…>` shows as #name, as in
        # Slack); a select's options are plain text
        choices = [
            (str(o.get("value", "")), text_html(o.get("text"), names)) for o in _options(element)
        ]
        control = _ticks(attrs, choices, _as_list(value), radio=kind == "radio_buttons")
    elif kind == "datepicker":
        control = f'<input id="{field_id}" class="field" type="date" {attrs} value="{esc(value)}">'
    elif kind == "file_input":  # the page reads the file; submitting uploads it as the person
        accept = ",".join(f".{t}" for t in element.get("filetypes") or [])
        control = (
            f'<input id="{field_id}" class="field" type="file" {attrs}'
            + (f' accept="{esc(accept)}"' if accept else "")
            + ">"
        )
    else:
        control = f'<div class="unsupported">Unsupported input: {esc(kind)}</div>'
    optional = ' <span class="optional">(optional)</span>' if block.get("optional") else ""
    label = f'<label class="label" for="{field_id}">{plain(block.get("label"))}{optional}</label>'
    hint_html = f'<div class="hint">{plain(block["hint"])}</div>' if block.get("hint") else ""
    error = inputs.errors.get(block_id)
    error_html = f'<div class="field-error" role="alert">{esc(error)}</div>' if error else ""
    classes = "b-input has-error" if error else "b-input"
    return (
        f'<div class="{classes}" data-input-block="{esc(block_id)}">{label}{control}'
        f"{error_html}{hint_html}</div>"
    )

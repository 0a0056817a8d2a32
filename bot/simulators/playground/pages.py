"""The page's HTML, piece by piece: the person picker, the sidebar, a conversation (messages
and the visitor's ephemerals), the App Home, the open modal, the sandbox's view and the jobs.

Each piece is a pure function of what it shows (a `Screen` plus data read from the fake
workspace), so the full page and the live updates (`/ui/pane`) render the same HTML.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.simulators.playground import sandbox_control
from bot.simulators.playground.clock import Jump
from bot.simulators.playground.jobs import JobInfo
from bot.simulators.playground.render import (
    Directory,
    InputState,
    blocks_html,
    emoji,
    esc,
    mrkdwn,
    plain,
)
from bot.simulators.playground.sandbox_view import SandboxView
from bot.slack.ids import SHORTCUT_TYPES, Shortcut

# The names Slack shows for the shortcuts (manifest.yml; a test keeps them equal).
SHORTCUT_NAMES: Mapping[Shortcut, str] = {
    Shortcut.SEND_REWARD: "Send a reward",
    Shortcut.REWARD_MESSAGE: "Reward this message",
    Shortcut.REPORT_REWARD: "Report this reward",
}
GLOBAL_SHORTCUTS = [s for s, kind in SHORTCUT_TYPES.items() if kind == "global"]
MESSAGE_SHORTCUTS = [s for s, kind in SHORTCUT_TYPES.items() if kind == "message"]

DM = "dm"
HOME = "home"
SANDBOX = "sandbox"
JOBS = "jobs"
TOOLS = (SANDBOX, JOBS)
APP_NAME = "Rewards"  # manifest.yml display name
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")


@dataclass(frozen=True)
class Screen:
    me: Mapping[str, Any]  # the workspace user the visitor is
    view: str  # a channel id, DM, HOME, SANDBOX or JOBS
    names: Directory
    role: str
    reactions: tuple[str, ...] = ()  # the emoji that give (REWARD_REACTIONS), offered to add

    @property
    def user_id(self) -> str:
        return str(self.me["id"])

    @property
    def tz(self) -> ZoneInfo:
        try:
            return ZoneInfo(str(self.me.get("tz") or "UTC"))
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    def link(self, view: str) -> str:
        return "/?" + urlencode({"as": self.user_id, "view": view})


# ── small pieces ─────────────────────────────────────────────────────────────────────────


def _color(user_id: str) -> str:
    hue = int(hashlib.sha1(user_id.encode()).hexdigest()[:4], 16) % 360
    return f"hsl({hue} 45% 42%)"


def avatar(user_id: str, names: Directory, *, bot: bool = False) -> str:
    if bot:
        return '<div class="avatar avatar-bot" aria-hidden="true">🎁</div>'
    initials = "".join(part[:1] for part in names.name(user_id).split()[:2]).upper() or "?"
    return (
        f'<div class="avatar" style="background:{_color(user_id)}" aria-hidden="true">'
        f"{esc(initials)}</div>"
    )


def clock(ts: str, tz: ZoneInfo) -> tuple[str, str]:
    when = datetime.fromtimestamp(float(ts), tz)
    return when.strftime("%H:%M"), when.strftime("%a %d %b %Y %H:%M %Z")


def role_badge(role: str) -> str:
    return "" if role == "member" else f'<span class="role role-{role}">{esc(role)}</span>'


# ── the person picker ────────────────────────────────────────────────────────────────────


def who_select(people: Sequence[Mapping[str, Any]], roles: Mapping[str, str], me: str) -> str:
    rows = []
    for person in people:
        role = roles[person["id"]]
        suffix = "" if role == "member" else f" ({role})"
        selected = " selected" if person["id"] == me else ""
        rows.append(
            f'<option value="{esc(person["id"])}"{selected}>'
            f"{esc(person.get('real_name') or person['name'])}{esc(suffix)}</option>"
        )
    placeholder = "" if me else '<option value="" selected>Pick who you are…</option>'
    return (
        '<label class="who"><span>You are</span>'
        f'<select id="who" aria-label="You are">{placeholder}{"".join(rows)}</select></label>'
    )


def chooser(people: Sequence[Mapping[str, Any]], roles: Mapping[str, str], about: str) -> str:
    cards = []
    for person in people:
        uid = person["id"]
        email = person.get("profile", {}).get("email") or "no email"
        name = person.get("real_name") or person["name"]
        cards.append(
            f'<a class="person" href="/?{urlencode({"as": uid})}">'
            f"{avatar(uid, Directory(users={uid: person}))}"
            f'<span class="person-name">{esc(name)} {role_badge(roles[uid])}</span>'
            f'<span class="person-meta">@{esc(person["name"])} · {esc(email)} · '
            f"{esc(person.get('tz', 'UTC'))}</span></a>"
        )
    return (
        '<div class="chooser"><h1>Who are you?</h1>'
        "<p>Pick one of the seeded people. Open another tab to be someone else at the same "
        "time.</p>"
        f'<div class="people">{"".join(cards)}</div>'
        f'<p class="about">{about}</p></div>'
    )


# ── sidebar ──────────────────────────────────────────────────────────────────────────────


def sidebar(
    screen: Screen,
    *,
    channels: Sequence[Mapping[str, Any]],
    unread: Mapping[str, int],
    jobs: bool,
) -> str:
    def item(view: str, label: str, *, count: int = 0, extra: str = "") -> str:
        active = " active" if screen.view == view else ""
        badge = f'<span class="badge">{count}</span>' if count else ""
        bold = " unread" if count else ""
        return (
            f'<a class="nav-item{active}{bold}" href="{esc(screen.link(view))}" '
            f'data-view="{esc(view)}"{extra}>{label}{badge}</a>'
        )

    rows = ['<div class="nav-title">Channels</div>']
    for channel in channels:
        cid = channel["id"]
        rows.append(item(cid, f"<span># {esc(channel['name'])}</span>", count=unread.get(cid, 0)))
    rows.append('<div class="nav-title">Direct messages</div>')
    rows.append(item(DM, "<span>🎁 rewardbot</span>", count=unread.get(DM, 0)))
    rows.append('<div class="nav-title">Apps</div>')
    rows.append(item(HOME, f"<span>🏠 {APP_NAME} · Home</span>"))
    rows.append('<div class="nav-title">Playground</div>')
    rows.append(item(SANDBOX, "<span>🧪 Plum sandbox</span>"))
    if jobs:
        rows.append(item(JOBS, "<span>⏱ Scheduled jobs</span>"))
    return "".join(rows)


# ── conversations ────────────────────────────────────────────────────────────────────────


def _files(message: Mapping[str, Any]) -> str:
    out = []
    for found in message.get("files") or []:
        url = str(found.get("url_private", ""))
        name = str(found.get("title") or found.get("name") or "file")
        if str(found.get("name", "")).lower().endswith(IMAGE_SUFFIXES):
            out.append(
                f'<figure class="file-image"><img src="{esc(url)}" alt="{esc(name)}">'
                f"<figcaption>{esc(name)}</figcaption></figure>"
            )
        else:
            size = int(found.get("size") or 0)
            out.append(
                f'<a class="file" href="{esc(url)}" download>📎 {esc(name)} '
                f'<span class="file-size">{size:,} bytes</span></a>'
            )
    return "".join(out)


def reactions_html(message: Mapping[str, Any], screen: Screen) -> str:
    """The reactions under a message as Slack shows them (the emoji and a count, yours marked:
    click to add or remove yours), and the emoji that give, to add one."""
    shown = []
    have = set()
    for reaction in message.get("reactions") or []:
        name = str(reaction.get("name") or "")
        users = reaction.get("users") or []
        have.add(name)
        mine = " mine" if screen.user_id in users else ""
        shown.append(
            f'<button type="button" class="reaction{mine}" data-react="{esc(name)}" '
            f'title=":{esc(name)}:">{emoji(esc(f":{name}:"))} {int(reaction.get("count") or 0)}'
            "</button>"
        )
    offered = [
        f'<button type="button" class="reaction add" data-react="{esc(name)}" '
        f'title="React with :{esc(name)}:">+ {emoji(esc(f":{name}:"))}</button>'
        for name in screen.reactions
        if name not in have
    ]
    if not shown and not offered:
        return ""
    return f'<div class="reactions">{"".join(shown)}{"".join(offered)}</div>'


def message_html(message: Mapping[str, Any], screen: Screen) -> str:
    names = screen.names
    ephemeral = message.get("subtype") == "ephemeral"
    from_bot = bool(message.get("bot_id"))
    author_id = str(message.get("user") or "")
    author = "rewardbot" if from_bot else names.name(author_id)
    short, full = clock(str(message["ts"]), screen.tz)
    blocks = message.get("blocks") or []
    body = blocks_html(blocks, names) if blocks else mrkdwn(str(message.get("text") or ""), names)
    notes = []
    if ephemeral:
        notes.append('<div class="only-you">👁 Only visible to you</div>')
    thread = message.get("thread_ts")
    if thread and thread != message.get("ts"):
        notes.append('<div class="in-thread">↳ replied in a thread</div>')
    edited = ' <span class="edited">(edited)</span>' if message.get("edited") else ""
    badge = '<span class="app-badge">APP</span>' if from_bot else ""
    menu = ""
    if not ephemeral and MESSAGE_SHORTCUTS:
        entries = "".join(
            f'<button type="button" role="menuitem" data-shortcut="{esc(s)}">'
            f"{esc(SHORTCUT_NAMES.get(s, str(s)))}</button>"
            for s in MESSAGE_SHORTCUTS
        )
        menu = (
            '<div class="msg-tools"><button type="button" class="more" title="More actions" '
            f'aria-label="More actions">⋮</button><div class="menu" role="menu" hidden>{entries}'
            "</div></div>"
        )
    classes = "msg ephemeral" if ephemeral else "msg"
    return (
        f'<div class="{classes}" id="m{esc(str(message["ts"]).replace(".", ""))}" '
        f'data-container="message" data-channel="{esc(message["channel"])}" '
        f'data-ts="{esc(message["ts"])}" data-ephemeral="{"1" if ephemeral else ""}">'
        f"{avatar(author_id, names, bot=from_bot)}"
        f'<div class="msg-body"><div class="msg-head"><span class="author">{esc(author)}</span>'
        f'{badge}<time title="{esc(full)}">{esc(short)}</time>{edited}</div>'
        f'{"".join(notes)}<div class="msg-content">{body}</div>{_files(message)}'
        f"{'' if ephemeral else reactions_html(message, screen)}</div>{menu}</div>"
    )


def conversation(
    screen: Screen, *, title: str, subtitle: str, messages: Sequence[Mapping[str, Any]]
) -> str:
    rows = [message_html(m, screen) for m in messages]
    empty = (
        '<div class="empty">No messages yet. Try <code>/reward help</code> below.</div>'
        if not rows
        else ""
    )
    return (
        f'<header class="pane-head"><h1>{title}</h1><div class="sub">{subtitle}</div></header>'
        f'<div class="messages" id="messages">{empty}{"".join(rows)}</div>'
    )


def app_tabs(screen: Screen) -> str:
    tabs = []
    for view, label in ((HOME, "Home"), (DM, "Messages")):
        active = " active" if screen.view == view else ""
        tabs.append(f'<a class="tab{active}" href="{esc(screen.link(view))}">{label}</a>')
    return (
        f'<header class="pane-head app-head"><h1>🎁 {APP_NAME}</h1>'
        f'<nav class="tabs">{"".join(tabs)}</nav></header>'
    )


def dm_pane(screen: Screen, *, messages: Sequence[Mapping[str, Any]]) -> str:
    rows = [message_html(m, screen) for m in messages]
    empty = (
        '<div class="empty">Nothing from the bot yet. Rewards, approvals and receipts land '
        "here.</div>"
        if not rows
        else ""
    )
    return f'{app_tabs(screen)}<div class="messages" id="messages">{empty}{"".join(rows)}</div>'


def home_pane(screen: Screen, view: Mapping[str, Any] | None) -> str:
    if view is None:
        inner = '<div class="empty">Opening your Home…</div>'
    else:
        inner = (
            f'<div class="home-view" data-container="view" data-view-id="{esc(view["id"])}">'
            f"{blocks_html(view.get('blocks') or [], screen.names)}</div>"
        )
    return f'{app_tabs(screen)}<div class="home" id="home">{inner}</div>'


# ── modal ────────────────────────────────────────────────────────────────────────────────


def modal_html(
    view: Mapping[str, Any] | None,
    screen: Screen,
    *,
    draft: Mapping[str, Mapping[str, Any]] | None,
    errors: Mapping[str, str],
    depth: int,
    offered: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> str:
    if view is None:
        return ""
    inputs = InputState(draft=draft, errors=errors, me=screen.user_id, offered=offered or {})
    body = blocks_html(view.get("blocks") or [], screen.names, inputs)
    title = plain(view.get("title")) or "App"
    close = plain(view.get("close")) or "Cancel"
    submit = (
        f'<button type="submit" class="btn btn-primary">{plain(view["submit"])}</button>'
        if view.get("submit")
        else ""
    )
    back = "← " if depth > 1 else ""
    return (
        '<div class="overlay">'
        f'<form class="modal" data-container="view" data-view-id="{esc(view["id"])}" '
        f'aria-label="{esc(title)}" novalidate>'
        f'<header class="modal-head"><h2>{back}{title}</h2>'
        '<button type="button" class="x" data-close aria-label="Close">×</button></header>'
        f'<div class="modal-body">{body}</div>'
        f'<footer class="modal-foot"><button type="button" class="btn" data-close>{close}'
        f"</button>{submit}</footer></form></div>"
    )


# ── the playground's own panes ───────────────────────────────────────────────────────────


def _amount(text: str) -> str:
    try:
        return f"{Decimal(text):,.2f}"
    except InvalidOperation:
        return text


def sandbox_pane(view: SandboxView | None) -> str:
    head = (
        '<header class="pane-head"><h1>🧪 Plum sandbox</h1><div class="sub">What Xoxoday Plum '
        "received from the bot. The sandbox is local: no real points or money move.</div>"
        "</header>"
    )
    if view is None:
        return head + '<div class="tool"><p>The bot is not using the sandbox.</p></div>'
    people = (
        "".join(
            f"<tr><td>{esc(p.name)}</td><td>{esc(p.email)}</td>"
            f'<td class="num">{p.points:,}</td></tr>'
            for p in view.people
        )
        or '<tr><td colspan="3" class="muted">'
        + (
            "None here: with --storefront, points live in the bot (see Store orders below)."
            if view.storefront
            else "Nobody has received points yet."
        )
        + "</td></tr>"
    )
    txs = (
        "".join(
            f"<tr><td>{esc(t['unique_id'])}</td><td>{esc(t['name'])}</td>"
            f'<td class="num">{int(t["points"]):,}</td>'
            f"<td>{esc(str(t['sent_at'])[:16].replace('T', ' '))}</td>"
            f"<td>{esc(str(t['expires_at'])[:10])}</td><td>{_tx_status(t)}</td></tr>"
            for t in view.transactions
        )
        or '<tr><td colspan="6" class="muted">No transactions yet.</td></tr>'
    )
    reqs = (
        "".join(
            f"<li><time>{esc(r['at'][11:19])}</time> {esc(r['operation'])}</li>"
            for r in view.requests
        )
        or '<li class="muted">No requests yet.</li>'
    )
    return (
        f'{head}<div class="tool" id="sandbox">'
        f'<div class="stat"><span>Account balance</span><strong id="sandbox-balance">'
        f"{esc(_amount(view.balance))} {esc(view.currency)}</strong></div>"
        f"{fault_control(view.faults)}"
        '<h2>Points per person</h2><div class="table-wrap">'
        '<table class="grid" id="sandbox-points"><thead><tr>'
        '<th>Person</th><th>Email</th><th class="num">Points</th></tr></thead>'
        f"<tbody>{people}</tbody></table></div>"
        '<h2>Transactions</h2><div class="table-wrap"><table class="grid"><thead><tr>'
        "<th>#</th><th>To</th>"
        '<th class="num">Points</th><th>Sent (UTC)</th><th>Expires</th><th>Status</th></tr>'
        f"</thead><tbody>{txs}</tbody></table></div>"
        f"{_store_orders(view)}"
        f"<h2>Last requests ({view.request_count:,} in all)</h2>"
        f'<ul class="requests">{reqs}</ul></div>'
    )


STORE_STATUS = {"placed": "Placed", "refused": "Refused", "no answer": "No answer"}


def _store_orders(view: SandboxView) -> str:
    """Points in the bot: what was bought in the sandbox's store (Redeem opens it)."""
    if not view.storefront:
        return ""
    rows = (
        "".join(
            f"<tr><td>{esc(o.order_id)}</td><td>{esc(o.name)}</td><td>{esc(o.item)}</td>"
            f'<td class="num">{esc(o.points)}</td><td class="num">{esc(o.refunded)}</td>'
            f"<td>{esc(STORE_STATUS.get(o.status, o.status))}</td></tr>"
            for o in view.orders
        )
        or '<tr><td colspan="6" class="muted">No orders yet: press Redeem in Slack, then buy a '
        "gift card.</td></tr>"
    )
    return (
        '<h2>Store orders</h2><div class="table-wrap"><table class="grid" id="store-orders">'
        "<thead><tr><th>Order</th><th>Who</th><th>Item</th>"
        '<th class="num">Points</th><th class="num">Refunded</th><th>Status</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )


def _choices(name: str, label: str, choices: Sequence[tuple[str, str]]) -> str:
    rows = "".join(f'<option value="{esc(v)}">{esc(text)}</option>' for v, text in choices)
    return (
        f'<label class="fault-field"><span>{esc(label)}</span>'
        f'<select name="{esc(name)}" class="field">{rows}</select></label>'
    )


def fault_control(active: Sequence[sandbox_control.ActiveFault]) -> str:
    """Make the sandbox misbehave: pick a fault, the calls and how long; what is set now."""
    form = (
        '<form id="fault-form" class="fault-form" aria-label="Make Xoxoday misbehave">'
        + _choices("fault", "What happens", [(p.name, p.label) for p in sandbox_control.PRESETS])
        + _choices("target", "To", list(sandbox_control.TARGETS.items()))
        + _choices("times", "For", list(sandbox_control.TIMES.items()))
        + '<button type="submit" class="btn btn-primary">Apply</button></form>'
    )
    if active:
        rows = "".join(
            f'<li class="fault"><span><strong>{esc(f.calls)}</strong>: {esc(f.what)} · '
            f"{esc(f.until)}</span>"
            f'<button type="button" class="btn" data-clear-fault="{esc(",".join(f.operations))}" '
            f'aria-label="Clear {esc(f.what)} on {esc(f.calls.lower())}">Clear</button></li>'
            for f in active
        )
        now = (
            f'<ul class="faults" id="sandbox-faults">{rows}</ul>'
            '<button type="button" class="btn" data-clear-fault="">Clear all</button>'
        )
    else:
        now = (
            '<p class="muted" id="sandbox-faults">No faults: the sandbox answers every call '
            "as Xoxoday would on a good day.</p>"
        )
    return (
        '<h2>Make Xoxoday misbehave</h2><p class="muted">The bot meets the fault on its next '
        "calls to the sandbox: try a lost answer, then <code>/reward</code>, to see a reward in "
        "doubt (admins settle it from their DM); or make it unreachable, to see rewards wait "
        "and go once when you clear it.</p>"
        f"{form}<h3>Now</h3>{now}"
    )


def _tx_status(tx: Mapping[str, Any]) -> str:
    if tx.get("cancelled"):
        return "cancelled"
    if tx.get("redeemed_points"):
        return f"{int(tx['redeemed_points']):,} redeemed"
    return "available" if tx.get("available") else "expired"


@dataclass(frozen=True, slots=True)
class ClockView:
    now: datetime  # in REWARD_TIMEZONE
    ahead: timedelta  # of the real clock
    jumps: Sequence[Jump]


def _ahead(ahead: timedelta) -> str:
    if ahead < timedelta(minutes=1):
        return "the real time"
    days, rest = divmod(round(ahead.total_seconds() / 60) * 60, 86400)  # to the minute
    hours, minutes = rest // 3600, rest % 3600 // 60
    parts = [f"{days} day{'s' if days != 1 else ''}"] if days else []
    if hours or (minutes and not days):
        parts.append(f"{hours} h" if not minutes or days else f"{hours} h {minutes} min")
    return " ".join(parts or ["under a minute"]) + " ahead of the real clock"


def clock_section(view: ClockView, last_jump: Sequence[str]) -> str:
    """The playground's time and where it can jump; what the last jump ran."""
    buttons = []
    for jump in view.jumps:
        if jump.to is None:
            buttons.append(
                f'<button type="button" class="btn" disabled title="{esc(jump.why_not)}">'
                f'{esc(jump.label)}</button><span class="muted jump-why">{esc(jump.why_not)}</span>'
            )
            continue
        when = jump.to.astimezone(view.now.tzinfo).strftime("%a %d %b %Y %H:%M")
        buttons.append(
            f'<button type="button" class="btn" data-jump="{esc(jump.name)}" '
            f'title="To {esc(when)}">{esc(jump.label)}</button>'
        )
    lines = "".join(f"<li>{esc(line)}</li>" for line in last_jump)
    result = f'<ul class="clock-log" id="clock-log">{lines}</ul>' if lines else ""
    return (
        '<section class="clock" aria-label="Clock"><h2>Clock</h2>'
        f'<p>It is <strong id="clock-now">{esc(view.now.strftime("%a %d %b %Y %H:%M %Z"))}</strong>'
        f' <span class="muted" id="clock-ahead">({esc(_ahead(view.ahead))})</span>.</p>'
        '<p class="muted">Move it forward for the bot, its jobs and the sandbox together; the '
        "jobs that fall due on the way run, as <code>rewardbot serve</code> would run them. It "
        "never goes back (delete the state directory to start again).</p>"
        f'<div class="jumps">{"".join(buttons)}</div>{result}</section>'
    )


def jobs_pane(
    jobs: Sequence[JobInfo] | None,
    results: Mapping[str, str],
    *,
    clock: ClockView,
    last_jump: Sequence[str] = (),
) -> str:
    head = (
        '<header class="pane-head"><h1>⏱ Scheduled jobs</h1><div class="sub">'
        "<code>rewardbot serve</code> runs these on their schedules. Here, run any of them now, "
        "or move the clock and let them fall due."
        "</div></header>"
    )
    if jobs is None:
        return head + '<div class="tool"><p>This build has no jobs registry.</p></div>'
    rows = (
        "".join(
            f'<div class="job" data-job="{esc(job.name)}"><div><strong>{esc(job.name)}</strong>'
            f'<div class="muted">{esc(job.description)}</div>'
            f'<div class="job-result" role="status">{esc(results.get(job.name, ""))}</div></div>'
            f'<button type="button" class="btn" data-run-job="{esc(job.name)}">Run now</button>'
            "</div>"
            for job in jobs
        )
        or '<p class="muted">No jobs are registered.</p>'
    )
    return f'{head}<div class="tool">{clock_section(clock, last_jump)}<h2>Jobs</h2>{rows}</div>'


@dataclass(frozen=True, slots=True)
class Mentionable:
    """Someone the composer's @-autocomplete offers."""

    user_id: str
    handle: str
    name: str


def mention_list(people: Sequence[Mentionable]) -> str:
    """The composer's @-autocomplete: every person, shown as the page's script filters them."""
    rows = "".join(
        f'<li role="option" class="picker-option" data-value="{esc(p.user_id)}" '
        f'data-handle="{esc(p.handle)}" data-search="{esc((p.name + " " + p.handle).lower())}" '
        f'aria-selected="false">'
        f"{avatar(p.user_id, Directory(users={p.user_id: {'real_name': p.name}}))}"
        f'<span class="picker-name">{esc(p.name)}</span> <span class="muted">@{esc(p.handle)}'
        "</span></li>"
        for p in people
    )
    return f'<ul id="mention-list" class="picker-list mentions" role="listbox" hidden>{rows}</ul>'


def composer(screen: Screen, *, placeholder: str, people: Sequence[Mentionable]) -> str:
    shortcuts = "".join(
        f'<button type="button" role="menuitem" data-global-shortcut="{esc(s)}">'
        f"{esc(SHORTCUT_NAMES.get(s, str(s)))}</button>"
        for s in GLOBAL_SHORTCUTS
    )
    return (
        f'<form id="composer" class="composer" data-view="{esc(screen.view)}" autocomplete="off">'
        f'<div class="composer-row">{mention_list(people)}<div class="shortcuts"><button '
        'type="button" class="bolt" id="shortcuts-button" title="Shortcuts" '
        'aria-label="Shortcuts">⚡</button>'
        f'<div class="menu up" role="menu" hidden>{shortcuts}</div></div>'
        f'<input id="composer-input" name="text" aria-label="Message" role="combobox" '
        'aria-autocomplete="list" aria-controls="mention-list" aria-expanded="false" '
        f'placeholder="{esc(placeholder)}">'
        '<button type="submit" class="btn btn-primary">Send</button></div>'
        '<div class="composer-help">Try <code>/reward help</code>. Type <code>@</code> to '
        "mention someone.</div></form>"
    )

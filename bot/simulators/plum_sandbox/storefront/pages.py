"""The store's HTML: plain pages and forms, no JavaScript. Every value is escaped."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from html import escape

from bot.simulators.plum_sandbox.storefront.book import StoreOrder
from bot.simulators.plum_sandbox.storefront.offers import Offer, points_text

STYLE = """
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d1d1f;
background:#f5f5f7}
header{background:#3b2a8f;color:#fff;padding:14px 24px;display:flex;align-items:center;
justify-content:space-between}
header b{font-size:17px}header a{color:#fff;margin-left:16px;text-decoration:none}
main{max-width:880px;margin:24px auto;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:24px 0 8px}
.muted{color:#6e6e73}.points{font-size:28px;font-weight:600}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:14px}
.card{background:#fff;border-radius:10px;padding:14px;box-shadow:0 1px 2px #0001}
.card h3{font-size:15px;margin:0 0 6px}.price{font-weight:600;margin:8px 0}
button{background:#3b2a8f;color:#fff;border:0;border-radius:6px;padding:7px 14px;
font:inherit;cursor:pointer}
.notice{border-radius:8px;padding:10px 14px;margin:12px 0}
.ok{background:#e3f6e8;color:#14532d}.bad{background:#fde8e8;color:#7f1d1d}
table{width:100%;border-collapse:collapse;background:#fff;border-radius:10px;overflow:hidden}
th,td{padding:8px 10px;text-align:left;border-bottom:1px solid #eee}th{background:#fafafa}
input{font:inherit;padding:5px 8px;border:1px solid #ccc;border-radius:6px}
label{display:block;margin:8px 0 4px}footer{color:#86868b;font-size:12px;margin:32px 0}
"""

STATUS_WORDS = {"placed": "Placed", "refused": "Refused", "no answer": "No answer"}


def page(title: str, body: str, *, home: str | None = None) -> str:
    nav = ""
    if home is not None:
        link = escape(home)
        nav = f'<nav><a href="{link}">Store</a><a href="{link}/orders">My orders</a></nav>'
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · Xoxoday store (sandbox)</title><style>{STYLE}</style></head>"
        f"<body><header><b>Xoxoday store</b>{nav}</header><main>{body}"
        "<footer>Plum sandbox: nothing here is real; points are the company's own.</footer>"
        "</main></body></html>"
    )


def notice(text: str, *, ok: bool) -> str:
    return f'<p class="notice {"ok" if ok else "bad"}">{escape(text)}</p>'


def message(title: str, text: str, *, home: str | None = None) -> str:
    return page(title, f"<h1>{escape(title)}</h1><p>{escape(text)}</p>", home=home)


def store(
    *,
    home: str,
    name: str,
    points: Decimal | None,
    offers: Iterable[Offer],
    problem: str | None = None,
) -> str:
    shown = "—" if points is None else points_text(points)
    parts = [
        f"<h1>Hello, {escape(name)}</h1>",
        f'<p class="muted">Points available</p><p class="points">{escape(shown)}</p>',
    ]
    if problem:
        parts.append(notice(problem, ok=False))
    parts.append('<h2>Gift cards</h2><div class="grid">')
    for item in offers:
        short = points is not None and item.points > points
        parts.append(
            '<div class="card">'
            f"<h3>{escape(item.name)}</h3>"
            f'<div class="muted">{escape(points_text(item.value))} {escape(item.product.currency)}'
            f" gift card</div>"
            f'<div class="price">{escape(points_text(item.points))} points</div>'
            f'<form method="post" action="{escape(home)}/buy">'
            f'<input type="hidden" name="offer" value="{escape(item.offer_id)}">'
            "<button>Buy</button>"
            + (' <span class="muted">more than you have</span>' if short else "")
            + "</form></div>"
        )
    parts.append("</div>")
    return page("Store", "".join(parts), home=home)


def orders(*, home: str, name: str, items: Iterable[StoreOrder]) -> str:
    rows = [
        "<tr>"
        f'<td><a href="{escape(home)}/orders/{escape(o.order_id)}">{escape(o.order_id)}</a></td>'
        f"<td>{escape(_when(o.at))}</td><td>{escape(o.product_name)}</td>"
        f"<td>{escape(points_text(o.points))}</td><td>{escape(points_text(o.refunded))}</td>"
        f"<td>{escape(STATUS_WORDS.get(o.status, o.status))}</td></tr>"
        for o in sorted(items, key=lambda o: o.at, reverse=True)
    ]
    table = (
        "<table><tr><th>Order</th><th>When (UTC)</th><th>Item</th><th>Points</th>"
        f"<th>Refunded</th><th>Status</th></tr>{''.join(rows)}</table>"
        if rows
        else '<p class="muted">No orders yet.</p>'
    )
    heading = f'<h1>Your orders</h1><p class="muted">{escape(name)}</p>'
    return page("My orders", heading + table, home=home)


def order(*, home: str, item: StoreOrder, said: str | None = None, said_ok: bool = True) -> str:
    parts = [f"<h1>Order {escape(item.order_id)}</h1>"]
    if said:
        parts.append(notice(said, ok=said_ok))
    status = STATUS_WORDS.get(item.status, item.status)
    parts.append(
        "<table>"
        f"<tr><th>Item</th><td>{escape(item.product_name)}</td></tr>"
        f"<tr><th>Points</th><td>{escape(points_text(item.points))}</td></tr>"
        f"<tr><th>When (UTC)</th><td>{escape(_when(item.at))}</td></tr>"
        f"<tr><th>Status</th><td>{escape(status)}</td></tr>"
        f"<tr><th>The company said</th><td>{escape(item.message)}</td></tr>"
        + (
            f"<tr><th>Points left after</th><td>{escape(item.balance_after)}</td></tr>"
            if item.balance_after is not None
            else ""
        )
        + f"<tr><th>Refunded</th><td>{escape(points_text(item.refunded))}</td></tr>"
        "</table>"
    )
    if item.refunds:
        parts.append("<h2>Refunds</h2><table><tr><th>When (UTC)</th><th>Points</th>")
        parts.append("<th>Outcome</th><th>The company said</th></tr>")
        for r in item.refunds:
            parts.append(
                f"<tr><td>{escape(_when(r.at))}</td><td>{escape(points_text(r.amount))}</td>"
                f"<td>{escape(r.status)}</td><td>{escape(r.message)}</td></tr>"
            )
        parts.append("</table>")
    if item.refundable > 0:
        left = points_text(item.refundable)
        parts.append(
            "<h2>Xoxoday admin: refund</h2>"
            f'<form method="post" action="{escape(home)}/orders/{escape(item.order_id)}/refund"'
            ' class="card">'
            f'<label for="amount">Points to refund (up to {escape(left)})</label>'
            f'<input id="amount" name="amount" value="{escape(left)}" inputmode="decimal">'
            '<label for="comments">Comments</label>'
            '<input id="comments" name="comments" value="Refund from the sandbox store">'
            " <button>Refund</button></form>"
        )
    return page(f"Order {item.order_id}", "".join(parts), home=home)


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")

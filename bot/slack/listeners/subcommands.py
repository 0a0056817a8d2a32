"""The subcommands of `/reward`, one declaration each: its name (and aliases), its grammar, who
may run it, its lines in `/reward help`, and its handlers.

`SUBCOMMANDS` is the one place `/reward` learns them from. `reward_command` reads a command
through it (`Registry.read`): the subcommand the first word names; for an admin-only one and
anybody else, "Only admins can …" before the arguments are read (a member learns they can't,
not how to type it); else the command its grammar reads (a lone word close to a name gets a
suggestion). Then `answer` may answer in the ack (a quick read, a refusal known at once: it
returns the payload, or None when the work must follow) and `run` is the work after the ack.
`/reward help` is the subcommands' lines, in their sections.

Adding a subcommand: its typed command (`bot.rewards.commands`) and grammar
(`bot.rewards.subcommands`), its service in `bot/rewards/`, its handler in a listener module,
and one `Subcommand(…)` in `DECLARED` below. Services check roles too (the domain's rule);
the Slack side checks them here only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from slack_bolt import Respond

from bot.rewards.admin import only_admins
from bot.rewards.commands import (
    DATE_FORMAT,
    Command,
    ListLocks,
    ListOrders,
    LockGiver,
    OrdersReport,
    ShowHelp,
)
from bot.rewards.directory import role_for
from bot.rewards.gifts import company_sender
from bot.rewards.help import (
    ADMIN_READER,
    ADMINS,
    GIFTS,
    GIFTS_FROM_COMPANY,
    GIFTS_WITH_POINTS,
    STANDING,
    Reader,
    Section,
    help_text,
)
from bot.rewards.parse import parse_command, subcommand_word
from bot.rewards.refusal import Refusal
from bot.rewards.states import Role
from bot.rewards.subcommands import (
    Grammar,
    parse_adjust,
    parse_allowance,
    parse_allowances,
    parse_approvals,
    parse_balance,
    parse_bulk,
    parse_campaigns,
    parse_cancel,
    parse_celebrations,
    parse_donate,
    parse_gift,
    parse_help,
    parse_history,
    parse_leaderboard,
    parse_link,
    parse_links,
    parse_lock,
    parse_locks,
    parse_manager,
    parse_managers,
    parse_orders,
    parse_unlock,
)
from bot.settings import Settings
from bot.slack.blocks.common import text_only
from bot.slack.listeners import (
    adjustments,
    approvals,
    balance,
    budgets,
    bulk,
    cancel,
    celebrations,
    gifts,
    links,
    lists,
    managers,
    orders,
    trust,
)

if TYPE_CHECKING:
    from bot.runtime import Runtime

C = TypeVar("C")
Payload = dict[str, Any]
# (runtime, the parsed command, Slack's command payload): the answer in the ack, or None.
Answer = Callable[["Runtime", C, dict[str, Any]], Payload | None]
# (runtime, the parsed command, Slack's command payload, respond): the work after the ack.
Run = Callable[["Runtime", C, dict[str, Any], Respond], None]


@dataclass(frozen=True, kw_only=True)  # no slots: `Subcommand[…](…)` must work at run time
class Subcommand(Generic[C]):
    """`/reward <name> …`: everything about one subcommand. `C` is the command its grammar
    reads, which its handlers take (mypy checks they agree)."""

    name: str  # one lowercase word
    grammar: Grammar[C]  # the text after the name → C, or a Refusal saying how to type it
    help: tuple[str, ...]  # its lines in `/reward help` (mrkdwn, without the bullet)
    section: Section | None = None  # where the lines go
    admin: str | None = None  # admins only: what they do, for "Only admins can {admin}."
    aliases: tuple[str, ...] = ()
    answer: Answer[C] | None = None  # in the ack: the answer, or None when the work follows
    run: Run[C] | None = None  # after the ack

    @property
    def words(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def refusal(self, settings: Settings, user_id: str) -> Refusal | None:
        """For an admin-only subcommand and anybody else, "Only admins can …"; else None."""
        return only_admins(settings, user_id, doing=self.admin) if self.admin else None


class Registry:
    """The subcommands, by the words that name them. Refuses, when built, a word named twice,
    a name that is not one lowercase word, help lines without a section, and a subcommand with
    nothing to do."""

    def __init__(self, subcommands: Iterable[Subcommand[Any]]) -> None:
        self._all = tuple(subcommands)
        self._by_word: dict[str, Subcommand[Any]] = {}
        for sub in self._all:
            for word in sub.words:
                if word.split() != [word] or word != word.lower():
                    raise ValueError(f"/reward {word!r}: name it with one lowercase word")
                if word in self._by_word:
                    raise ValueError(f"/reward {word}: named twice")
                self._by_word[word] = sub
            if sub.help and sub.section is None:
                raise ValueError(f"/reward {sub.name}: its help lines need a section")
            if sub.answer is None and sub.run is None:
                raise ValueError(f"/reward {sub.name}: neither answers nor runs")
        self.grammars: Mapping[str, Grammar[Command]] = {
            word: sub.grammar for word, sub in self._by_word.items()
        }

    def __iter__(self) -> Iterator[Subcommand[Any]]:
        return iter(self._all)

    def named(self, text: str | None) -> Subcommand[Any] | None:
        """The subcommand the text's first word names (None: giving, or the empty command)."""
        return self._by_word.get(subcommand_word(text))

    def parse(self, text: str | None, *, today: date | None = None) -> Command | Refusal:
        """The command the text says, or what was wrong (no role is checked: see `read`);
        `today` as for `parse_command`."""
        return parse_command(text, subcommands=self.grammars, today=today)

    def read(
        self, text: str | None, *, settings: Settings, user_id: str
    ) -> tuple[Subcommand[Any] | None, Command | Refusal]:
        """The subcommand named (None: giving or the empty command) and the command, or a
        refusal: by role first, for an admin-only subcommand and anybody else, then by its
        grammar."""
        named = self.named(text)
        refused = named.refusal(settings, user_id) if named else None
        return named, (self.parse(text) if refused is None else refused)

    def help_text(self, *, values: Sequence[str] = (), reader: Reader = ADMIN_READER) -> str:
        """`/reward help`: giving, then each subcommand's lines in their sections (for a
        member `reader`, only what they may run)."""
        lines = ((sub.section, line) for sub in self._all if sub.section for line in sub.help)
        return help_text(lines, values=values, reader=reader)


def reader_of(settings: Settings, user_id: str) -> Reader:
    """How `/reward help` reads for `user_id`: an admin reads it all; a member what a member
    can do, with the gift section when they may send gift cards (from the company account as
    a gift sender, or with their points in the bot)."""
    if role_for(settings, user_id) == Role.ADMIN:
        return ADMIN_READER
    if company_sender(settings, user_id):
        return Reader(admin=False, gifts_note=GIFTS_FROM_COMPANY)
    if settings.storefront:
        return Reader(admin=False, gifts_note=GIFTS_WITH_POINTS)
    return Reader(admin=False, gifts_note=None)


def show_help(runtime: Runtime, parsed: ShowHelp, command: dict[str, Any]) -> Payload:
    """`/reward help`, answered in the ack: what the person asking can do (an admin's has the
    admin part), with the company values when REWARD_VALUES lists them."""
    reader = reader_of(runtime.settings, command["user_id"])
    return text_only(SUBCOMMANDS.help_text(values=runtime.settings.REWARD_VALUES, reader=reader))


# A tuple of its own (not written inside `Registry(…)`), so mypy checks each subcommand's
# handlers against what its grammar reads.
DECLARED = (
    Subcommand(name="help", aliases=("?",), grammar=parse_help, help=(), answer=show_help),
    Subcommand(
        name="balance",
        grammar=parse_balance,
        section=STANDING,
        help=("`/reward balance`  your points, and what you can still give this month",),
        run=balance.show_balance,
    ),
    Subcommand(
        name="history",
        grammar=parse_history,
        section=STANDING,
        help=("`/reward history`  your last 10 rewards, given and received",),
        run=lists.show_history,
    ),
    Subcommand(
        name="leaderboard",
        grammar=parse_leaderboard,
        section=STANDING,
        help=("`/reward leaderboard week` or `month`  top recipients and givers",),
        run=lists.show_leaderboard,
    ),
    Subcommand(
        name="approvals",
        grammar=parse_approvals,
        section=STANDING,
        help=("`/reward approvals`  rewards waiting for your decision",),
        answer=approvals.nothing_waits,
        run=approvals.list_approvals,
    ),
    Subcommand(
        name="celebrations",
        grammar=parse_celebrations,
        section=STANDING,
        help=(
            "`/reward celebrations off` (or `on`)  no birthday or work anniversary points for "
            "you (or back on); `/reward celebrations` shows which (admins: the next 30 days)",
        ),
        run=celebrations.run,
    ),
    Subcommand(
        name="gift",
        grammar=parse_gift,
        section=GIFTS,
        help=("`/reward gift @person`  pick a gift card for them from Xoxoday's catalogue",),
        answer=gifts.may_not_open,
        run=gifts.open_from_command,
    ),
    Subcommand(
        name="donate",
        grammar=parse_donate,
        section=GIFTS,
        help=("`/reward donate [@person]`  donate to a charity in their name (or the team's)",),
        answer=gifts.may_not_open,
        run=gifts.open_from_command,
    ),
    Subcommand(
        name="manager",
        grammar=parse_manager,
        admin="record managers",
        section=ADMINS,
        help=("`/reward manager @member @manager` (or `none`), `/reward managers`",),
        run=managers.set_manager,
    ),
    Subcommand(
        name="managers",
        grammar=parse_managers,
        admin="list managers",
        section=ADMINS,
        help=(),  # on `manager`'s line
        answer=managers.list_managers,
    ),
    Subcommand(
        name="link",
        grammar=parse_link,
        admin="send reward links",
        section=ADMINS,
        help=(f"`/reward link @person campaign-id [{DATE_FORMAT}] [message]`  DM one reward link",),
        run=links.send_link,
    ),
    Subcommand(
        name="links",
        grammar=parse_links,
        admin="make batches of reward links",
        section=ADMINS,
        help=(
            f"`/reward links campaign-id count [{DATE_FORMAT}]`  a batch of links, as a CSV in "
            "your DM",
        ),
        run=links.send_links,
    ),
    Subcommand(
        name="campaigns",
        grammar=parse_campaigns,
        admin="see the reward link campaigns",
        section=ADMINS,
        help=("`/reward campaigns`  the reward link campaigns and their ids",),
        run=links.list_campaigns,
    ),
    Subcommand(
        name="cancel",
        grammar=parse_cancel,
        admin="cancel rewards",
        section=ADMINS,
        help=("`/reward cancel reward-id reason`  withdraw a reward's points",),
        answer=cancel.too_long,
        run=cancel.ask,
    ),
    Subcommand[LockGiver | ListLocks](  # two commands: mypy won't infer their union
        name="lock",
        grammar=parse_lock,
        admin="lock givers",
        section=ADMINS,
        help=(
            "`/reward lock @person [reason]`  pause someone's giving (they can still receive); "
            "`/reward unlock @person`, `/reward locks` (who is locked)",
        ),
        run=trust.lock,
    ),
    Subcommand(
        name="unlock",
        grammar=parse_unlock,
        admin="unlock givers",
        section=ADMINS,
        help=(),  # on `lock`'s line
        run=trust.unlock,
    ),
    Subcommand(
        name="locks",
        grammar=parse_locks,
        admin="see who is locked",
        section=ADMINS,
        help=(),  # on `lock`'s line
        answer=trust.list_locks,
    ),
    Subcommand(
        name="adjust",
        grammar=parse_adjust,
        admin="add or deduct points",
        section=ADMINS,
        help=(
            "`/reward adjust @person -50 reason` (or `+50`)  deduct or add points by hand, "
            "with why (points in the bot; never below zero)",
        ),
        run=adjustments.adjust,
    ),
    Subcommand(
        name="allowance",
        grammar=parse_allowance,
        admin="set allowances",
        section=ADMINS,
        help=(
            "`/reward allowance @design-team 2000` (a user group) or `@maria 500` (a person)  "
            "a monthly allowance instead of the default; `default` removes it; "
            "`/reward allowances` lists them",
        ),
        run=budgets.set_allowance,
    ),
    Subcommand(
        name="allowances",
        grammar=parse_allowances,
        admin="see the allowances",
        section=ADMINS,
        help=(),  # on `allowance`'s line
        answer=budgets.list_allowances,
    ),
    Subcommand(
        name="bulk",
        grammar=parse_bulk,
        admin="send awards from a file",
        section=ADMINS,
        help=(
            "`/reward bulk`  many awards from a CSV file (recipient, points, reason, value): "
            "checked whole, previewed, then sent",
        ),
        run=bulk.open_form,
    ),
    Subcommand[ListOrders | OrdersReport](  # two commands: mypy won't infer their union
        name="orders",
        grammar=parse_orders,
        admin="see the gift card and donation orders",
        section=ADMINS,
        help=(
            "`/reward orders`  the latest gift cards and donations, with their status",
            "`/reward orders report 2026-11-01 2026-11-30` (or `last month`)  Xoxoday's orders "
            "and payments for a period, as CSVs in your DM",
        ),
        run=orders.run,
    ),
)
SUBCOMMANDS = Registry(DECLARED)

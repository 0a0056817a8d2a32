"""`/reward` text → typed command or typed error with the exact words a person sees."""

from __future__ import annotations

import random
from datetime import date

import pytest

from bot.rewards.arguments import parse_amount
from bot.rewards.commands import (
    CITATION_MAX_CHARS,
    CancelReward,
    ErrorCode,
    GenerateLink,
    GenerateLinks,
    GiveReward,
    ListApprovals,
    ListManagers,
    OpenModal,
    SetManager,
    ShowBalance,
    ShowHelp,
    ShowHistory,
    ShowLeaderboard,
)
from bot.rewards.mrkdwn import hashtags, to_plain_text
from bot.rewards.refusal import Refusal
from bot.slack.listeners.subcommands import SUBCOMMANDS

MARIA = "<@U0MARIA|maria>"
SAM = "<@U0SAM|sam>"
TODAY = date(2025, 6, 15)


def give(text: str) -> GiveReward:
    result = SUBCOMMANDS.parse(text)
    assert isinstance(result, GiveReward), result
    return result


def error(text: str) -> Refusal:
    result = SUBCOMMANDS.parse(text, today=TODAY)
    assert isinstance(result, Refusal), result
    return result


# ── valid rewards ────────────────────────────────────────────────────────────────────────

VALID = [
    (
        "mention-amount-citation",
        f"{MARIA} 50 thanks for the demo",
        ("U0MARIA",),
        50,
        "thanks for the demo",
    ),
    ("plain-mention", "<@U0MARIA> 50 thanks", ("U0MARIA",), 50, "thanks"),
    ("enterprise-W-id", "<@W0ENT|ent> 5 ok", ("W0ENT",), 5, "ok"),
    ("plus-sign", f"{MARIA} +100 thanks", ("U0MARIA",), 100, "thanks"),
    ("thousands-comma", f"{MARIA} 1,000 thanks", ("U0MARIA",), 1000, "thanks"),
    ("leading-zeros", f"{MARIA} 007 licence to thank", ("U0MARIA",), 7, "licence to thank"),
    ("amount-first", f"100 {MARIA} {SAM} thanks", ("U0MARIA", "U0SAM"), 100, "thanks"),
    ("amount-between", f"{MARIA} 100 {SAM} thanks", ("U0MARIA", "U0SAM"), 100, "thanks"),
    ("amount-after-all", f"{MARIA} {SAM} 100 thanks", ("U0MARIA", "U0SAM"), 100, "thanks"),
    ("duplicate-collapses", f"{MARIA} <@U0MARIA> 10 x", ("U0MARIA",), 10, "x"),
    (
        "comma-and-connectors",
        f"{MARIA}, {SAM} and <@U0LEE> 20 hi",
        ("U0MARIA", "U0SAM", "U0LEE"),
        20,
        "hi",
    ),
    ("glued-mentions", f"{MARIA},{SAM} 20 hi", ("U0MARIA", "U0SAM"), 20, "hi"),
    ("amount-trailing-colon", f"{MARIA} 50: thanks", ("U0MARIA",), 50, "thanks"),
    ("name-with-space", "<@U0ML|maria lopez> 5 hi", ("U0ML",), 5, "hi"),
    (
        "numbers-in-citation",
        f"{MARIA} 50 thanks for the 2 demos",
        ("U0MARIA",),
        50,
        "thanks for the 2 demos",
    ),
    (
        "ordinal-after-amount",
        f"{MARIA} 50 1st place at the hackathon",
        ("U0MARIA",),
        50,
        "1st place at the hackathon",
    ),
    (
        "mention-in-citation",
        f"{MARIA} 50 helped {SAM} ship",
        ("U0MARIA",),
        50,
        f"helped {SAM} ship",
    ),
    (
        "multiline-citation",
        f"{MARIA} 50 line one\nline two",
        ("U0MARIA",),
        50,
        "line one\nline two",
    ),
    ("and-starts-citation", f"{MARIA} 50 and thanks", ("U0MARIA",), 50, "and thanks"),
]


@pytest.mark.parametrize(
    ("text", "recipients", "amount", "citation"),
    [case[1:] for case in VALID],
    ids=[case[0] for case in VALID],
)
def test_valid_rewards(text: str, recipients: tuple[str, ...], amount: int, citation: str) -> None:
    result = give(text)
    assert result.recipients == recipients
    assert result.amount == amount
    assert result.citation == citation
    assert result.total == amount * len(recipients)


def test_citation_of_exactly_the_limit_is_accepted() -> None:
    assert give(f"{MARIA} 50 " + "x" * CITATION_MAX_CHARS).citation == "x" * 500


def test_citation_limit_counts_what_people_see_not_the_markup() -> None:
    # `<@U0SAM|sam>` shows as `@sam` (4 characters), `&amp;` as `&`.
    citation = "hi " + SAM + " &amp; " + "x" * (CITATION_MAX_CHARS - 10)
    assert len(to_plain_text(citation)) == CITATION_MAX_CHARS
    assert give(f"{MARIA} 5 {citation}").citation == citation
    assert isinstance(SUBCOMMANDS.parse(f"{MARIA} 5 {citation}x"), Refusal)


VALUES = [
    (
        "lowercased-deduplicated",
        "great #TeamWork and #teamwork #Ownership",
        ("teamwork", "ownership"),
    ),
    ("punctuation-ends-tag", "(#kudos), #grit! #team-work.", ("kudos", "grit", "team-work")),
    ("digits-are-not-values", "we're #1 at #2 things", ()),
    ("url-fragment-is-not-a-value", "see <https://x.test/page#anchor|the doc> #docs", ("docs",)),
    ("mid-word-hash-is-not-a-value", "issue#42 C#sharp", ()),
    ("unicode-word", "#café", ("café",)),
]


@pytest.mark.parametrize(
    ("citation", "values"), [c[1:] for c in VALUES], ids=[c[0] for c in VALUES]
)
def test_hashtags_are_company_values(citation: str, values: tuple[str, ...]) -> None:
    assert hashtags(citation) == values
    assert give(f"{MARIA} 5 {citation}").values == values


def test_channel_link_after_amount_is_citation_and_counts_as_allowed_value() -> None:
    # Slack escapes `#kudos` to a channel link when a channel of that name exists.
    result = give(f"{MARIA} 5 <#C0KUDOS|kudos> for the launch #grit")
    assert result.citation == "<#C0KUDOS|kudos> for the launch #grit"
    assert result.values == ("grit",)
    assert result.values_for(["kudos", "grit"]) == ("grit", "kudos")
    assert result.values_for(["grit"]) == ("grit",)


# ── subcommands ──────────────────────────────────────────────────────────────────────────

SUBCOMMAND_CASES = [
    ("empty-opens-modal", "", OpenModal()),
    ("blank-opens-modal", "   \n ", OpenModal()),
    ("help", "help", ShowHelp()),
    ("help-any-case-extra-words", "HELP me please", ShowHelp()),
    ("question-mark", "?", ShowHelp()),
    ("balance", "balance", ShowBalance()),
    ("history", "History", ShowHistory()),
    ("leaderboard-default-month", "leaderboard", ShowLeaderboard(period="month")),
    ("leaderboard-week", "leaderboard week", ShowLeaderboard(period="week")),
    ("leaderboard-monthly", "leaderboard Monthly", ShowLeaderboard(period="month")),
    ("approvals", "approvals", ListApprovals()),
    ("managers", "managers", ListManagers()),
    ("manager", f"manager {MARIA} {SAM}", SetManager(member="U0MARIA", manager="U0SAM")),
    ("manager-none", f"manager {MARIA} none", SetManager(member="U0MARIA", manager=None)),
    ("link", f"link {MARIA} 7890", GenerateLink(recipient="U0MARIA", campaign_id=7890)),
    (
        "link-with-date",
        f"link {MARIA} 7890 31-12-2030",
        GenerateLink(recipient="U0MARIA", campaign_id=7890, expiry=date(2030, 12, 31)),
    ),
    (
        "link-slash-date",
        f"link {MARIA} 7890 1/2/2026",
        GenerateLink(recipient="U0MARIA", campaign_id=7890, expiry=date(2026, 2, 1)),
    ),
    (
        "link-with-date-and-message",
        f"link {MARIA} 7891 15-01-2027 great quarter!  Thanks &amp; well done",
        GenerateLink(
            recipient="U0MARIA",
            campaign_id=7891,
            expiry=date(2027, 1, 15),
            note="great quarter!  Thanks &amp; well done",
        ),
    ),
    (
        "link-with-message-no-date",
        f"link {MARIA} 7891 2 great quarters <@U0SAM>",
        GenerateLink(recipient="U0MARIA", campaign_id=7891, note="2 great quarters <@U0SAM>"),
    ),
    ("links", "links 7890 25", GenerateLinks(campaign_id=7890, count=25)),
    (
        "links-with-date",
        "links 7890 1000 29-02-2028",
        GenerateLinks(campaign_id=7890, count=1000, expiry=date(2028, 2, 29)),
    ),
    (
        "cancel",
        "cancel 4F7Q2K sent to the wrong person",
        CancelReward("4F7Q2K", "sent to the wrong person"),
    ),
    ("cancel-hash-and-backticks", "cancel `#4F7Q2K` oops", CancelReward("4F7Q2K", "oops")),
    ("cancel-newline", "cancel\n4F7Q2K\ntypo", CancelReward("4F7Q2K", "typo")),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in SUBCOMMAND_CASES], ids=[c[0] for c in SUBCOMMAND_CASES]
)
def test_subcommands(text: str, expected: object) -> None:
    assert SUBCOMMANDS.parse(text, today=TODAY) == expected


def test_none_text_opens_modal() -> None:
    assert SUBCOMMANDS.parse(None) == OpenModal()


def test_help_text_shows_grammar_and_examples() -> None:
    help_text = SUBCOMMANDS.help_text()
    assert "`/reward @maria 50 thanks for the demo`" in help_text
    for word in ("balance", "history", "leaderboard", "approvals", "manager", "links", "cancel"):
        assert f"`/reward {word}" in help_text
    assert "500 characters" in help_text
    assert SUBCOMMANDS.help_text(values=()) == help_text
    with_values = SUBCOMMANDS.help_text(values=["teamwork", "grit"])
    assert with_values == help_text + "\n\n*Company values*  `#teamwork`, `#grit`"


# ── bad input: the exact answer ──────────────────────────────────────────────────────────

EXAMPLE = "`/reward @maria 50 thanks for the demo`"

ERRORS = [
    (
        "no-mention",
        "50 thanks for the demo",
        ErrorCode.NO_RECIPIENT,
        f"Who is it for? Mention them like {EXAMPLE}",
    ),
    (
        "no-amount",
        f"{MARIA} thanks for the demo",
        ErrorCode.NO_AMOUNT,
        f"How many points? Put a whole number before your message, like {EXAMPLE}",
    ),
    (
        "abc-as-amount",
        f"{MARIA} abc thanks",
        ErrorCode.NO_AMOUNT,
        f"How many points? Put a whole number before your message, like {EXAMPLE}",
    ),
    (
        "two-amounts",
        f"{MARIA} 100 200 thanks",
        ErrorCode.TWO_AMOUNTS,
        "Give one amount only: I found `100` and `200`. If your message starts with a number, "
        f"put a word in front of it, like {EXAMPLE}",
    ),
    (
        "negative",
        f"{MARIA} -5 thanks",
        ErrorCode.NEGATIVE_AMOUNT,
        "`-5` is below zero: you can only give points, not take them. "
        "Use a whole number above zero, like `50`.",
    ),
    (
        "zero",
        f"{MARIA} 0 thanks",
        ErrorCode.ZERO_AMOUNT,
        "A reward needs at least 1 point. Give a whole number above zero, like `50`.",
    ),
    (
        "scientific",
        f"{MARIA} 1e9 thanks",
        ErrorCode.NOT_A_NUMBER,
        "`1e9` isn't a number of points. Write the amount in plain digits, like `50`.",
    ),
    (
        "fraction",
        f"{MARIA} 1.5 thanks",
        ErrorCode.FRACTIONAL_AMOUNT,
        "Points are whole numbers, so `1.5` won't work. Use digits only, like `50`.",
    ),
    (
        "overflow",
        f"{MARIA} 10000000000000000000 thanks",
        ErrorCode.AMOUNT_TOO_BIG,
        "`10000000000000000000` is far too many points. Use a smaller whole number, like `50`.",
    ),
    (
        "citation-501",
        f"{MARIA} 50 " + "x" * 501,
        ErrorCode.CITATION_TOO_LONG,
        "Your message is 501 characters long and the limit is 500. "
        "Please shorten it by 1 and try again.",
    ),
    (
        "missing-citation",
        f"{MARIA} 50",
        ErrorCode.NO_CITATION,
        f"Say what it's for: add a few words after the amount, like {EXAMPLE}",
    ),
    (
        "bare-at-name",
        "@maria 50 thanks",
        ErrorCode.UNESCAPED_MENTION,
        "I can't tell who `@maria` is. Pick the person from the list that pops up as you type "
        "`@`, so Slack turns the name into a mention. (Still stuck? An admin needs to switch on "
        "*Escape channels, users, and links* for the `/reward` command.)",
    ),
    (
        "at-channel",
        "<!channel> 50 thanks",
        ErrorCode.BROADCAST_RECIPIENT,
        "Rewards go to people, not to `@channel`. Mention each person, like "
        "`/reward @maria @sam 50 thanks for the demo`",
    ),
    (
        "channel-link",
        "<#C0GEN|general> 50 thanks",
        ErrorCode.CHANNEL_RECIPIENT,
        "`#general` is a channel, not a person. Mention each person you want to reward, like "
        f"{EXAMPLE}",
    ),
    (
        "typo-subcommand",
        "balanse",
        ErrorCode.UNKNOWN_SUBCOMMAND,
        "I don't know `/reward balanse`. Did you mean `/reward balance`? "
        "Type `/reward help` to see everything I can do.",
    ),
]


@pytest.mark.parametrize(
    ("text", "code", "message"), [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS]
)
def test_bad_input_gets_a_specific_answer(text: str, code: ErrorCode, message: str) -> None:
    result = error(text)
    assert result.code is code
    assert result.text == message


CODES = [
    ("here", "<!here> 5 x", ErrorCode.BROADCAST_RECIPIENT),
    ("here-labelled", "<!here|@here> 5 x", ErrorCode.BROADCAST_RECIPIENT),
    ("everyone", "<!everyone> 5 x", ErrorCode.BROADCAST_RECIPIENT),
    ("bare-at-here", "@here 5 x", ErrorCode.BROADCAST_RECIPIENT),
    ("user-group-mangled-id", f"<!subteam^S{'0' * 30}|@eng> 5 x", ErrorCode.GROUP_RECIPIENT),
    ("bare-second-recipient", f"{MARIA} 5 @sam thanks", ErrorCode.UNESCAPED_MENTION),
    ("bare-after-mention", f"{MARIA} @sam 5 thanks", ErrorCode.UNESCAPED_MENTION),
    ("unicode-minus", f"{MARIA} \u22125 x", ErrorCode.NEGATIVE_AMOUNT),
    ("negative-fraction", f"{MARIA} -1.5 x", ErrorCode.NEGATIVE_AMOUNT),
    ("minus-zero", f"{MARIA} -0 x", ErrorCode.ZERO_AMOUNT),
    ("zeros", f"{MARIA} 000 x", ErrorCode.ZERO_AMOUNT),
    ("suffix", f"{MARIA} 100pts x", ErrorCode.NOT_A_NUMBER),
    ("european-decimal", f"{MARIA} 1,5 x", ErrorCode.FRACTIONAL_AMOUNT),
    ("huge-5000-digits", f"{MARIA} {'9' * 5000} x", ErrorCode.AMOUNT_TOO_BIG),
    ("only-mention", MARIA, ErrorCode.NO_AMOUNT),
    ("only-amount", "50", ErrorCode.NO_RECIPIENT),
    ("word-then-mention", f"thanks {MARIA} 50", ErrorCode.NO_RECIPIENT),
    ("amount-after-citation-word", f"{MARIA} thanks 50", ErrorCode.NO_AMOUNT),
    ("two-amounts-one-bad", f"{MARIA} 100 -5 x", ErrorCode.TWO_AMOUNTS),
    ("balance-extra", "balance now", ErrorCode.EXTRA_ARGUMENT),
    ("leaderboard-year", "leaderboard year", ErrorCode.BAD_PERIOD),
    ("manager-one", f"manager {MARIA}", ErrorCode.MISSING_ARGUMENT),
    ("manager-self", f"manager {MARIA} <@U0MARIA>", ErrorCode.SAME_PERSON),
    ("manager-bare", f"manager @maria {SAM}", ErrorCode.UNESCAPED_MENTION),
    ("manager-three", f"manager {MARIA} {SAM} <@U0LEE>", ErrorCode.EXTRA_ARGUMENT),
    ("link-nobody", "link", ErrorCode.MISSING_ARGUMENT),
    ("link-channel", "link <!channel> 7890", ErrorCode.BROADCAST_RECIPIENT),
    ("link-no-campaign", f"link {MARIA}", ErrorCode.MISSING_ARGUMENT),
    ("link-bad-campaign", f"link {MARIA} abc", ErrorCode.BAD_CAMPAIGN),
    ("link-zero-campaign", f"link {MARIA} 0", ErrorCode.BAD_CAMPAIGN),
    ("link-feb-30", f"link {MARIA} 7890 30-02-2030", ErrorCode.BAD_DATE),
    ("link-iso-date", f"link {MARIA} 7890 2030-12-31", ErrorCode.BAD_DATE),
    ("link-past-date", f"link {MARIA} 7890 01-01-2020", ErrorCode.PAST_DATE),
    ("link-today", f"link {MARIA} 7890 15-06-2025", ErrorCode.PAST_DATE),
    ("link-bad-date-before-message", f"link {MARIA} 7890 31-13-2030 hi", ErrorCode.BAD_DATE),
    ("link-message-too-long", f"link {MARIA} 7890 {'x' * 501}", ErrorCode.REASON_TOO_LONG),
    ("links-no-count", "links 7890", ErrorCode.MISSING_ARGUMENT),
    ("links-zero", "links 7890 0", ErrorCode.BAD_COUNT),
    ("links-too-many", "links 7890 1001", ErrorCode.BAD_COUNT),
    ("links-huge", "links 7890 99999999999999999999999", ErrorCode.BAD_COUNT),
    ("links-bad-campaign", "links x1 5", ErrorCode.BAD_CAMPAIGN),
    ("cancel-nothing", "cancel", ErrorCode.MISSING_ARGUMENT),
    ("cancel-no-reason", "cancel 4F7Q2K", ErrorCode.NO_REASON),
    ("cancel-bad-id", "cancel !!! reason", ErrorCode.BAD_REWARD_ID),
    ("cancel-reason-501", "cancel 4F7Q2K " + "r" * 501, ErrorCode.REASON_TOO_LONG),
]


@pytest.mark.parametrize(("text", "code"), [c[1:] for c in CODES], ids=[c[0] for c in CODES])
def test_bad_input_codes(text: str, code: ErrorCode) -> None:
    result = error(text)
    assert result.code is code
    assert result.text  # every error has words for the person
    assert "Traceback" not in result.text


def test_past_link_date_says_which_date_and_what_to_do() -> None:
    result = error(f"link {MARIA} 7890 01-01-2020")
    assert result.text == (
        "The expiry date `01-01-2020` has to be after today. Pick a later date (DD-MM-YYYY)."
    )


def test_link_dates_are_not_checked_against_today_without_one() -> None:
    assert SUBCOMMANDS.parse(f"link {MARIA} 7890 01-01-2020") == GenerateLink(
        recipient="U0MARIA", campaign_id=7890, expiry=date(2020, 1, 1)
    )


def test_long_junk_is_shortened_in_the_answer() -> None:
    result = error(f"{MARIA} {'9' * 5000} x")
    assert len(result.text) < 200


AMOUNTS = [
    ("plain", "50", 50),
    ("plus", "+7", 7),
    ("thousands", "12,345", 12345),
    ("eighteen-digits", "9" * 18, 10**18 - 1),
    ("spaces", "  42 ", 42),
    ("arabic-indic-digits", "١٢", 12),
]


@pytest.mark.parametrize(("text", "value"), [c[1:] for c in AMOUNTS], ids=[c[0] for c in AMOUNTS])
def test_parse_amount_for_the_modal(text: str, value: int) -> None:
    assert parse_amount(text) == value


@pytest.mark.parametrize("text", ["", "abc", "12,34", "1e3", "0x10", "+", "-"], ids=repr)
def test_parse_amount_refuses_without_raising(text: str) -> None:
    assert isinstance(parse_amount(text), Refusal)


def test_parser_never_raises_on_mixed_up_input() -> None:
    pieces = [
        *(MARIA, "<@W2>", "<!here>", "<!subteam^S1|@x>", "<#C1|kudos>", "<#C2>", "@bob"),
        *("100", "+5", "-5", "0", "1e9", "1.5", "1,000", "9" * 40, "٣", "²", "abc", "#val"),
        *("&amp;", "and", "<", "<>", "<@", "|", ">", "`", "#", "\n", "<https://x|y>", "x" * 300),
        *("help", "link", "links", "cancel", "manager", "none", "leaderboard", "week"),
        *("31-12-2030", "99-99-9999", "balance"),
    ]
    rnd = random.Random(4)
    kinds: set[str] = set()
    for _ in range(3000):
        text = " ".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 8)))
        result = SUBCOMMANDS.parse(text, today=TODAY)
        kinds.add(type(result).__name__)
        if isinstance(result, Refusal):
            assert result.text and len(result.text) < 400, text
    assert {"GiveReward", "Refusal", "CancelReward", "ShowHelp"} <= kinds

"""Fixtures: a started FakeSlack with the demo workspace and a real slack_sdk WebClient on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from bot.simulators.fakeslack import FakeSlack

TOKEN = "xoxb-fake"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(bot_token=TOKEN) as running:
        yield running


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(base_url=fake.api_url, token=TOKEN, timeout=5)

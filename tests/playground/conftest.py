"""Fixtures for the playground: a fresh playground per test on a loopback port, and Debian's
Chromium driven by Playwright (never a downloaded browser).

Browser tests skip, saying why, when /usr/bin/chromium or Playwright is missing, unless
REWARDBOT_REQUIRE_BROWSER is set (CI): then they fail. A failing browser test leaves a
screenshot of its page in test-artifacts/.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.simulators.playground.server import Playground
from tests.playground.browser import CHROMIUM, CHROMIUM_ARGS, SlackPage

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"


def _required() -> bool:
    return os.environ.get("REWARDBOT_REQUIRE_BROWSER", "") not in ("", "0", "false", "no")


def _missing_browser() -> str | None:
    if not Path(CHROMIUM).is_file():
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright)"
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


# Module scope: Playwright's sync API runs an event loop on this thread while it is open, so it
# must be closed before other test packages (which use asyncio.run) run.
@pytest.fixture(scope="module")
def browser_context() -> Iterator[Any]:
    problem = _missing_browser()
    if problem:
        if _required():
            pytest.fail(f"REWARDBOT_REQUIRE_BROWSER is set but {problem}")
        pytest.skip(f"no browser for the playground tests: {problem}")
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="rewardbot-chromium-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 800},
        )
        context.set_default_timeout(10_000)
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def playground(tmp_path: Path) -> Iterator[Playground]:
    running = Playground(state_dir=tmp_path / "playground-data", port=0).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def slack(
    request: pytest.FixtureRequest, browser_context: Any, playground: Playground
) -> Iterator[SlackPage]:
    browser_context.clear_cookies()
    page = browser_context.new_page()
    try:
        yield SlackPage(page=page, playground=playground)
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        page.close()

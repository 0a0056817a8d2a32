"""Driving the playground page as a person would: Debian's Chromium through Playwright."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.simulators.playground.server import Playground

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 10_000
NAVIGATION_MS = 30_000  # a page load on a loaded CI machine (three test workers on two CPUs)


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


class SlackPage:
    def __init__(self, *, page: Page, playground: Playground) -> None:
        self.page = page
        self.playground = playground

    # ------------------------------------------------------------------ where
    def open(self, user_id: str, view: str = "C0GENERAL") -> SlackPage:
        self.page.goto(f"{self.playground.url}?as={user_id}&view={view}")
        expect(self.page.locator("#sidebar .nav-item.active")).to_be_attached()
        return self

    def be(self, name: str) -> None:
        """Switch person with the picker in the top bar (stays on the same view)."""
        with self.page.expect_navigation(timeout=NAVIGATION_MS):
            self.page.select_option("#who", label=name)
        expect(self.page.locator("#who option:checked")).to_have_text(name)

    def go(self, label: str) -> None:
        """Click a sidebar entry (a channel, the DM, the Home, a playground tool); in a narrow
        window, open the channel list first (☰)."""
        toggle = self.page.locator("#nav-toggle")
        if toggle.is_visible() and not self.page.locator("#sidebar").is_visible():
            toggle.click()
        with self.page.expect_navigation(timeout=NAVIGATION_MS):
            self.page.locator("#sidebar .nav-item", has_text=label).click()

    # ------------------------------------------------------------------ what people do
    def type(self, text: str) -> None:
        box = self.page.locator("#composer-input")
        box.fill(text)
        box.press("Enter")
        expect(box).to_have_value("", timeout=WAIT_MS)

    def click(self, where: Locator, button: str) -> None:
        where.get_by_role("button", name=button, exact=True).click()

    def pick(self, label: str, search: str, name: str) -> None:
        """In a form's people picker: search, then click the person in the list that drops
        down."""
        field = self.field(label)
        field.locator(".picker-search").fill(search)
        field.get_by_role("option").filter(has_text=name).click()
        expect(self.picked(label)).to_contain_text([name])

    def search(self, label: str, text: str | None = None) -> Locator:
        """In a form's external select: open it (click) or type `text`; the options the bot
        answered drop down (the locator is all of them, for the caller to wait on)."""
        box = self.field(label).locator(".ext-search")
        if text is None:
            box.click()
        else:
            box.fill(text)
        return self.field(label).locator(".ext-list").get_by_role("option")

    def picked(self, label: str) -> Locator:
        """The people a form's people picker shows as picked (its chips)."""
        return self.field(label).locator(".chip")

    def confirm(self, answer: str) -> None:
        dialog = self.page.locator("#dialog .modal")
        expect(dialog).to_be_visible()
        dialog.get_by_role("button", name=answer, exact=True).click()

    # ------------------------------------------------------------------ what people see
    def message(self, text: str) -> Locator:
        """The (last) message in the open conversation that contains `text`, once it shows."""
        found = self.page.locator("#messages .msg", has_text=text).last
        expect(found).to_be_visible(timeout=WAIT_MS)
        return found

    @property
    def modal(self) -> Locator:
        return self.page.locator("#modal form.modal")

    def field(self, label: str) -> Locator:
        """A modal's input block by its label."""
        return self.modal.locator(".b-input", has=self.page.locator(".label", has_text=label))

    def unread(self, label: str) -> Locator:
        return self.page.locator("#sidebar .nav-item", has_text=label).locator(".badge")

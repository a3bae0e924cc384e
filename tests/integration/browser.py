"""The tutor's page driven in headless Chromium (Debian's `chromium`, through Playwright's
`executable_path`: no browser is downloaded), shared by the browser tests over the
single-process app (test_browser.py) and over the deployed graph (test_graph.py)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Locator, Page, sync_playwright

from practice.items import fact_question
from retrieval.structure import learn
from tests.conftest import read_docs

DESKTOP = {"width": 1000, "height": 900}
PHONE = {"width": 375, "height": 740}
# Each answer-text change while the answer is still streaming, recorded in the page: how a test
# sees tokens arrive one after another instead of the whole answer at once.
WATCH_STREAMING = """
window.__streamed = [];
new MutationObserver(() => {
  for (const box of document.querySelectorAll('[data-testid=answer-text][aria-busy=true]')) {
    window.__streamed.push(box.textContent.length);
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def chromium_path() -> str:
    """Debian's Chromium (CHROMIUM overrides). Missing, the browser tests fail and say how to
    install it: CI must not pass by skipping them."""
    wanted = os.environ.get("CHROMIUM", "chromium")
    found = shutil.which(wanted)
    if found is None:
        pytest.fail(
            f"{wanted!r} is not installed: `apt-get install -y chromium` (`make test` does it), "
            "or set CHROMIUM to a Chromium binary"
        )
    return found


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path())
        try:
            yield browser
        finally:
            browser.close()


class TutorPage:
    """One person's tab: its own sessionStorage, the page's errors and dialogs recorded (an
    XSS that ran would show up as one)."""

    def __init__(
        self, browser: Browser, url: str, viewport: dict[str, int] = DESKTOP, timeout_s: float = 10
    ) -> None:
        self.url = url
        self.context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
        self.context.set_default_timeout(timeout_s * 1000)
        self.page: Page = self.context.new_page()
        self.page.add_init_script(WATCH_STREAMING)
        self.problems: list[str] = []
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("console", self._console)
        self.page.on("dialog", self._dialog)

    def _console(self, message: ConsoleMessage) -> None:
        # A refused script or style (the CSP) or an exception is a problem; a failed request
        # is not (the page's first who-am-I asks without a token and gets its 401).
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.problems.append(f"console: {message.text}")

    def _dialog(self, dialog: Dialog) -> None:
        self.problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def open(self) -> TutorPage:
        self.page.goto(self.url + "/")
        return self

    def sign_in(self, token: str) -> TutorPage:
        self.page.get_by_label("Access token").fill(token)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.locator("#who").wait_for()
        return self

    def view(self, name: str) -> None:
        self.page.get_by_role("navigation", name="Views").get_by_role("button", name=name).click()

    def ask(self, question: str, timeout_s: float = 10) -> Locator:
        """Types the question, sends it with Enter, and waits for the answer to end; returns
        this question's turn (not whichever is last when the locator is next used)."""
        turn = self.turns().nth(self.turns().count())
        self.page.get_by_label("Your question").fill(question)
        self.page.get_by_label("Your question").press("Enter")
        finished(turn, timeout_s)
        return turn

    def turns(self) -> Locator:
        return self.page.locator("#turns > li")

    def streamed(self) -> list[int]:
        lengths: list[int] = self.page.evaluate("window.__streamed")
        return lengths

    def evaluate(self, script: str) -> Any:
        return self.page.evaluate(script)

    def screenshot(self, path: str) -> None:
        """The whole page, with the viewport as tall as it (the sticky question box stays at
        the bottom rather than floating over the middle of a full-page capture)."""
        width = self.page.viewport_size["width"] if self.page.viewport_size else 1000
        height = self.page.evaluate("document.documentElement.scrollHeight")
        self.page.set_viewport_size({"width": width, "height": height})
        self.page.screenshot(path=path)

    def close(self) -> None:
        self.context.close()


def finished(turn: Locator, timeout_s: float = 10) -> None:
    done = turn.locator("[data-testid=answer-text][aria-busy=false]")
    done.wait_for(state="attached", timeout=timeout_s * 1000)


def practice_keys(subject: str = "chemistry") -> dict[str, str]:
    """Each field practice question on the subject's entries, with its key: the value the
    entry's passage states (its fields learned as ingest learns them)."""
    docs = read_docs(subject)
    learned = learn((d["id"], d["title"], d["text"]) for d in docs)
    return {
        fact_question(label, d["title"]): value
        for d in docs
        for label, value in learned.facts(d["id"]).fields.items()
    }


def answer_key(question: str) -> str:
    """The key of a practice item on a chemistry element, from the element's own passage."""
    key = practice_keys().get(question)
    if key is None:
        raise AssertionError(f"no element's passage answers {question!r}")
    return key


def answer_practice(form: Locator, answer: str) -> None:
    """Chooses the choice that is `answer`, or types it when the item has no choices."""
    if form.get_by_role("radio").count():
        form.get_by_label(re.compile(rf"\) {re.escape(answer)}$")).check()
    else:
        form.get_by_label("Your answer").fill(answer)
    form.get_by_role("button", name="Check my answer").click()


def texts(locator: Locator) -> list[str]:
    return [re.sub(r"\s+", " ", t).strip() for t in locator.all_inner_texts()]

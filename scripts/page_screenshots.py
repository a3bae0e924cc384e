"""Screenshots of the browser page's main screens for docs/screenshots/, taken in headless
Chromium against the single-process app (tests/fakes/web_app.py) with a throwaway PostgreSQL
database and a scripted model, so that they show what a student and a teacher see.

Usage: PYTHONPATH=. .venv/bin/python scripts/page_screenshots.py [OUT_DIR] [--pg ADMIN_URL]
"""

from __future__ import annotations

import argparse
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from playwright.sync_api import Browser

from models.backend import GenerationChunk, GenerationRequest, LLMBackend, ModelInfo
from tests.fakes.web_app import PacedBackend, WebApp, demo_shards, token
from tests.integration.browser import PHONE, TutorPage, answer_key, answer_practice, chromium

# What the scripted model says to a question (matched in its last message). The potassium
# answer is wrong on purpose: the answer check corrects it, as it would a small model's slip.
ANSWERS = {
    "carbon": "Carbon's atomic number is 6 [1]. That means every carbon atom has 6 protons; "
    "its symbol is C [1].",
    "potassium": "The atomic number of potassium is 20 [1].",
    "noun": "A noun is a word that names a person, place or thing [1].",
    "gold": "Gold's symbol is Au [1], from its Latin name, aurum. Its atomic number is 79 [1].",
    "recursion": "Recursion is when a function calls itself on a smaller part of the problem, "
    "until it reaches a case it can answer directly [1].",
}


class ScriptedTutor(LLMBackend):
    def __init__(self) -> None:
        self.info = ModelInfo(backend="test", model="scripted", version="scripted@1")

    async def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        asked = request.messages[-1].content.lower()
        answer = next((a for k, a in ANSWERS.items() if k in asked), "I do not know.")
        words = re.findall(r"\S+\s*", answer)
        for word in words:
            yield GenerationChunk(word)
        yield GenerationChunk("", "stop", prompt_tokens=10, completion_tokens=len(words))

    async def check(self) -> None:
        return None


@contextmanager
def throwaway_database(admin_url: str) -> Iterator[str]:
    name = f"tutor_shots_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def student_screens(browser: Browser, url: str, out: Path) -> None:
    tab = TutorPage(browser, url).open()
    tab.screenshot(str(out / "sign-in.png"))
    tab.sign_in(token("amina", classes=("7b",)))
    carbon = tab.ask("What is the atomic number of carbon?")
    carbon.get_by_role("button", name="Source 1: carbon").first.click()
    carbon.get_by_role("button", name="Helpful", exact=True).click()
    tab.ask("What is the atomic number of potassium?")
    tab.page.get_by_label("Your question").focus()
    tab.screenshot(str(out / "student-answer.png"))

    tab.page.get_by_role("button", name="New conversation").click()
    quiz = tab.ask("Quiz me on potassium")
    form = quiz.locator("form.practice")
    answer_practice(form, answer_key(form.locator("legend").inner_text()))
    form.get_by_test_id("practice-result").locator("p").first.wait_for()
    tab.screenshot(str(out / "practice-graded.png"))
    tab.close()


def classmate(browser: Browser, url: str) -> None:
    tab = TutorPage(browser, url).open().sign_in(token("bilal", classes=("7b",)))
    tab.ask("What is a noun?").get_by_role("button", name="Not helpful").click()
    tab.ask("What is the atomic number of carbon?")
    tab.close()


def teacher_screen(browser: Browser, url: str, out: Path) -> None:
    tab = TutorPage(browser, url).open().sign_in(token("ms-ade", "teacher", ("7b",)))
    overview = tab.page.locator("#overview")
    deadline = time.monotonic() + 10  # the request log is written off the request path
    while "Rated down" not in overview.inner_text() and time.monotonic() < deadline:
        time.sleep(0.3)
        tab.view("My classes")
    overview.get_by_role("button", name=re.compile("Open the session of amina")).last.click()
    tab.screenshot(str(out / "teacher.png"))
    tab.close()


def phone_screen(browser: Browser, url: str, out: Path) -> None:
    tab = TutorPage(browser, url, viewport=PHONE).open().sign_in(token("chidi", classes=("7b",)))
    turn = tab.ask("What is the symbol of gold?")
    turn.locator("summary").first.click()
    tab.screenshot(str(out / "phone.png"))
    tab.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", nargs="?", default="docs/screenshots", type=Path)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with throwaway_database(args.pg) as database_url:
        app = WebApp(demo_shards(), PacedBackend(ScriptedTutor(), 0.01), database_url).start()
        try:
            with chromium() as browser:
                student_screens(browser, app.url, args.out)
                classmate(browser, app.url)
                teacher_screen(browser, app.url, args.out)
                phone_screen(browser, app.url, args.out)
        finally:
            app.stop()
    print("\n".join(str(p) for p in sorted(args.out.glob("*.png"))))


if __name__ == "__main__":
    main()
